import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { connect } from '../client/client.ts';
import { Kubelet, imageTable } from '../kubelet/kubelet.ts';
import { serveKubelet } from '../kubelet/server.ts';
import { firstIPv4 } from '../sys/process.ts';
import { parseResolvConf } from '../kubelet/resolv-conf.ts';
import { createLogger } from '../log/klog.ts';
import { untilSignal } from './until-signal.ts';
import { parseFlags, usage, type FlagSpecs } from './flags.ts';

const FLAGS: FlagSpecs = {
  kubeconfig: { type: 'string', help: 'Path to a kubeconfig file, specifying how to connect to the API server.' },
  config: { type: 'string', help: 'The Kubelet will load its initial configuration from this file (KubeletConfiguration).' },
  'hostname-override': { type: 'string', help: 'If non-empty, will use this string as identification instead of the actual hostname.' },
  'node-ip': { type: 'string', help: 'IP address of the node (default: the first non-loopback IPv4 address).' },
  'pod-cidr': { type: 'string', help: 'The CIDR to use for pod IP addresses (default: the Node\'s spec.podCIDR, or the pod bridge\'s address).' },
  'root-dir': { type: 'string', default: '/var/lib/kubelet', help: 'Directory path for managing kubelet files.' },
  'bridge-name': { type: 'string', default: 'docker0', help: 'The pod bridge (docker0, as in the lab).' },
  'netns-prefix': { type: 'string', default: 'tskube-pod', help: 'Prefix of the pods\' network namespace names.' },
  'image-map': { type: 'string', help: 'JSON file mapping image regexps to host programs, extending the defaults (nginx, busybox, node, pause).' },
  'cluster-dns': { type: 'strings', help: 'Comma-separated list of DNS server IP addresses: pods with dnsPolicy ClusterFirst use them.' },
  'cluster-domain': { type: 'string', help: 'Domain for this cluster: pods with dnsPolicy ClusterFirst search <ns>.svc.<domain>, svc.<domain>, <domain>.' },
  'non-masquerade-cidr': { type: 'string', help: 'Traffic from pods to IPs outside this range is masqueraded on the node, as Docker does (tskube up gives the cluster CIDR); unset adds no rule.' },
  'resolv-conf': { type: 'string', default: '/etc/resolv.conf', help: 'Resolver configuration file used as the basis for the container DNS resolution configuration ("" for none).' },
  port: { type: 'int', default: 10250, help: 'The port for the Kubelet to serve on.' },
  address: { type: 'string', help: 'The IP address for the Kubelet to serve on (default: --node-ip).' },
  'pod-infra-container-image': { type: 'string', help: 'accepted (the process runtime needs no sandbox image)' },
  'allow-privileged': { type: 'bool', default: false, help: 'accepted' },
  'runtime-cgroups': { type: 'string', help: 'accepted' },
  'kubelet-cgroups': { type: 'string', help: 'accepted' },
  'container-runtime-endpoint': { type: 'string', help: 'accepted (tskube uses its process runtime)' },
  v: { type: 'int', default: 0, short: 'v', help: 'number for the log level verbosity' },
  help: { type: 'bool', default: false, short: 'h', help: 'help for kubelet' },
};

/** main runs `tskube kubelet` until SIGTERM; pods keep running across restarts of the kubelet. */
export async function main(argv: string[]): Promise<number> {
  const { values, given } = parseFlags(argv, FLAGS);
  if (values.help) {
    process.stdout.write(usage('tskube kubelet', 'Node agent: registers the node and runs its pods (process runtime).', FLAGS));
    return 0;
  }
  const logger = createLogger({ verbosity: values.v as number, source: 'kubelet.go' });
  const config = values.config ? (parseYaml(await readFile(values.config as string, 'utf8')) ?? {}) : {};
  if (values.config && config.kind !== undefined && config.kind !== 'KubeletConfiguration') throw new Error(`Cannot load --config "${values.config}": kind is "${config.kind}", expected KubeletConfiguration`);
  const nodeName = ((values['hostname-override'] as string | undefined) ?? hostname()).toLowerCase();
  const nodeIP = (values['node-ip'] as string | undefined) ?? firstIPv4();
  const port = config.port ?? (values.port as number);
  const resolvConf = given.has('resolv-conf') || config.resolvConf === undefined ? (values['resolv-conf'] as string) : String(config.resolvConf);
  const client = await connect({ kubeconfig: values.kubeconfig as string | undefined, userAgent: `kubelet/v1.33.0 (tskube) ${nodeName}` });
  const kubelet = new Kubelet({
    client, logger, nodeName, nodeIP, port,
    rootDir: values['root-dir'] as string,
    bridge: values['bridge-name'] as string,
    podCidr: (values['pod-cidr'] as string | undefined) ?? config.podCIDR,
    netnsPrefix: values['netns-prefix'] as string,
    images: imageTable(values['image-map'] as string | undefined),
    nonMasqueradeCidr: values['non-masquerade-cidr'] as string | undefined,
    clusterDNS: given.has('cluster-dns') ? (values['cluster-dns'] as string[]) : (config.clusterDNS ?? []),
    clusterDomain: (values['cluster-domain'] as string | undefined) ?? config.clusterDomain ?? '',
    hostDns: parseResolvConf(resolvConf ? await readFile(resolvConf, 'utf8').catch(() => '') : ''),
  });
  await kubelet.start();
  const server = await serveKubelet(kubelet, (values.address as string | undefined) ?? config.address ?? nodeIP, port);
  await untilSignal();
  server.close();
  await kubelet.stop();
  client.close();
  return 0;
}

