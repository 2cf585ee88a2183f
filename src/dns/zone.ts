import { isIP } from 'node:net';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { keyOf } from '../client/informer.ts';

/**
 * Zone is the cluster's DNS data as the Kubernetes DNS specification (kubernetes/dns, docs/specification.md) lays it
 * out, built from Services and EndpointSlices alone (pure: same objects, same zone). Names are lowercase, without
 * the trailing dot. Lookups (answer.ts) only read it, so a new zone is swapped in whole when objects change.
 */
export interface Zone {
  /** The cluster domain, e.g. `cluster.local`. */
  domain: string;
  ttl: number;
  /** SOA serial: when the data last changed (seconds), as CoreDNS's kubernetes plugin reports it. */
  serial: number;
  /** Records by owner name. */
  names: Map<string, RecordSet>;
  /** Every name that exists (owners and their ancestors inside the zone): others are NXDOMAIN. */
  existing: Set<string>;
  /** PTR targets by reverse name (`4.3.2.1.in-addr.arpa`). */
  reverse: Map<string, string[]>;
}

export interface Srv {
  port: number;
  target: string;
  weight: number;
}

/** RecordSet is what one owner name holds. */
export interface RecordSet {
  a?: string[];
  aaaa?: string[];
  srv?: Srv[];
  cname?: string;
  txt?: string[];
}

export interface ZoneOptions {
  domain: string;
  ttl: number;
  serial: number;
  /** The cluster DNS Service's IP, for `ns.dns.<domain>` (kube-system/kube-dns by default). */
  nameserverIP?: string;
}

/** SCHEMA_VERSION is the specification's version, served as TXT at `dns-version.<domain>`. */
export const SCHEMA_VERSION = '1.1.0';

/** buildZone computes the zone for a set of Services and EndpointSlices. */
export function buildZone(services: readonly Service[], slices: readonly EndpointSlice[], options: ZoneOptions): Zone {
  const domain = options.domain.toLowerCase().replace(/\.$/, '');
  const zone: Zone = {
    domain,
    ttl: options.ttl,
    serial: options.serial,
    names: new Map(),
    existing: new Set([domain]),
    reverse: new Map(),
  };
  const slicesByService = new Map<string, EndpointSlice[]>();
  for (const slice of slices) {
    const name = slice.metadata?.labels?.['kubernetes.io/service-name'];
    if (!name) continue;
    const key = `${slice.metadata?.namespace}/${name}`;
    const list = slicesByService.get(key);
    if (list) list.push(slice);
    else slicesByService.set(key, [slice]);
  }
  add(zone, `dns-version.${domain}`, { txt: [SCHEMA_VERSION] });
  let nameserverIP = options.nameserverIP;
  const sorted = [...services].sort((a, b) => compareStrings(keyOf(a), keyOf(b)));
  for (const svc of sorted) {
    if (nameserverIP === undefined && svc.metadata?.namespace === 'kube-system' && svc.metadata?.name === 'kube-dns')
      nameserverIP = clusterIPs(svc)[0];
    addService(zone, svc, slicesByService.get(keyOf(svc)) ?? []);
  }
  if (nameserverIP)
    add(zone, `ns.dns.${domain}`, isIP(nameserverIP) === 6 ? { aaaa: [nameserverIP] } : { a: [nameserverIP] });
  return zone;
}

function addService(zone: Zone, svc: Service, slices: EndpointSlice[]): void {
  const ns = String(svc.metadata?.namespace ?? '').toLowerCase();
  const name = String(svc.metadata?.name ?? '').toLowerCase();
  if (!ns || !name) return;
  const base = `${name}.${ns}.svc.${zone.domain}`;
  const spec = svc.spec ?? {};
  const ports = spec.ports ?? [];
  if (spec.type === 'ExternalName') {
    const target = String(spec.externalName ?? '')
      .toLowerCase()
      .replace(/\.$/, '');
    if (!target) return;
    add(zone, base, { cname: target });
    for (const p of ports)
      if (p.name)
        add(zone, `_${p.name.toLowerCase()}._${(p.protocol ?? 'TCP').toLowerCase()}.${base}`, {
          srv: [{ port: p.port, target, weight: 100 }],
        });
    return;
  }
  const endpoints = readyEndpoints(slices, spec.publishNotReadyAddresses === true);
  // Every endpoint answers by hostname (or its dashed IP) under the Service, and by PTR, as CoreDNS's plugin does.
  for (const ep of endpoints) {
    add(zone, `${ep.hostname}.${base}`, ipRecords([ep.ip]));
    addReverse(zone, ep.ip, `${ep.hostname}.${base}`);
  }
  const ips = clusterIPs(svc);
  if (ips.length > 0) {
    add(zone, base, ipRecords(ips));
    for (const ip of ips) addReverse(zone, ip, base);
    const all: Srv[] = [];
    for (const p of ports) {
      if (!p.name) continue;
      const srv = { port: p.port, target: base, weight: 100 };
      add(zone, `_${p.name.toLowerCase()}._${(p.protocol ?? 'TCP').toLowerCase()}.${base}`, { srv: [srv] });
      all.push(srv);
    }
    if (all.length > 0) add(zone, base, { srv: all.map((s) => ({ ...s, weight: weightOf(all.length) })) });
    else zone.existing.add(base);
    return;
  }
  if (spec.clusterIP !== 'None') return;
  // Headless: the ready endpoints themselves; a Service without any does not exist in DNS (CoreDNS: NXDOMAIN).
  if (endpoints.length === 0) return;
  add(zone, base, ipRecords([...new Set(endpoints.map((e) => e.ip))]));
  const byPort = new Map<string, Srv[]>();
  for (const ep of endpoints) {
    for (const p of ep.ports) {
      if (!p.name) continue;
      const owner = `_${p.name.toLowerCase()}._${(p.protocol ?? 'TCP').toLowerCase()}.${base}`;
      const list = byPort.get(owner) ?? [];
      list.push({ port: p.port, target: `${ep.hostname}.${base}`, weight: 0 });
      byPort.set(owner, list);
    }
  }
  const all: Srv[] = [];
  for (const [owner, list] of byPort) {
    add(zone, owner, { srv: list.map((s) => ({ ...s, weight: weightOf(list.length) })) });
    all.push(...list);
  }
  if (all.length > 0) add(zone, base, { srv: all.map((s) => ({ ...s, weight: weightOf(all.length) })) });
}

interface Endpoint {
  ip: string;
  hostname: string;
  ports: { name?: string; port: number; protocol?: string }[];
}

/** readyEndpoints lists a Service's endpoints that DNS publishes: ready ones, or all with publishNotReadyAddresses. */
function readyEndpoints(slices: EndpointSlice[], publishNotReady: boolean): Endpoint[] {
  const out: Endpoint[] = [];
  const seen = new Set<string>();
  const sorted =
    slices.length > 1
      ? [...slices].sort((a, b) => compareStrings(String(a.metadata?.name), String(b.metadata?.name)))
      : slices;
  for (const slice of sorted) {
    const ports = (slice.ports ?? []).filter((p): p is Endpoint['ports'][number] => typeof p.port === 'number');
    for (const ep of slice.endpoints ?? []) {
      // EndpointSlice v1: an unset ready condition means ready.
      if (!publishNotReady && ep.conditions?.ready === false) continue;
      for (const ip of ep.addresses ?? []) {
        if (!isIP(ip)) continue;
        const hostname = typeof ep.hostname === 'string' && ep.hostname !== '' ? ep.hostname.toLowerCase() : dashed(ip);
        const key = `${hostname}/${ip}/${slice.metadata?.name}`;
        // Duplicates within a slice are dropped; the same address in another slice brings that slice's ports (SRV).
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ ip, hostname, ports });
      }
    }
  }
  return out.length > 1
    ? out.sort((a, b) => (a.ip === b.ip ? compareStrings(a.hostname, b.hostname) : compareIPs(a.ip, b.ip)))
    : out;
}

/** weightOf is CoreDNS's SRV weight: 100 shared equally among the records of one priority, rounded down. */
function weightOf(count: number): number {
  return Math.floor(100 / count);
}

function clusterIPs(svc: Service): string[] {
  const spec = svc.spec ?? {};
  const list: string[] = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  return list.filter((ip) => ip !== 'None' && isIP(ip) !== 0);
}

function ipRecords(ips: string[]): RecordSet {
  const a = ips.filter((ip) => isIP(ip) === 4);
  const aaaa = ips.filter((ip) => isIP(ip) === 6);
  return { ...(a.length ? { a } : {}), ...(aaaa.length ? { aaaa } : {}) };
}

function add(zone: Zone, owner: string, records: RecordSet): void {
  let set = zone.names.get(owner);
  if (set === undefined) {
    // The common case, a new owner: take the records as they are (callers hand over fresh arrays).
    zone.names.set(owner, (set = records));
  } else {
    if (records.a) set.a = appendNew(set.a, records.a);
    if (records.aaaa) set.aaaa = appendNew(set.aaaa, records.aaaa);
    if (records.srv) set.srv = set.srv ? set.srv.concat(records.srv) : records.srv;
    if (records.cname) set.cname = records.cname;
    if (records.txt) set.txt = records.txt;
  }
  // The owner and each ancestor inside the zone exist (empty non-terminals answer NODATA, not NXDOMAIN).
  for (
    let name = owner;
    name.length > zone.domain.length && !zone.existing.has(name);
    name = name.slice(name.indexOf('.') + 1)
  )
    zone.existing.add(name);
}

function appendNew(list: string[] | undefined, more: string[]): string[] {
  if (!list) return more;
  for (const ip of more) if (!list.includes(ip)) list.push(ip);
  return list;
}

function addReverse(zone: Zone, ip: string, target: string): void {
  const owner = reverseName(ip);
  if (!owner) return;
  const list = zone.reverse.get(owner) ?? [];
  if (!list.includes(target)) list.push(target);
  zone.reverse.set(owner, list);
}

/** reverseName is the PTR owner of an IP: `4.3.2.1.in-addr.arpa`, or the nibble form under ip6.arpa. */
export function reverseName(ip: string): string | undefined {
  if (isIP(ip) === 4) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  if (isIP(ip) !== 6) return undefined;
  return `${expandIPv6(ip).replace(/:/g, '').split('').reverse().join('.')}.ip6.arpa`;
}

/** dashed is an IP written as a DNS label, as the specification names endpoints and pods: 10-1-2-3. */
export function dashed(ip: string): string {
  return isIP(ip) === 6 ? expandIPv6(ip).replace(/:/g, '-') : ip.replace(/\./g, '-');
}

function expandIPv6(ip: string): string {
  const [head = '', tail] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail !== undefined ? Array(8 - left.length - right.length).fill('0') : [];
  return [...left, ...fill, ...right].map((g) => g.padStart(4, '0')).join(':');
}

function compareIPs(a: string, b: string): number {
  const key = (ip: string) =>
    isIP(ip) === 4
      ? ip
          .split('.')
          .map((o) => o.padStart(3, '0'))
          .join('.')
      : `~${expandIPv6(ip)}`;
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
