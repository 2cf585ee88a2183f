import { readFile } from 'node:fs/promises';
import { connect } from '../client/client.ts';
import { ClusterDns } from '../dns/dns.ts';
import { nameservers } from '../dns/forwarder.ts';
import { componentFlags, runComponent, type ComponentFlags } from './run-component.ts';

const FLAGS = {
  kubeconfig: {
    type: 'string',
    help: 'Path to a kubeconfig file (default: the in-cluster config of the pod: its ServiceAccount token and the kubernetes Service).',
  },
  master: { type: 'string', help: 'The address of the Kubernetes API server (overrides any value in kubeconfig).' },
  'cluster-domain': {
    type: 'string',
    default: 'cluster.local',
    help: "The cluster's DNS domain: Services are <svc>.<ns>.svc.<domain>.",
  },
  ttl: {
    type: 'int',
    default: 5,
    help: "TTL in seconds of the cluster's records and of the SOA minimum (CoreDNS's kubernetes plugin: 5; kubeadm's Corefile: 30).",
  },
  'dns-bind-address': { type: 'string', default: '0.0.0.0', help: 'The IP address to serve DNS on (UDP and TCP).' },
  'dns-port': { type: 'int', default: 53, help: 'The port to serve DNS on (UDP and TCP).' },
  'resolv-conf': {
    type: 'string',
    default: '/etc/resolv.conf',
    help: 'Names outside the cluster are forwarded to this file\'s nameservers; "" forwards nothing (SERVFAIL).',
  },
  'health-address': {
    type: 'string',
    default: ':8080',
    help: 'host:port serving /health (CoreDNS\'s health plugin); "" turns it off.',
  },
  'ready-address': {
    type: 'string',
    default: ':8181',
    help: 'host:port serving /ready once Services and EndpointSlices are listed (CoreDNS\'s ready plugin); "" turns it off.',
  },
  'metrics-address': {
    type: 'string',
    default: ':9153',
    help: 'host:port serving /metrics in CoreDNS\'s names (prometheus plugin); "" turns it off.',
  },
  ...componentFlags('dns'),
} satisfies ComponentFlags;

/** main runs `tskube dns`, the cluster DNS server (what CoreDNS is in kubeadm clusters), until SIGTERM. */
export function main(argv: string[]): Promise<number> {
  return runComponent(argv, {
    command: 'tskube dns',
    summary: 'Cluster DNS: Services and pods by name, following the Kubernetes DNS specification.',
    flags: FLAGS,
    logSource: 'dns.go',
    async start({ values, logger }) {
      const client = await connect({
        kubeconfig: values.kubeconfig,
        master: values.master,
        userAgent: 'tskube-dns',
        inCluster: true,
      });
      const resolvConf = values['resolv-conf'];
      const bind = values['dns-bind-address'];
      const upstreams = resolvConf ? nameservers(await readFile(resolvConf, 'utf8').catch(() => ''), [bind]) : [];
      const dns = new ClusterDns({
        client,
        logger,
        upstreams,
        domain: values['cluster-domain'],
        ttl: values.ttl,
        dnsAddress: bind,
        dnsPort: values['dns-port'],
        healthAddress: values['health-address'],
        readyAddress: values['ready-address'],
        metricsAddress: values['metrics-address'],
      });
      await dns.start();
      return {
        stop: async () => {
          await dns.stop();
          client.close();
        },
      };
    },
  });
}
