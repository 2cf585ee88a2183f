import dgram from 'node:dgram';
import net from 'node:net';
import * as packet from 'dns-packet';
import type { Answer as Record, Packet, RecordType } from 'dns-packet';
import { answer, type Response } from './answer.ts';
import type { Forwarder } from './forwarder.ts';
import type { DnsMetrics, Family } from './metrics.ts';
import type { Zone } from './zone.ts';

/**
 * DnsServer answers DNS over UDP and TCP (RFC 1035, RFC 7766) from the current zone: EDNS0 (RFC 6891) sizes the
 * UDP reply, a reply that does not fit is truncated with TC set (the client retries over TCP), names outside the
 * cluster go to the forwarder. The wire format is dns-packet's.
 */
export interface DnsServerOptions {
  zone: () => Zone;
  forwarder?: Forwarder;
  metrics?: DnsMetrics;
}

const UDP_MIN = 512;
/** The largest UDP reply we send, whatever the client offers (the DNS flag day 2020 size). */
const UDP_MAX = 1232;
const TCP_IDLE_MS = 10_000;
/** Replies from the zone are kept per exact query (less its ID) until the zone changes, as CoreDNS's cache does. */
const CACHE_ENTRIES = 20_000;
const FLAG_AA = packet.AUTHORITATIVE_ANSWER;
const FLAG_TC = packet.TRUNCATED_RESPONSE;
const FLAG_RD = packet.RECURSION_DESIRED;
const FLAG_RA = packet.RECURSION_AVAILABLE;
const RCODE: { [name: string]: number } = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

export class DnsServer {
  #o: DnsServerOptions;
  #udp: dgram.Socket[] = [];
  #tcp: net.Server[] = [];
  #connections = new Set<net.Socket>();
  #cache = new Map<string, { reply: Buffer; type: string; rcode: string }>();
  #cacheZone: Zone | undefined;

  constructor(options: DnsServerOptions) {
    this.#o = options;
  }

  /** listen binds UDP and TCP on one address and port; port 0 picks a free one (the same for both when possible). */
  async listen(address: string, port: number): Promise<number> {
    const family = net.isIP(address) === 6 ? 'udp6' : 'udp4';
    const udp = dgram.createSocket({ type: family, reuseAddr: false });
    udp.on('message', (msg, rinfo) => {
      void this.handle(msg, 'udp', rinfo.family === 'IPv6' ? '2' : '1').then((reply) => {
        if (reply) udp.send(reply, rinfo.port, rinfo.address);
      });
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, address, () => resolve());
    });
    const bound = udp.address().port;
    const tcp = net.createServer((socket) => this.#serveTcp(socket));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(bound, address, () => resolve());
    });
    this.#udp.push(udp);
    this.#tcp.push(tcp);
    return bound;
  }

  async close(): Promise<void> {
    for (const s of this.#udp) s.close();
    for (const c of this.#connections) c.destroy();
    await Promise.all(this.#tcp.map((s) => new Promise((resolve) => s.close(resolve))));
  }

  /** handle answers one wire-format query; undefined when it cannot even be answered with FORMERR. */
  async handle(msg: Buffer, proto: 'udp' | 'tcp', family: Family): Promise<Buffer | undefined> {
    const started = performance.now();
    const zone = this.#o.zone();
    if (zone !== this.#cacheZone) {
      this.#cache.clear();
      this.#cacheZone = zone;
    }
    // Same bytes after the ID, same transport: same reply (names keep their case, EDNS its size).
    const key = msg.length > 12 ? `${proto}${msg.toString('latin1', 2)}` : '';
    const hit = key ? this.#cache.get(key) : undefined;
    if (hit) {
      const reply = Buffer.allocUnsafe(hit.reply.length);
      hit.reply.copy(reply);
      reply[0] = msg[0]!;
      reply[1] = msg[1]!;
      this.#o.metrics?.request({
        proto,
        family,
        type: hit.type,
        rcode: hit.rcode,
        plugin: 'kubernetes',
        seconds: (performance.now() - started) / 1000,
        requestSize: msg.length,
        responseSize: reply.length,
      });
      return reply;
    }
    let query: Packet;
    try {
      query = packet.decode(msg);
    } catch {
      return msg.length >= 12 ? header(msg, RCODE.FORMERR!) : undefined;
    }
    if (query.type === 'response') return undefined;
    const question = query.questions?.[0];
    const opt = (query.additionals ?? []).find((r) => r.type === 'OPT') as { udpPayloadSize?: number } | undefined;
    const maxSize = proto === 'tcp' ? 65535 : Math.min(UDP_MAX, Math.max(UDP_MIN, opt?.udpPayloadSize ?? UDP_MIN));
    let reply: Buffer;
    let rcode: string;
    let plugin = 'kubernetes';
    if ((query as { opcode?: string }).opcode !== 'QUERY' || !question || query.questions!.length !== 1) {
      rcode = (query as { opcode?: string }).opcode !== 'QUERY' ? 'NOTIMP' : 'FORMERR';
      reply = encode(query, emptyResponse(rcode), opt !== undefined, maxSize);
    } else {
      const response = answer(zone, question.name, question.type);
      if (response.forward) {
        plugin = 'forward';
        const upstream = await this.#o.forwarder?.query(msg);
        if (upstream) {
          reply = proto === 'udp' && upstream.length > maxSize ? truncateForeign(upstream, query) : upstream;
          rcode = rcodeOf(upstream);
        } else {
          rcode = 'SERVFAIL';
          reply = encode(query, emptyResponse('SERVFAIL'), opt !== undefined, maxSize);
        }
      } else {
        if (response.chase) await this.#chase(response, query);
        rcode = response.rcode;
        reply = encode(query, response, opt !== undefined, maxSize);
        if (key && !response.chase && this.#cacheZone === zone) {
          if (this.#cache.size >= CACHE_ENTRIES) this.#cache.clear();
          this.#cache.set(key, { reply, type: question.type, rcode });
        }
      }
    }
    this.#o.metrics?.request({
      proto,
      family,
      type: question?.type ?? 'other',
      rcode,
      plugin,
      seconds: (performance.now() - started) / 1000,
      requestSize: msg.length,
      responseSize: reply.length,
    });
    return reply;
  }

  /** #chase resolves an ExternalName's outside target upstream and appends its answers after the CNAME. */
  async #chase(response: Response, query: Packet): Promise<void> {
    const forwarder = this.#o.forwarder;
    if (!forwarder || !response.chase) return;
    const ask = packet.encode({
      type: 'query',
      id: query.id ?? 0,
      flags: FLAG_RD,
      // The question's own type (ANY included, which dns-packet encodes though its RecordType leaves it out).
      questions: [{ name: response.chase.name, type: response.chase.type as RecordType, class: 'IN' }],
    });
    const upstream = await forwarder.query(ask);
    if (!upstream) return;
    try {
      const decoded = packet.decode(upstream);
      response.answers.push(...((decoded.answers ?? []) as Record[]));
      if ((decoded as { rcode?: string }).rcode === 'NXDOMAIN') response.rcode = 'NXDOMAIN';
    } catch {
      // A reply we cannot read adds nothing: the CNAME alone is still a right answer.
    }
  }

  #serveTcp(socket: net.Socket): void {
    this.#connections.add(socket);
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    socket.on('close', () => this.#connections.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    const family: Family = socket.remoteFamily === 'IPv6' ? '2' : '1';
    socket.on('data', (chunk) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (pending.length < 2 + length) break;
        const msg = pending.subarray(2, 2 + length);
        pending = pending.subarray(2 + length);
        void this.handle(msg, 'tcp', family).then((reply) => {
          if (!reply || socket.destroyed) return;
          const framed = Buffer.allocUnsafe(2 + reply.length);
          framed.writeUInt16BE(reply.length, 0);
          reply.copy(framed, 2);
          socket.write(framed);
        });
      }
    });
  }
}

function emptyResponse(rcode: string): Response {
  return { rcode: rcode as Response['rcode'], authoritative: false, answers: [], authorities: [], additionals: [] };
}

/**
 * encode writes the reply; over UDP, when it is larger than the client can take, it drops the additional section,
 * then as many answers as needed, and sets TC (the answer section is then incomplete: the client retries over TCP).
 */
function encode(query: Packet, response: Response, edns: boolean, maxSize: number): Buffer {
  const question = query.questions?.[0];
  let flags = (query.flags ?? 0) & FLAG_RD;
  flags |= FLAG_RA | (RCODE[response.rcode] ?? 2);
  if (response.authoritative) flags |= FLAG_AA;
  const opt = edns
    ? [{ type: 'OPT', name: '.', udpPayloadSize: Math.min(maxSize, UDP_MAX), flags: 0 } as unknown as Record]
    : [];
  const build = (answers: Record[], authorities: Record[], additionals: Record[], tc: boolean) =>
    packet.encode({
      type: 'response',
      id: query.id ?? 0,
      flags: flags | (tc ? FLAG_TC : 0),
      questions: question ? [question] : [],
      answers,
      authorities,
      additionals: [...additionals, ...opt],
    });
  let out = build(response.answers, response.authorities, response.additionals, false);
  if (out.length <= maxSize) return out;
  out = build(response.answers, response.authorities, [], false);
  if (out.length <= maxSize) return out;
  let keep = response.answers.length;
  do {
    keep--;
    out = build(response.answers.slice(0, Math.max(0, keep)), [], [], true);
  } while (out.length > maxSize && keep > 0);
  return out;
}

/** truncateForeign answers a too-large upstream reply over UDP with its header and question only, TC set. */
function truncateForeign(upstream: Buffer, query: Packet): Buffer {
  let flags = upstream.readUInt16BE(2) & 0x7fff;
  flags |= FLAG_TC;
  return packet.encode({ type: 'response', id: query.id ?? 0, flags, questions: query.questions ?? [] });
}

function header(msg: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  msg.copy(out, 0, 0, 2);
  out.writeUInt16BE(0x8000 | (msg.readUInt16BE(2) & FLAG_RD) | FLAG_RA | rcode, 2);
  return out;
}

function rcodeOf(reply: Buffer): string {
  return Object.keys(RCODE).find((k) => RCODE[k] === (reply[3]! & 0xf)) ?? String(reply[3]! & 0xf);
}
