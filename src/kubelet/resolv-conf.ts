import type { Pod } from 'kubernetes-types/core/v1.js';
/**
 * DnsConfig is CRI's DNSConfig: what a pod's /etc/resolv.conf holds. podDnsConfig decides it from the pod's
 * dnsPolicy and dnsConfig as upstream's kubelet does (pkg/kubelet/network/dns): ClusterFirst → the cluster DNS
 * Service with the cluster's search path and `ndots:5`, Default → the node's resolv.conf, None → only the pod's
 * dnsConfig, ClusterFirstWithHostNet → ClusterFirst even with hostNetwork (plain ClusterFirst with hostNetwork is
 * Default). The pod's dnsConfig is appended last (duplicates dropped, its options override by name).
 */
export interface DnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface ClusterDnsSettings {
  /** --cluster-dns / clusterDNS: the cluster DNS Service's IPs; empty when the kubelet has none. */
  clusterDNS: string[];
  /** --cluster-domain / clusterDomain, e.g. cluster.local; empty leaves the cluster search path out. */
  clusterDomain: string;
  /** The node's resolv.conf (--resolv-conf), parsed. */
  host: DnsConfig;
}

/** Upstream's limits (pkg/apis/core/validation, kubelet's dns.go): 3 nameservers, 32 search domains, 2048 chars. */
const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;
const MAX_SEARCH_CHARS = 2048;

/** podDnsConfig returns the pod's DNS settings, and a warning (as upstream's Event) when it had to change course. */
export function podDnsConfig(
  pod: Pod,
  settings: ClusterDnsSettings,
): { config: DnsConfig; warning?: { reason: string; message: string } } {
  const policy: string = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  const hostNetwork = pod.spec?.hostNetwork === true;
  let config: DnsConfig = {
    servers: [...settings.host.servers],
    searches: [...settings.host.searches],
    options: [...settings.host.options],
  };
  let warning: { reason: string; message: string } | undefined;
  const cluster = policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && !hostNetwork);
  if (policy === 'None') {
    config = { servers: [], searches: [], options: [] };
  } else if (cluster) {
    if (settings.clusterDNS.length > 0) {
      const domain = settings.clusterDomain.replace(/\.$/, '');
      const ns = pod.metadata?.namespace ?? 'default';
      const searches = domain ? [`${ns}.svc.${domain}`, `svc.${domain}`, domain] : [];
      config = {
        servers: [...settings.clusterDNS],
        searches: [...searches, ...settings.host.searches],
        options: ['ndots:5'],
      };
    } else {
      warning = {
        reason: 'MissingClusterDNS',
        message: `pod: "${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})". kubelet does not have ClusterDNS IP configured and cannot create Pod using "${policy}" policy. Falling back to "Default" policy.`,
      };
    }
  }
  const extra = pod.spec?.dnsConfig;
  if (extra) {
    config.servers = unique([...config.servers, ...(extra.nameservers ?? [])]);
    config.searches = unique([...config.searches, ...(extra.searches ?? [])]);
    config.options = mergeOptions(config.options, extra.options ?? []);
  }
  config.servers = config.servers.slice(0, MAX_NAMESERVERS);
  config.searches = fitSearches(config.searches);
  return warning ? { config, warning } : { config };
}

/** parseResolvConf reads the nameserver, search (or domain) and options lines of a resolv.conf text. */
export function parseResolvConf(text: string): DnsConfig {
  const config: DnsConfig = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const fields = raw
      .replace(/[#;].*$/, '')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    const [key, ...rest] = fields;
    if (key === 'nameserver' && rest[0]) config.servers.push(rest[0]);
    else if (key === 'search' || key === 'domain')
      config.searches = rest.filter((s) => s !== '.').map((s) => s.replace(/\.$/, ''));
    else if (key === 'options') config.options.push(...rest);
  }
  return config;
}

/** resolvConfText writes the file as the CRI runtimes do: search, then nameservers, then options. */
export function resolvConfText(config: DnsConfig): string {
  const lines: string[] = [];
  if (config.searches.length) lines.push(`search ${config.searches.join(' ')}`);
  for (const s of config.servers) lines.push(`nameserver ${s}`);
  if (config.options.length) lines.push(`options ${config.options.join(' ')}`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

/** mergeOptions appends the pod's options; one with the same name (before `:`) replaces the earlier one. */
function mergeOptions(base: string[], extra: { name?: string; value?: string }[]): string[] {
  const out = new Map<string, string>();
  for (const o of base) out.set(o.split(':')[0]!, o);
  for (const o of extra)
    if (o.name) out.set(o.name, o.value !== undefined && o.value !== '' ? `${o.name}:${o.value}` : o.name);
  return [...out.values()];
}

function fitSearches(searches: string[]): string[] {
  const out: string[] = [];
  let length = 0;
  for (const s of unique(searches)) {
    if (out.length === MAX_SEARCHES || length + s.length + (out.length ? 1 : 0) > MAX_SEARCH_CHARS) break;
    length += s.length + (out.length ? 1 : 0);
    out.push(s);
  }
  return out;
}
