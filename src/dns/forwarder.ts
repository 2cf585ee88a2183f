import dgram from 'node:dgram';
import { isIP } from 'node:net';

/**
 * Forwarder sends queries for names outside the cluster to the node's resolvers (the `nameserver` lines of a
 * resolv.conf, as CoreDNS's `forward . /etc/resolv.conf`). It fails fast: a connected UDP socket reports an ICMP
 * "port unreachable" at once, an upstream that failed is skipped for a while, and when none is usable the caller
 * answers SERVFAIL without waiting.
 */
export interface ForwarderOptions {
  upstreams: string[];
  /** The upstreams' port (53). */
  port?: number;
  /** How long one upstream gets to answer. */
  timeoutMs?: number;
  /** How long a failed upstream is skipped. */
  downMs?: number;
  onResult?: (to: string, rcode: string | undefined, seconds: number) => void;
}

export class Forwarder {
  readonly upstreams: string[];
  #port: number;
  #timeoutMs: number;
  #downMs: number;
  #downUntil = new Map<string, number>();
  #onResult: ForwarderOptions['onResult'];

  constructor(options: ForwarderOptions) {
    this.upstreams = options.upstreams;
    this.#port = options.port ?? 53;
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#downMs = options.downMs ?? 5000;
    this.#onResult = options.onResult;
  }

  /** query sends a wire-format query upstream and returns the first answer, or undefined when no upstream answers. */
  async query(packet: Buffer): Promise<Buffer | undefined> {
    const now = Date.now();
    const usable = this.upstreams.filter((u) => (this.#downUntil.get(u) ?? 0) <= now);
    for (const upstream of usable) {
      const started = performance.now();
      const reply = await this.#ask(upstream, packet).catch(() => undefined);
      const seconds = (performance.now() - started) / 1000;
      if (reply && reply.length >= 12 && reply.readUInt16BE(0) === packet.readUInt16BE(0)) {
        this.#onResult?.(`${upstream}:${this.#port}`, rcodeName(reply[3]! & 0xf), seconds);
        return reply;
      }
      this.#onResult?.(`${upstream}:${this.#port}`, undefined, seconds);
      this.#downUntil.set(upstream, Date.now() + this.#downMs);
    }
    return undefined;
  }

  #ask(upstream: string, packet: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket(isIP(upstream) === 6 ? 'udp6' : 'udp4');
      const timer = setTimeout(() => finish(new Error(`no answer from ${upstream} in ${this.#timeoutMs} ms`)), this.#timeoutMs);
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
