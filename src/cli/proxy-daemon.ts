import { readFile, writeFile } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { connect } from '../client/client.ts';
import type { Logger } from '../log/klog.ts';
import {
  ConfigError,
  configDocument,
  defaultConfigDocument,
  parseConfigDocument,
  writeConfigText,
  type ProxyConfig,
} from '../proxy/config.ts';
import { serveHealth, serveMetrics } from '../proxy/health-server.ts';
import { cleanupIptables, cleanupNftables } from '../proxy/cleanup.ts';
import { IptablesBackend } from '../proxy/iptables-backend.ts';
import { ProxyMetrics } from '../proxy/metrics.ts';
import { NftablesBackend } from '../proxy/nftables-backend.ts';
import { Proxier } from '../proxy/proxier.ts';
import { ProxyInformers } from '../proxy/proxy-informers.ts';
import type { ProxyBackend } from '../proxy/backend.ts';
import { cidrContains, parseCidr } from '../net/ipv4.ts';
import { hostConntrack } from '../sys/conntrack.ts';
import { Iptables } from '../sys/iptables.ts';
import { Nft } from '../sys/nft.ts';
import { formatDuration, parseDuration, type TypedFlagValues } from './flags.ts';
import { componentFlags, runComponent, type ComponentFlags, type Started } from './run-component.ts';

const FLAGS = {
  config: { type: 'string', help: 'The path to the configuration file.' },
  'write-config-to': { type: 'string', help: 'If set, write the default configuration values to this file and exit.' },
  kubeconfig: {
    type: 'string',
    help: 'Path to kubeconfig file with authorization information (the master location can be overridden by the master flag).',
  },
  master: { type: 'string', help: 'The address of the Kubernetes API server (overrides any value in kubeconfig)' },
  'hostname-override': {
    type: 'string',
    help: 'If non-empty, will be used as the name of the Node that kube-proxy is running on.',
  },
  'proxy-mode': { type: 'string', help: "Which proxy mode to use: 'iptables' (default) or 'nftables'." },
  'cluster-cidr': {
    type: 'string',
    help: 'The CIDR range of the pods in the cluster: traffic to ClusterIPs from outside it is masqueraded. Ignored if --config is given.',
  },
  'masquerade-all': {
    type: 'bool',
    default: false,
    help: 'SNAT all traffic sent via Service cluster IPs. Ignored if --config is given.',
  },
  'healthz-bind-address': {
    type: 'string',
    help: 'The IP address and port for the health check server to serve on (default 0.0.0.0:10256)',
  },
  'metrics-bind-address': {
    type: 'string',
    help: 'The IP address and port for the metrics server to serve on (default 127.0.0.1:10249)',
  },
  'nodeport-addresses': {
    type: 'strings',
    default: [],
    help: 'A list of CIDR ranges that contain valid node IPs for NodePorts.',
  },
  'iptables-sync-period': {
    type: 'string',
    help: 'An interval (e.g. 5s, 1m, 2h22m) indicating how frequently various re-synchronizing and cleanup operations are performed.',
  },
  'iptables-min-sync-period': {
    type: 'string',
    help: 'The minimum period between iptables rule resyncs (e.g. 5s, 1m, 2h22m).',
  },
  'iptables-masquerade-bit': { type: 'int', help: 'The bit of the fwmark space to mark packets requiring SNAT with.' },
  'iptables-localhost-nodeports': { type: 'bool', help: 'If false, NodePorts are not accepted on 127.0.0.1.' },
  'bind-address': { type: 'string', help: "Overrides kube-proxy's idea of what its node's primary IP is." },
  'conntrack-max-per-core': { type: 'int', help: 'Maximum number of NAT connections to track per CPU core.' },
  'conntrack-min': { type: 'int', help: 'Minimum number of conntrack entries to allocate.' },
  'oom-score-adj': { type: 'int', help: 'The oom-score-adj value for kube-proxy process (accepted).' },
  cleanup: { type: 'bool', default: false, help: 'If true cleanup iptables and nftables rules and exit.' },
  ...componentFlags('proxy'),
} satisfies ComponentFlags;

/** runProxy is `tskube proxy`: kube-proxy in iptables mode. */
export function runProxy(argv: string[]): Promise<number> {
  return runComponent(argv, {
    command: 'tskube proxy',
    flags: FLAGS,
    logSource: 'server.go',
    summary:
      'kube-proxy: programs Service VIPs into iptables on this node. `tskube proxy render -f FILE` prints rules without running.',
    start: ({ values, given, logger }) => startProxy(values, given, logger),
  });
}

async function startProxy(
  values: TypedFlagValues<typeof FLAGS>,
  given: Set<string>,
  log: Logger,
): Promise<Started | number | undefined> {
  if (values['write-config-to']) {
    const file = values['write-config-to'];
    await writeFile(file, writeConfigText(defaultConfigDocument()));
    log.info('Wrote configuration', { file });
    return undefined;
  }
  if (values.cleanup) return cleanup(log);
  let config: ProxyConfig;
  try {
    config = await loadConfig(values, given, log);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(
        `Error: invalid configuration${values.config ? ` in "${values.config}"` : ''}: ${error.message}\n`,
      );
      return 1;
    }
    throw error;
  }
  const nodeName = (config.hostnameOverride || hostname()).toLowerCase();
  const nftMode = config.mode === 'nftables';
  const modeConfig = nftMode ? config.nftables : config.iptables;
  const nodePortAddresses = config.nodePortAddresses ?? [];
  let backend: ProxyBackend;
  if (nftMode) {
    const nft = await Nft.detect();
    log.info('Using nftables Proxier');
    log.info('Version info', { version: 'v1.33.0-tskube', backend: 'nftables' });
    backend = new NftablesBackend(nft, {
      clusterCIDR: config.clusterCIDR || undefined,
      masqueradeAll: config.nftables.masqueradeAll,
      masqueradeBit: config.nftables.masqueradeBit,
      nodePortAddresses,
      nodeIPs: localIPs(nodePortAddresses),
    });
  } else {
    const iptables = await Iptables.detect();
    log.info('Using iptables Proxier');
    log.info('Version info', { version: 'v1.33.0-tskube', backend: `iptables-${iptables.backend}` });
    if (config.iptables.localhostNodePorts) await sysctl('net/ipv4/conf/all/route_localnet', '1', log);
    backend = new IptablesBackend(iptables, {
      clusterCIDR: config.clusterCIDR || undefined,
      masqueradeAll: config.iptables.masqueradeAll,
      masqueradeBit: config.iptables.masqueradeBit,
      localhostNodePorts: config.iptables.localhostNodePorts,
      nodePortAddresses,
      nodeIPs: localIPs(nodePortAddresses),
    });
  }
  await conntrackSysctls(config, log);
  const metrics = new ProxyMetrics();
  const client = await connect({
    kubeconfig: config.clientConnection.kubeconfig || undefined,
    master: values.master as string | undefined,
    userAgent: 'kube-proxy/v1.33.0 (tskube)',
  });
  const proxier = new Proxier({
    backend,
    conntrack: hostConntrack,
    nodeName,
    logger: log,
    metrics,
    syncPeriodMs: modeConfig.syncPeriodMs,
    minSyncPeriodMs: modeConfig.minSyncPeriodMs,
  });
  // The other mode's rules go once this mode's are in: during a switch both answer, so no connection is refused.
  let leftoversCleaned = false;
  proxier.onSynced = () => {
    if (leftoversCleaned) return;
    leftoversCleaned = true;
    void (nftMode ? cleanupIptables(log) : cleanupNftables(log)).catch((error) => {
      if (nftMode) log.error('Failed to clean up iptables leftovers', { error });
      else {
        metrics.nftablesCleanupFailures++;
        log.error('Failed to clean up nftables leftovers', { error });
      }
    });
  };
  const servers: { close(): unknown }[] = [];
  if (config.healthzBindAddress)
    servers.push(
      await serveHealth(config.healthzBindAddress, proxier, {
        syncPeriodMs: modeConfig.syncPeriodMs,
        metrics,
        logger: log,
      }),
    );
  if (config.metricsBindAddress)
    servers.push(
      await serveMetrics(config.metricsBindAddress, proxier, {
        metrics,
        configz: () => configDocument(config),
        mode: config.mode,
      }),
    );
  const informers = new ProxyInformers(client, proxier, { nodeName, logger: log });
  await informers.start();
  return {
    async stop() {
      // Rules stay in the kernel on exit: traffic keeps flowing until the next kube-proxy takes over.
      proxier.stop();
      await informers.stop();
      for (const s of servers) s.close();
      client.close();
    },
  };
}

async function loadConfig(
  values: TypedFlagValues<typeof FLAGS>,
  given: Set<string>,
  log: Logger,
): Promise<ProxyConfig> {
  if (values.config) {
    const file = values.config;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`failed to read the configuration file: ${(error as Error).message}`);
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (error) {
      throw new ConfigError(`failed to decode: ${(error as Error).message.split('\n')[0]}`);
    }
    const config = parseConfigDocument(doc);
    for (const flag of [
      'cluster-cidr',
      'masquerade-all',
      'proxy-mode',
      'iptables-sync-period',
      'iptables-min-sync-period',
      'nodeport-addresses',
    ]) {
      if (given.has(flag)) log.warning('Flag is ignored because --config is given', { flag: `--${flag}` });
    }
    if (values['hostname-override']) config.hostnameOverride = values['hostname-override'];
    if (values.kubeconfig) config.clientConnection.kubeconfig = values.kubeconfig;
    return config;
  }
  const doc = defaultConfigDocument();
  type Values = TypedFlagValues<typeof FLAGS>;
  const set = <K extends keyof Values>(flag: K, apply: (v: NonNullable<Values[K]>) => void) =>
    given.has(flag) && apply(values[flag]!);
  set('kubeconfig', (v) => (doc.clientConnection.kubeconfig = v));
  set('hostname-override', (v) => (doc.hostnameOverride = v));
  set('proxy-mode', (v) => (doc.mode = v));
  set('cluster-cidr', (v) => (doc.clusterCIDR = v));
  set('masquerade-all', (v) => (doc.iptables.masqueradeAll = doc.nftables.masqueradeAll = v));
  set('healthz-bind-address', (v) => (doc.healthzBindAddress = v));
  set('metrics-bind-address', (v) => (doc.metricsBindAddress = v));
  set('nodeport-addresses', (v) => (doc.nodePortAddresses = v.length ? v : null));
  // The --iptables-* sync and mark flags set nftables mode's fields too (upstream's nftables section has the same).
  set(
    'iptables-sync-period',
    (v) => (doc.iptables.syncPeriod = doc.nftables.syncPeriod = formatDuration(parseDuration(v))),
  );
  set(
    'iptables-min-sync-period',
    (v) => (doc.iptables.minSyncPeriod = doc.nftables.minSyncPeriod = formatDuration(parseDuration(v))),
  );
  set('iptables-masquerade-bit', (v) => (doc.iptables.masqueradeBit = doc.nftables.masqueradeBit = v));
  set('iptables-localhost-nodeports', (v) => (doc.iptables.localhostNodePorts = v));
  set('bind-address', (v) => (doc.bindAddress = v));
  set('conntrack-max-per-core', (v) => (doc.conntrack.maxPerCore = v));
  set('conntrack-min', (v) => (doc.conntrack.min = v));
  set('oom-score-adj', (v) => (doc.oomScoreAdj = v));
  return parseConfigDocument(doc);
}

/** conntrackSysctls sets what upstream sets, logging where the kernel does not allow it (e.g. inside a netns). */
async function conntrackSysctls(config: ProxyConfig, log: Logger): Promise<void> {
  const { readFile: read } = await import('node:fs/promises');
  const { availableParallelism } = await import('node:os');
  const max = Math.max(config.conntrack.maxPerCore * availableParallelism(), config.conntrack.min);
  if (config.conntrack.maxPerCore > 0) {
    const current = Number((await read('/proc/sys/net/netfilter/nf_conntrack_max', 'utf8').catch(() => '0')).trim());
    if (current < max) await sysctl('net/netfilter/nf_conntrack_max', String(max), log);
  }
  if (config.conntrack.tcpEstablishedTimeoutMs > 0)
    await sysctl(
      'net/netfilter/nf_conntrack_tcp_timeout_established',
      String(config.conntrack.tcpEstablishedTimeoutMs / 1000),
      log,
    );
  if (config.conntrack.tcpCloseWaitTimeoutMs > 0)
    await sysctl(
      'net/netfilter/nf_conntrack_tcp_timeout_close_wait',
      String(config.conntrack.tcpCloseWaitTimeoutMs / 1000),
      log,
    );
}

async function sysctl(name: string, value: string, log: Logger): Promise<void> {
  const { writeFile: write, readFile: read } = await import('node:fs/promises');
  const path = `/proc/sys/${name}`;
  const current = (await read(path, 'utf8').catch(() => '')).trim();
  if (current === value) return;
  try {
    await write(path, value);
    log.info('Set sysctl', { entry: name, value });
  } catch (error) {
    log.warning('Cannot set sysctl (continuing)', { entry: name, value, error });
  }
}

/** localIPs lists this host's IPv4 addresses inside the nodePortAddresses CIDRs (none when unrestricted). */
function localIPs(cidrs: string[]): string[] {
  if (cidrs.length === 0) return [];
  const ranges = cidrs.filter((c) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(c)).map((c) => parseCidr(c));
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? [])
      if (a.family === 'IPv4' && ranges.some((r) => cidrContains(r, a.address))) out.push(a.address);
  }
  return out.sort();
}

/** cleanup removes every rule, chain and table either mode made, and nothing else. */
async function cleanup(log: Logger): Promise<number> {
  await cleanupIptables(log);
  await cleanupNftables(log);
  return 0;
}
