import { stringify } from 'yaml';
import { formatDuration, parseDuration } from '../api/duration.ts';
import { parseCidr } from '../net/ipv4.ts';

/**
 * KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1): upstream's fields and defaults, written by
 * --write-config-to with Go's key order (alphabetical) and duration format, read back by --config with strict
 * field checking and upstream-style validation messages.
 */
export interface ProxyConfig {
  bindAddress: string;
  clientConnection: { kubeconfig: string; qps: number; burst: number; contentType: string; acceptContentTypes: string };
  clusterCIDR: string;
  configSyncPeriodMs: number;
  conntrack: {
    maxPerCore: number;
    min: number;
    tcpEstablishedTimeoutMs: number;
    tcpCloseWaitTimeoutMs: number;
    tcpBeLiberal: boolean;
    udpTimeoutMs: number;
    udpStreamTimeoutMs: number;
  };
  healthzBindAddress: string;
  metricsBindAddress: string;
  hostnameOverride: string;
  iptables: {
    masqueradeAll: boolean;
    masqueradeBit: number;
    localhostNodePorts: boolean;
    syncPeriodMs: number;
    minSyncPeriodMs: number;
  };
  nftables: { masqueradeAll: boolean; masqueradeBit: number; syncPeriodMs: number; minSyncPeriodMs: number };
  /** iptables (the default) or nftables. */
  mode: 'iptables' | 'nftables';
  nodePortAddresses: string[] | null;
  oomScoreAdj: number;
  enableProfiling: boolean;
}

/** ConfigDocument is a KubeProxyConfiguration document as upstream writes it (durations as Go strings). */
export type ConfigDocument = ReturnType<typeof defaultConfigDocument>;

/** The defaulted configuration document, as upstream writes it (durations as Go strings). */
export function defaultConfigDocument() {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    bindAddress: '0.0.0.0',
    bindAddressHardFail: false,
    clientConnection: {
      acceptContentTypes: '',
      burst: 10,
      contentType: 'application/vnd.kubernetes.protobuf',
      kubeconfig: '',
      qps: 5,
    },
    clusterCIDR: '',
    configSyncPeriod: '15m0s',
    conntrack: {
      maxPerCore: 32768,
      min: 131072,
      tcpBeLiberal: false,
      tcpCloseWaitTimeout: '1h0m0s',
      tcpEstablishedTimeout: '24h0m0s',
      udpStreamTimeout: '0s',
      udpTimeout: '0s',
    },
    detectLocal: { bridgeInterface: '', interfaceNamePrefix: '' },
    detectLocalMode: '',
    enableProfiling: false,
    healthzBindAddress: '0.0.0.0:10256',
    hostnameOverride: '',
    iptables: {
      localhostNodePorts: true,
      masqueradeAll: false,
      masqueradeBit: 14,
      minSyncPeriod: '1s',
      syncPeriod: '30s',
    },
    ipvs: {
      excludeCIDRs: null as string[] | null,
      minSyncPeriod: '0s',
      scheduler: '',
      strictARP: false,
      syncPeriod: '30s',
      tcpFinTimeout: '0s',
      tcpTimeout: '0s',
      udpTimeout: '0s',
    },
    kind: 'KubeProxyConfiguration',
    logging: {
      flushFrequency: 0,
      options: { json: { infoBufferSize: '0' }, text: { infoBufferSize: '0' } },
      verbosity: 0,
    },
    metricsBindAddress: '127.0.0.1:10249',
    mode: '',
    nftables: { masqueradeAll: false, masqueradeBit: 14, minSyncPeriod: '1s', syncPeriod: '30s' },
    nodePortAddresses: null as string[] | null,
    oomScoreAdj: -999,
    portRange: '',
    showHiddenMetricsForVersion: '',
    winkernel: {
      enableDSR: false,
      forwardHealthCheckVip: false,
      networkName: '',
      rootHnsEndpointName: '',
      sourceVip: '',
    },
  };
}

/** writeConfigText renders a configuration document as upstream's --write-config-to does. */
export function writeConfigText(document: unknown): string {
  return stringify(sortKeys(document), {
    lineWidth: 0,
    nullStr: 'null',
    defaultStringType: 'PLAIN',
    defaultKeyType: 'PLAIN',
  });
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys(value[k])]),
  );
}

/** ConfigError names the bad field the way upstream's decoder and validation do. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** parseConfigDocument checks a loaded document strictly, merges it over the defaults and validates it. */
export function parseConfigDocument(loaded: unknown): ProxyConfig {
  if (!isObject(loaded)) throw new ConfigError('failed to decode: the configuration is not a YAML object');
  const doc = loaded;
  if (doc.kind !== 'KubeProxyConfiguration' || doc.apiVersion !== 'kubeproxy.config.k8s.io/v1alpha1') {
    throw new ConfigError(
      `failed to decode: no kind "${doc.kind ?? ''}" is registered for version "${doc.apiVersion ?? ''}"`,
    );
  }
  const defaults = defaultConfigDocument();
  const unknown = unknownKeys(defaults, doc, '');
  if (unknown.length > 0)
    throw new ConfigError(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
  // The boundary: with no unknown field, the merged document has the defaults' shape; the values are the file's, and
  // the checks below look at each one they use.
  const merged = merge(defaults, doc) as ConfigDocument;
  const errors: string[] = [];
  const field = (path: string, value: unknown, detail: string) =>
    errors.push(
      `KubeProxyConfiguration.${path}: Invalid value: ${typeof value === 'string' ? JSON.stringify(value) : String(value)}: ${detail}`,
    );
  const duration = (path: string, text: unknown): number => {
    try {
      return parseDuration(String(text));
    } catch {
      errors.push(
        `KubeProxyConfiguration.${path}: Invalid value: ${JSON.stringify(text)}: must be a duration like "30s"`,
      );
      return 0;
    }
  };
  /** modeSection checks the settings both modes have (iptables:, nftables:) and reads their periods. */
  const modeSection = (name: 'iptables' | 'nftables') => {
    const section = merged[name];
    if (!Number.isInteger(section.masqueradeBit) || section.masqueradeBit < 0 || section.masqueradeBit > 31)
      field(`${name}.masqueradeBit`, section.masqueradeBit, 'must be within the range [0, 31]');
    const syncPeriodMs = duration(`${name}.syncPeriod`, section.syncPeriod);
    const minSyncPeriodMs = duration(`${name}.minSyncPeriod`, section.minSyncPeriod);
    if (syncPeriodMs <= 0) field(`${name}.syncPeriod`, section.syncPeriod, 'must be greater than 0');
    if (minSyncPeriodMs < 0)
      field(`${name}.minSyncPeriod`, section.minSyncPeriod, 'must be greater than or equal to 0');
    return {
      masqueradeAll: section.masqueradeAll,
      masqueradeBit: section.masqueradeBit,
      syncPeriodMs,
      minSyncPeriodMs,
    };
  };
  const ipt = modeSection('iptables');
  if (merged.clusterCIDR) {
    for (const cidr of String(merged.clusterCIDR).split(',')) {
      try {
        parseCidr(cidr.trim());
      } catch {
        field(
          'clusterCIDR',
          merged.clusterCIDR,
          'must be a valid CIDR block (e.g. 10.100.0.0/16 or fde4:8dba:82e1::/48)',
        );
      }
    }
  }
  if (!['', 'iptables', 'nftables'].includes(merged.mode))
    field(
      'mode',
      merged.mode,
      merged.mode === 'ipvs'
        ? 'tskube implements the iptables and nftables modes'
        : 'must be iptables, ipvs or nftables',
    );
  const nftables = modeSection('nftables');
  for (const key of ['healthzBindAddress', 'metricsBindAddress'] as const) {
    if (merged[key] !== '' && !/^(\d+\.\d+\.\d+\.\d+|\[[0-9a-fA-F:]+\]):\d+$/.test(merged[key]))
      field(key, merged[key], 'must be IP:port');
  }
  const configSyncPeriodMs = duration('configSyncPeriod', merged.configSyncPeriod);
  if (errors.length > 0) throw new ConfigError(errors.join('\n'));
  return {
    bindAddress: merged.bindAddress,
    clientConnection: merged.clientConnection,
    clusterCIDR: merged.clusterCIDR,
    configSyncPeriodMs,
    conntrack: {
      maxPerCore: merged.conntrack.maxPerCore,
      min: merged.conntrack.min,
      tcpBeLiberal: merged.conntrack.tcpBeLiberal,
      tcpEstablishedTimeoutMs: duration('conntrack.tcpEstablishedTimeout', merged.conntrack.tcpEstablishedTimeout),
      tcpCloseWaitTimeoutMs: duration('conntrack.tcpCloseWaitTimeout', merged.conntrack.tcpCloseWaitTimeout),
      udpTimeoutMs: duration('conntrack.udpTimeout', merged.conntrack.udpTimeout),
      udpStreamTimeoutMs: duration('conntrack.udpStreamTimeout', merged.conntrack.udpStreamTimeout),
    },
    healthzBindAddress: merged.healthzBindAddress,
    metricsBindAddress: merged.metricsBindAddress,
    hostnameOverride: merged.hostnameOverride,
    iptables: { ...ipt, localhostNodePorts: merged.iptables.localhostNodePorts },
    nftables,
    mode: merged.mode === 'nftables' ? 'nftables' : 'iptables',
    nodePortAddresses: merged.nodePortAddresses,
    oomScoreAdj: merged.oomScoreAdj,
    enableProfiling: merged.enableProfiling,
  };
}

/** configDocument turns a running configuration back into a document (for /configz). */
export function configDocument(config: ProxyConfig): ConfigDocument {
  const doc = defaultConfigDocument();
  doc.bindAddress = config.bindAddress;
  doc.clientConnection = { ...config.clientConnection };
  doc.clusterCIDR = config.clusterCIDR;
  doc.healthzBindAddress = config.healthzBindAddress;
  doc.metricsBindAddress = config.metricsBindAddress;
  doc.hostnameOverride = config.hostnameOverride;
  doc.iptables = {
    localhostNodePorts: config.iptables.localhostNodePorts,
    masqueradeAll: config.iptables.masqueradeAll,
    masqueradeBit: config.iptables.masqueradeBit,
    minSyncPeriod: formatDuration(config.iptables.minSyncPeriodMs),
    syncPeriod: formatDuration(config.iptables.syncPeriodMs),
  };
  doc.nftables = {
    masqueradeAll: config.nftables.masqueradeAll,
    masqueradeBit: config.nftables.masqueradeBit,
    minSyncPeriod: formatDuration(config.nftables.minSyncPeriodMs),
    syncPeriod: formatDuration(config.nftables.syncPeriodMs),
  };
  doc.mode = config.mode;
  doc.nodePortAddresses = config.nodePortAddresses;
  return doc;
}

/** Fields whose content is free-form (maps keyed by the user). */
const OPEN_FIELDS = new Set(['featureGates', 'logging', 'ipvs.excludeCIDRs', 'nodePortAddresses', 'detectLocal']);

function unknownKeys(schema: Record<string, unknown>, value: unknown, path: string): string[] {
  if (!isObject(value)) return [];
  const out: string[] = [];
  for (const key of Object.keys(value)) {
    const p = path ? `${path}.${key}` : key;
    if (OPEN_FIELDS.has(p)) continue;
    const field = schema[key];
    if (!(key in schema)) out.push(p);
    else if (isObject(field)) out.push(...unknownKeys(field, value[key], p));
  }
  return out;
}

function merge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isObject(base) || !isObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v);
  return out;
}

/** isObject tells a YAML mapping (not null, not a sequence). */
function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
