/**
 * IPv4 addresses and CIDRs as numbers: parsing with upstream's strictness, containment, and the n-th address of a
 * range. Pure; shared by the API server (allocators), node IPAM, kubelet, flatnet and proxy.
 */
export interface Cidr {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
  /** Number of addresses in the range (2^(32-prefix)). */
  size: number;
}

/** parseIPv4 returns the address as an unsigned number, or undefined when text is not a canonical dotted quad. */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

/** formatIPv4 prints an unsigned number as a dotted quad. */
export function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** parseCidr reads `10.0.0.0/16`; it throws RangeError naming the text when it is not a valid IPv4 CIDR. */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  const ip = slash === -1 ? undefined : parseIPv4(text.slice(0, slash));
  const prefixText = slash === -1 ? '' : text.slice(slash + 1);
  const prefix = /^\d{1,2}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) {
    throw new RangeError(`Cannot parse CIDR "${text}": expected an IPv4 address and a prefix length <= 32`);
  }
  const size = 2 ** (32 - prefix);
  const base = ip - (ip % size);
  return { base, prefix, size };
}

/** formatCidr prints a CIDR in canonical form. */
export function formatCidr(cidr: Cidr): string {
  return `${formatIPv4(cidr.base)}/${cidr.prefix}`;
}

/** cidrContains tells whether an address (number or text) is inside the CIDR. */
export function cidrContains(cidr: Cidr, ip: number | string): boolean {
  const value = typeof ip === 'string' ? parseIPv4(ip) : ip;
  return value !== undefined && value >= cidr.base && value < cidr.base + cidr.size;
}

/** cidrsOverlap tells whether two CIDRs share any address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

/** nthAddress returns the n-th address of the CIDR (0 is the network address). */
export function nthAddress(cidr: Cidr, n: number): string {
  if (n < 0 || n >= cidr.size) throw new RangeError(`Cannot take address ${n} of ${formatCidr(cidr)}: out of range`);
  return formatIPv4(cidr.base + n);
}

/** subnet returns the index-th subnet of the given prefix length inside cidr (node IPAM: /24s of a /16). */
export function subnet(cidr: Cidr, prefix: number, index: number): Cidr {
  const size = 2 ** (32 - prefix);
  if (prefix < cidr.prefix || index < 0 || (index + 1) * size > cidr.size) {
    throw new RangeError(`Cannot take subnet ${index} of size /${prefix} from ${formatCidr(cidr)}: out of range`);
  }
  return { base: cidr.base + index * size, prefix, size };
}
