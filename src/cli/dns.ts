import { readFile } from 'node:fs/promises';
import { connect } from '../client/client.ts';
import { ClusterDns } from '../dns/dns.ts';
import { nameservers } from '../dns/forwarder.ts';
import { createLogger } from '../log/klog.ts';
import { untilSignal } from './until-signal.ts';
import { parseFlags, usage, type FlagSpecs } from './flags.ts';

const FLAGS: FlagSpecs = {
  kubeconfig: { type: 'string', help: 'Path to a kubeconfig file (default: the in-cluster config of the pod: its ServiceAccount token and the kubernetes Service).' },
  master: { type: 'string', help: 'The address of the Kubernetes API server (overrides any value in kubeconfig).' },
  'cluster-domain': { type: 'string', default: 'cluster.local', help: 'The cluster\'s DNS domain: Services are <svc>.<ns>.svc.<domain>.' },
  ttl: { type: 'int', default: 5, help: 'TTL in seconds of the cluster\'s records and of the SOA minimum (CoreDNS\'s kubernetes plugin: 5; kubeadm\'s Corefile: 30).' },
  'dns-bind-address': { type: 'string', default: '0.0.0.0', help: 'The IP address to serve DNS on (UDP and TCP).' },
  'dns-port': { type: 'int', default: 53, help: 'The port to serve DNS on (UDP and TCP).' },
  'resolv-conf': { type: 'string', default: '/etc/resolv.conf', help: 'Names outside the cluster are forwarded to this file\'s nameservers; "" forwards nothing (SERVFAIL).' },
  'health-address': { type: 'string', default: ':8080', help: 'host:port serving /health (CoreDNS\'s health plugin); "" turns it off.' },
  'ready-address': { type: 'string', default: ':8181', help: 'host:port serving /ready once Services and EndpointSlices are listed (CoreDNS\'s ready plugin); "" turns it off.' },
  'metrics-address': { type: 'string', default: ':9153', help: 'host:port serving /metrics in CoreDNS\'s names (prometheus plugin); "" turns it off.' },
  v: { type: 'int', default: 0, short: 'v', help: 'number for the log level verbosity' },
  help: { type: 'bool', default: false, short: 'h', help: 'help for dns' },
};

/** main runs `tskube dns`, the cluster DNS server (what CoreDNS is in kubeadm clusters), until SIGTERM. */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, FLAGS);
  if (values.help) {
    process.stdout.write(usage('tskube dns', 'Cluster DNS: Services and pods by name, following the Kubernetes DNS specification.', FLAGS));
    return 0;
  }
  const logger = createLogger({ verbosity: values.v as number, source: 'dns.go' });
  const client = await connect({ kubeconfig: values.kubeconfig as string | undefined, master: values.master as string | undefined, userAgent: 'tskube-dns', inCluster: true });
  const resolvConf = values['resolv-conf'] as string;
  const bind = values['dns-bind-address'] as string;
  const upstreams = resolvConf ? nameservers(await readFile(resolvConf, 'utf8').catch(() => ''), [bind]) : [];
  const dns = new ClusterDns({
    client, logger, upstreams,
    domain: values['cluster-domain'] as string,
    ttl: values.ttl as number,
    dnsAddress: bind,
    dnsPort: values['dns-port'] as number,
    healthAddress: values['health-address'] as string,
    readyAddress: values['ready-address'] as string,
    metricsAddress: values['metrics-address'] as string,
  });
  await dns.start();
  await untilSignal();
  await dns.stop();
  client.close();
  return 0;
}
