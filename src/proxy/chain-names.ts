import { createHash } from 'node:crypto';

/**
 * Chain names as upstream kube-proxy derives them: a prefix and the first 16 characters of the base32 (RFC 4648,
 * upper case, padded) SHA-256 of the service port name and protocol (plus `ip:port` for endpoints). Users grep for
 * these names, so they must match byte for byte.
 */
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/**
 * hash16 is the first 16 base32 characters of the SHA-256 of text (only the first 10 bytes are needed). Names are
 * memoized: a sync recomputes the same ones, and a 10,000-service cluster has over 100,000 of them.
 */
const MEMO = new Map<string, string>();
const MEMO_LIMIT = 500_000;

function hash16(text: string): string {
  let name = MEMO.get(text);
  if (name === undefined) {
    name = base32(createHash('sha256').update(text).digest().subarray(0, 10));
    if (MEMO.size >= MEMO_LIMIT) MEMO.clear();
    MEMO.set(text, name);
  }
  return name;
}

/** portProtoHash is upstream's `portProtoHash(servicePortName, protocol)`. */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return hash16(servicePortName + protocol.toLowerCase());
}

/** servicePortChainName: KUBE-SVC-<hash>, the chain that balances over all (cluster-policy) endpoints. */
export function servicePortChainName(servicePortName: string, protocol: string): string {
  return `KUBE-SVC-${portProtoHash(servicePortName, protocol)}`;
}

/** servicePortPolicyLocalChainName: KUBE-SVL-<hash>, the chain over node-local endpoints only. */
export function servicePortPolicyLocalChainName(servicePortName: string, protocol: string): string {
  return `KUBE-SVL-${portProtoHash(servicePortName, protocol)}`;
}

/** serviceExternalChainName: KUBE-EXT-<hash>, traffic to NodePorts, external and load-balancer IPs. */
export function serviceExternalChainName(servicePortName: string, protocol: string): string {
  return `KUBE-EXT-${portProtoHash(servicePortName, protocol)}`;
}

/** serviceFirewallChainName: KUBE-FW-<hash>, loadBalancerSourceRanges filtering. */
export function serviceFirewallChainName(servicePortName: string, protocol: string): string {
  return `KUBE-FW-${portProtoHash(servicePortName, protocol)}`;
}

/** servicePortEndpointChainName: KUBE-SEP-<hash of name+protocol+endpoint>, one per endpoint. */
export function servicePortEndpointChainName(servicePortName: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${hash16(servicePortName + protocol.toLowerCase() + endpoint)}`;
}

/** SERVICE_CHAIN_PREFIXES are the prefixes of per-service chains (stale ones are deleted). */
export const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-SEP-'] as const;

/** isServiceChain tells whether a nat chain is one of the per-service chains kube-proxy owns. */
export function isServiceChain(chain: string): boolean {
  return SERVICE_CHAIN_PREFIXES.some((p) => chain.startsWith(p));
}
