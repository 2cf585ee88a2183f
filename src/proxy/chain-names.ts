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

/**
 * nftNameBase is upstream's hashAndTruncate for nftables names: the first 8 base32 characters of the SHA-256 of the
 * name, a hyphen, the name (`ULMVA6XW-ns1/svc1/tcp/p80`), cut to 240 characters with "..." when longer.
 */
export function nftNameBase(name: string): string {
  let hash = NFT_MEMO.get(name);
  if (hash === undefined) {
    hash = base32(createHash('sha256').update(name).digest().subarray(0, 5));
    if (NFT_MEMO.size >= MEMO_LIMIT) NFT_MEMO.clear();
    NFT_MEMO.set(name, hash);
  }
  const full = `${hash}-${name}`;
  return full.length > 240 ? `${full.slice(0, 237)}...` : full;
}

const NFT_MEMO = new Map<string, string>();

/** nftServicePortBase is `HASH-namespace/name/protocol/portName` for a service port (`ns/name:port` or `ns/name`). */
export function nftServicePortBase(servicePortName: string, protocol: string): string {
  return nftNameBase(nftPortPath(servicePortName, protocol));
}

/** nftEndpointBase is `HASH-namespace/name/protocol/portName__ip/port` for one endpoint of a service port. */
export function nftEndpointBase(servicePortName: string, protocol: string, ip: string, port: number): string {
  return nftNameBase(`${nftPortPath(servicePortName, protocol)}__${ip.replaceAll(':', '.')}/${port}`);
}

function nftPortPath(servicePortName: string, protocol: string): string {
  const colon = servicePortName.indexOf(':');
  const svc = colon < 0 ? servicePortName : servicePortName.slice(0, colon);
  const port = colon < 0 ? '' : servicePortName.slice(colon + 1);
  return `${svc}/${protocol.toLowerCase()}/${port}`;
}
