import type { Answer as Record } from 'dns-packet';
import type { RecordSet, Zone } from './zone.ts';

/**
 * Response is the answer to one question, decided from the zone alone (pure): the sections and rcode of a reply, or
 * `forward` for names the cluster does not own (they go to the node's resolvers), and `chase` when an ExternalName
 * CNAME points outside the cluster (the server resolves the target upstream and appends what it finds).
 */
export interface Response {
  rcode: 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED';
  authoritative: boolean;
  answers: Record[];
  authorities: Record[];
  additionals: Record[];
  forward?: boolean;
  chase?: { name: string; type: string };
}

const MAX_CNAME_CHAIN = 8;
const POD_NAME = /^(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})\.[a-z0-9]([-a-z0-9]*[a-z0-9])?\.pod\.$/;

/** answer resolves one question against the zone, as CoreDNS's kubernetes plugin with `pods insecure` would. */
export function answer(zone: Zone, qname: string, qtype: string): Response {
  const asked = qname.replace(/\.$/, '');
  const name = asked.toLowerCase();
  const domain = zone.domain;
  if (name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa')) {
    const targets = zone.reverse.get(name);
    // Unknown addresses fall through to the forwarder, as kubeadm's Corefile says (`fallthrough in-addr.arpa ip6.arpa`).
    if (!targets) return forward();
    if (qtype !== 'PTR' && qtype !== 'ANY') return { ...empty('NOERROR'), authorities: [] };
    return {
      ...empty('NOERROR'),
      answers: targets.map((t) => ({ name: asked, type: 'PTR', ttl: zone.ttl, class: 'IN', data: t })),
    };
  }
  if (name !== domain && !name.endsWith(`.${domain}`)) return forward();
  const response = empty('NOERROR');
  let owner = name;
  let shown = asked;
  for (let hops = 0; hops <= MAX_CNAME_CHAIN; hops++) {
    const set = zone.names.get(owner) ?? podRecord(zone, owner);
    if (set?.cname && qtype !== 'CNAME') {
      response.answers.push({ name: shown, type: 'CNAME', ttl: zone.ttl, class: 'IN', data: set.cname });
      owner = set.cname;
      shown = set.cname;
      if (owner !== domain && !owner.endsWith(`.${domain}`))
        return { ...response, chase: { name: owner, type: qtype } };
      continue;
    }
    const records = recordsOf(zone, owner, shown, set, qtype);
    response.answers.push(...records);
    if (qtype === 'SRV') response.additionals.push(...targetsOf(zone, records));
    if (records.length > 0) return response;
    // A CNAME chain that ends in a missing name is NXDOMAIN for the last name, as resolvers report it.
    const exists = set !== undefined || zone.existing.has(owner);
    return { ...response, rcode: exists ? 'NOERROR' : 'NXDOMAIN', authorities: [soa(zone)] };
  }
  return { ...empty('SERVFAIL'), authoritative: false };
}

function recordsOf(zone: Zone, owner: string, shown: string, set: RecordSet | undefined, qtype: string): Record[] {
  const ttl = zone.ttl;
  const out: Record[] = [];
  const want = (type: string) => qtype === type || qtype === 'ANY';
  if (owner === zone.domain) {
    if (want('SOA')) out.push({ ...soa(zone), name: shown });
    if (want('NS')) out.push({ name: shown, type: 'NS', ttl, class: 'IN', data: `ns.dns.${zone.domain}` });
  }
  if (!set) return out;
  if (want('A')) for (const ip of set.a ?? []) out.push({ name: shown, type: 'A', ttl, class: 'IN', data: ip });
  if (want('AAAA'))
    for (const ip of set.aaaa ?? []) out.push({ name: shown, type: 'AAAA', ttl, class: 'IN', data: ip });
  if (want('SRV'))
    for (const s of set.srv ?? [])
      out.push({
        name: shown,
        type: 'SRV',
        ttl,
        class: 'IN',
        data: { priority: 0, weight: s.weight, port: s.port, target: s.target },
      });
  if (want('TXT')) for (const t of set.txt ?? []) out.push({ name: shown, type: 'TXT', ttl, class: 'IN', data: t });
  if (want('CNAME') && set.cname) out.push({ name: shown, type: 'CNAME', ttl, class: 'IN', data: set.cname });
  return out;
}

/** targetsOf lists the addresses of SRV targets inside the zone, for the additional section. */
function targetsOf(zone: Zone, srvs: Record[]): Record[] {
  const out: Record[] = [];
  const seen = new Set<string>();
  for (const r of srvs) {
    const target = (r as { data: { target: string } }).data.target;
    if (seen.has(target)) continue;
    seen.add(target);
    const set = zone.names.get(target);
    for (const ip of set?.a ?? []) out.push({ name: target, type: 'A', ttl: zone.ttl, class: 'IN', data: ip });
    for (const ip of set?.aaaa ?? []) out.push({ name: target, type: 'AAAA', ttl: zone.ttl, class: 'IN', data: ip });
  }
  return out;
}

/** podRecord answers `a-b-c-d.<ns>.pod.<domain>` with a-b-c-d as an address, unchecked (`pods insecure`). */
function podRecord(zone: Zone, owner: string): RecordSet | undefined {
  if (!owner.endsWith(`.pod.${zone.domain}`)) return undefined;
  const m = POD_NAME.exec(owner.slice(0, owner.length - zone.domain.length));
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return { a: [octets.join('.')] };
}

/** soa is the zone's SOA record as CoreDNS writes it: TTL and minimum from the zone's TTL (at most 300 s). */
export function soa(zone: Zone): Record {
  return {
    name: zone.domain,
    type: 'SOA',
    ttl: Math.min(zone.ttl, 300),
    class: 'IN',
    data: {
      mname: `ns.dns.${zone.domain}`,
      rname: `hostmaster.${zone.domain}`,
      serial: zone.serial,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: zone.ttl,
    },
  };
}

function empty(rcode: Response['rcode']): Response {
  return { rcode, authoritative: true, answers: [], authorities: [], additionals: [] };
}

function forward(): Response {
  return { ...empty('NOERROR'), authoritative: false, forward: true };
}
