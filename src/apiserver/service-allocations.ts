import { formatIPv4, parseCidr, parseIPv4, type Cidr } from '../net/ipv4.ts';

/**
 * RangeAllocator hands out the integers of a range without duplicates: from a random start, then the next free one,
 * as upstream's bitmap allocator does, so ClusterIPs and NodePorts look spread out. Synchronous, so concurrent
 * requests in one process can never get the same value.
 */
export class RangeAllocator {
  readonly first: number;
  readonly size: number;
  #used = new Set<number>();

  constructor(first: number, size: number) {
    this.first = first;
    this.size = size;
  }

  has(value: number): boolean {
    return this.#used.has(value);
  }

  contains(value: number): boolean {
    return value >= this.first && value < this.first + this.size;
  }

  /** allocate takes a given value; false when it is taken or out of range. */
  allocate(value: number): boolean {
    if (!this.contains(value) || this.#used.has(value)) return false;
    this.#used.add(value);
    return true;
  }

  /** allocateNext takes any free value, or returns undefined when the range is full. */
  allocateNext(): number | undefined {
    if (this.#used.size >= this.size) return undefined;
    const start = Math.floor(Math.random() * this.size);
    for (let i = 0; i < this.size; i++) {
      const value = this.first + ((start + i) % this.size);
      if (!this.#used.has(value)) {
        this.#used.add(value);
        return value;
      }
    }
    return undefined;
  }

  /** reset replaces the used set with exactly these values (those in range). */
  reset(values: Iterable<number>): void {
    this.#used = new Set([...values].filter((v) => this.contains(v)));
  }

  release(value: number): void {
    this.#used.delete(value);
  }

  get used(): number {
    return this.#used.size;
  }
}

/** ServiceAllocations are the ClusterIP and NodePort allocators of the API server. */
export class ServiceAllocations {
  readonly serviceCidr: Cidr;
  readonly serviceCidrText: string;
  readonly nodePortRange: { base: number; size: number };
  readonly nodePortRangeText: string;
  readonly ips: RangeAllocator;
  readonly ports: RangeAllocator;

  constructor(serviceClusterIpRange: string, nodePortRange: string) {
    this.serviceCidr = parseCidr(serviceClusterIpRange);
    this.serviceCidrText = `${formatIPv4(this.serviceCidr.base)}/${this.serviceCidr.prefix}`;
    // Like upstream: neither the network address nor (for ranges larger than /31) the broadcast address is handed out.
    const reserved = this.serviceCidr.size > 2 ? 2 : 0;
    this.ips = new RangeAllocator(this.serviceCidr.base + (reserved ? 1 : 0), this.serviceCidr.size - reserved);
    const m = nodePortRange.match(/^(\d+)(?:-(\d+))?$/);
    if (!m) throw new RangeError(`Cannot parse port range "${nodePortRange}": expected BASE-MAX`);
    const base = Number(m[1]);
    const max = Number(m[2] ?? m[1]);
    if (max < base || max > 65535) throw new RangeError(`Cannot parse port range "${nodePortRange}": invalid bounds`);
    this.nodePortRange = { base, size: max - base + 1 };
    this.nodePortRangeText = `${base}-${max}`;
    this.ports = new RangeAllocator(base, max - base + 1);
  }

  /** ipNumber parses an address for the allocator. */
  static ipNumber(ip: string): number | undefined {
    return parseIPv4(ip);
  }
}
