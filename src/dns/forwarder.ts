import dgram from 'node:dgram';
import { isIP } from 'node:net';
import * as dnsPacket from 'dns-packet';

/**
 * Forwarder sends queries for names outside the cluster to the node's resolvers (the `nameserver` lines of a
 * resolv.conf, as CoreDNS's `forward . /etc/resolv.conf`). It fails fast: a connected UDP socket reports an ICMP
 * "port unreachable" at once; an upstream that failed is skipped and health-checked in the background (`. IN NS`,
 * as CoreDNS's forward plugin does) until it answers again; when no upstream is healthy the caller answers SERVFAIL
 * without waiting. `start()` checks every upstream once, so an unreachable one is known before the first query.
 */
export interface ForwarderOptions {
  upstreams: string[];
  /** The upstreams' port (53). */
  port?: number;
  /** How long one upstream gets to answer. */
  timeoutMs?: number;
  /** How long a health check waits, and how often an unhealthy upstream is checked. */
  healthCheckMs?: number;
  onResult?: (to: string, rcode: string | undefined, seconds: number) => void;
}

export class Forwarder {
  readonly upstreams: string[];
  #port: number;
  #timeoutMs: number;
  #healthCheckMs: number;
  #unhealthy = new Set<string>();
  #timers = new Map<string, NodeJS.Timeout>();
  #onResult: ForwarderOptions['onResult'];

  constructor(options: ForwarderOptions) {
    this.upstreams = options.upstreams;
    this.#port = options.port ?? 53;
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#healthCheckMs = options.healthCheckMs ?? 1000;
    this.#onResult = options.onResult;
  }

  /** start health-checks every upstream once. */
  async start(): Promise<void> {
    await Promise.all(
      this.upstreams.map(async (u) => {
        if (!(await this.#healthy(u))) this.#markDown(u);
      }),
    );
  }

  stop(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  /** healthy lists the upstreams queries go to now. */
  healthy(): string[] {
    return this.upstreams.filter((u) => !this.#unhealthy.has(u));
  }

  /** query sends a wire-format query upstream and returns the first answer, or undefined when no upstream answers. */
  async query(packet: Buffer): Promise<Buffer | undefined> {
    for (const upstream of this.healthy()) {
      const started = performance.now();
      const reply = await this.#ask(upstream, packet).catch(() => undefined);
      const seconds = (performance.now() - started) / 1000;
      if (reply && reply.length >= 12 && reply.readUInt16BE(0) === packet.readUInt16BE(0)) {
        this.#onResult?.(`${upstream}:${this.#port}`, rcodeName(reply[3]! & 0xf), seconds);
        return reply;
      }
      this.#onResult?.(`${upstream}:${this.#port}`, undefined, seconds);
      this.#markDown(upstream);
    }
    return undefined;
  }

  /** #markDown takes an upstream out of use and checks it in the background until it answers. */
  #markDown(upstream: string): void {
    this.#unhealthy.add(upstream);
    if (this.#timers.has(upstream)) return;
    const check = () => {
      void this.#healthy(upstream).then((ok) => {
        if (ok) {
          this.#unhealthy.delete(upstream);
          this.#timers.delete(upstream);
        } else {
          this.#timers.set(upstream, setTimeout(check, this.#healthCheckMs).unref());
        }
      });
    };
    this.#timers.set(upstream, setTimeout(check, this.#healthCheckMs).unref());
  }

  /** #healthy asks an upstream for the root's NS records: any answer at all means it is up. */
  async #healthy(upstream: string): Promise<boolean> {
    const probe = dnsPacket.encode({
      type: 'query',
      id: 0x4b38,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ name: '.', type: 'NS', class: 'IN' }],
    });
    return this.#ask(upstream, probe, this.#healthCheckMs).then(
      (reply) => reply.length >= 12,
      () => false,
    );
  }

  #ask(upstream: string, packet: Buffer, timeoutMs = this.#timeoutMs): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket(isIP(upstream) === 6 ? 'udp6' : 'udp4');
      const timer = setTimeout(() => finish(new Error(`no answer from ${upstream} in ${timeoutMs} ms`)), timeoutMs);
      const finish = (error: Error | undefined, reply?: Buffer) => {
        clearTimeout(timer);
        socket.close();
        if (error) reject(error);
        else resolve(reply!);
      };
      socket.on('error', (error) => finish(error));
      socket.on('message', (reply) => finish(undefined, reply));
      socket.connect(this.#port, upstream, () => socket.send(packet));
    });
  }
}

/** nameservers reads the `nameserver` addresses of a resolv.conf text, leaving out the addresses given in skip. */
export function nameservers(text: string, skip: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && isIP(m[1]!) && !skip.includes(m[1]!) && !out.includes(m[1]!)) out.push(m[1]!);
  }
  return out;
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

function rcodeName(code: number): string {
  return RCODES[code] ?? String(code);
}
