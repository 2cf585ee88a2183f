import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { connect } from '../client/client.ts';
import { Kubelet, imageTable } from '../kubelet/kubelet.ts';
import { serveKubelet } from '../kubelet/server.ts';
import { KubeletAuth } from '../kubelet/kubelet-auth.ts';
import { createCa, issueCertificate } from '../pki/pki.ts';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstIPv4 } from '../sys/process.ts';
import { parseResolvConf } from '../kubelet/resolv-conf.ts';
import type { TypedFlagValues } from './flags.ts';
import { componentFlags, runComponent, type ComponentFlags } from './run-component.ts';

const FLAGS = {
  kubeconfig: { type: 'string', help: 'Path to a kubeconfig file, specifying how to connect to the API server.' },
  config: {
    type: 'string',
    help: 'The Kubelet will load its initial configuration from this file (KubeletConfiguration).',
  },
  'hostname-override': {
    type: 'string',
    help: 'If non-empty, will use this string as identification instead of the actual hostname.',
  },
  'node-ip': { type: 'string', help: 'IP address of the node (default: the first non-loopback IPv4 address).' },
  'pod-cidr': {
    type: 'string',
    help: "The CIDR to use for pod IP addresses (default: the Node's spec.podCIDR, or the pod bridge's address).",
  },
  'root-dir': { type: 'string', default: '/var/lib/kubelet', help: 'Directory path for managing kubelet files.' },
  'bridge-name': { type: 'string', default: 'docker0', help: 'The pod bridge (docker0, as in the lab).' },
  'netns-prefix': { type: 'string', default: 'tskube-pod', help: "Prefix of the pods' network namespace names." },
  'image-map': {
    type: 'string',
    help: 'JSON file mapping image regexps to host programs, extending the defaults (nginx, busybox, node, pause).',
  },
  'cluster-dns': {
    type: 'strings',
    help: 'Comma-separated list of DNS server IP addresses: pods with dnsPolicy ClusterFirst use them.',
  },
  'cluster-domain': {
    type: 'string',
    help: 'Domain for this cluster: pods with dnsPolicy ClusterFirst search <ns>.svc.<domain>, svc.<domain>, <domain>.',
  },
  'non-masquerade-cidr': {
    type: 'string',
    help: 'Traffic from pods to IPs outside this range is masqueraded on the node, as Docker does (tskube up gives the cluster CIDR); unset adds no rule.',
  },
  'resolv-conf': {
    type: 'string',
    default: '/etc/resolv.conf',
    help: 'Resolver configuration file used as the basis for the container DNS resolution configuration ("" for none).',
  },
  port: { type: 'int', default: 10250, help: 'The port for the Kubelet to serve on.' },
  address: { type: 'string', help: 'The IP address for the Kubelet to serve on (default: --node-ip).' },
  'tls-cert-file': {
    type: 'string',
    help: 'File containing x509 Certificate used for serving HTTPS. If not provided, a self-signed certificate and key are generated in --root-dir/pki.',
  },
  'tls-private-key-file': { type: 'string', help: 'File containing x509 private key matching --tls-cert-file.' },
  'client-ca-file': {
    type: 'string',
    help: 'If set, any request presenting a client certificate signed by one of the authorities in the client-ca-file is authenticated with an identity corresponding to the CommonName of the client certificate.',
  },
  'anonymous-auth': {
    type: 'bool',
    default: true,
    help: 'Enables anonymous requests to the Kubelet server. Requests that are not rejected by another authentication method are treated as anonymous requests (tskube up sets false).',
  },
  'authentication-token-webhook': {
    type: 'bool',
    default: false,
    help: 'Use the TokenReview API to determine authentication for bearer tokens (tskube up sets true).',
  },
  'authorization-mode': {
    type: 'string',
    default: 'AlwaysAllow',
    help: 'Authorization mode for Kubelet server: AlwaysAllow or Webhook (SubjectAccessReview on nodes/<subresource>; tskube up sets Webhook).',
  },
  'pod-infra-container-image': { type: 'string', help: 'accepted (the process runtime needs no sandbox image)' },
  'allow-privileged': { type: 'bool', default: false, help: 'accepted' },
  'runtime-cgroups': { type: 'string', help: 'accepted' },
  'kubelet-cgroups': { type: 'string', help: 'accepted' },
  'container-runtime-endpoint': { type: 'string', help: 'accepted (tskube uses its process runtime)' },
  ...componentFlags('kubelet'),
} satisfies ComponentFlags;

/** main runs `tskube kubelet` until SIGTERM; pods keep running across restarts of the kubelet. */
export function main(argv: string[]): Promise<number> {
  return runComponent(argv, {
    command: 'tskube kubelet',
    flags: FLAGS,
    logSource: 'kubelet.go',
    summary: 'Node agent: registers the node and runs its pods (process runtime).',
    async start({ values, given, logger }) {
      const config = values.config ? (parseYaml(await readFile(values.config, 'utf8')) ?? {}) : {};
      if (values.config && config.kind !== undefined && config.kind !== 'KubeletConfiguration')
        throw new Error(
          `Cannot load --config "${values.config}": kind is "${config.kind}", expected KubeletConfiguration`,
        );
      const nodeName = (values['hostname-override'] ?? hostname()).toLowerCase();
      const nodeIP = values['node-ip'] ?? firstIPv4();
      const port = config.port ?? values.port;
      const resolvConf =
        given.has('resolv-conf') || config.resolvConf === undefined ? values['resolv-conf'] : String(config.resolvConf);
      const client = await connect({
        kubeconfig: values.kubeconfig as string | undefined,
        userAgent: `kubelet/v1.33.0 (tskube) ${nodeName}`,
      });
      const kubelet = new Kubelet({
        client,
        logger,
        nodeName,
        nodeIP,
        port,
        rootDir: values['root-dir'],
        bridge: values['bridge-name'],
        podCidr: values['pod-cidr'] ?? config.podCIDR,
        netnsPrefix: values['netns-prefix'],
        images: imageTable(values['image-map']),
        nonMasqueradeCidr: values['non-masquerade-cidr'] as string | undefined,
        clusterDNS: given.has('cluster-dns') ? values['cluster-dns'] : (config.clusterDNS ?? []),
        clusterDomain: values['cluster-domain'] ?? config.clusterDomain ?? '',
        hostDns: parseResolvConf(resolvConf ? await readFile(resolvConf, 'utf8').catch(() => '') : ''),
      });
      await kubelet.start();
      const mode = values['authorization-mode'];
      if (mode !== 'AlwaysAllow' && mode !== 'Webhook')
        throw new Error(`Cannot use --authorization-mode "${mode}": AlwaysAllow or Webhook`);
      const tls = await servingCertificate(values, values['root-dir'], nodeName, nodeIP);
      const clientCa = values['client-ca-file'] ? readFileSync(values['client-ca-file']) : undefined;
      const auth = new KubeletAuth({
        client,
        nodeName,
        anonymous: values['anonymous-auth'],
        tokenWebhook: values['authentication-token-webhook'],
        authorizationMode: mode,
      });
      const server = await serveKubelet(kubelet, values.address ?? config.address ?? nodeIP, port, {
        tls: { ...tls, clientCa },
        auth,
      });
      return {
        async stop() {
          server.close();
          await kubelet.stop();
          client.close();
        },
      };
    },
  });
}

/** servingCertificate loads --tls-cert-file, or makes a certificate for the node in --root-dir/pki once, as upstream. */
async function servingCertificate(
  values: TypedFlagValues<typeof FLAGS>,
  rootDir: string,
  nodeName: string,
  nodeIP: string,
): Promise<{ cert: Buffer; key: Buffer }> {
  if (values['tls-cert-file']) {
    if (!values['tls-private-key-file'])
      throw new Error('Cannot serve HTTPS: --tls-cert-file needs --tls-private-key-file');
    return { cert: readFileSync(values['tls-cert-file']), key: readFileSync(values['tls-private-key-file']) };
  }
  const dir = join(rootDir, 'pki');
  const certFile = join(dir, 'kubelet.crt');
  const keyFile = join(dir, 'kubelet.key');
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const ca = await createCa(`${nodeName}-ca@${Math.floor(Date.now() / 1000)}`);
    const pair = await issueCertificate(ca, {
      commonName: `${nodeName}@${Math.floor(Date.now() / 1000)}`,
      usage: 'server',
      dnsNames: [nodeName],
      ips: [nodeIP],
    });
    writeFileSync(keyFile, pair.key, { mode: 0o600 });
    writeFileSync(certFile, pair.cert + ca.cert, { mode: 0o644 });
  }
  return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
}
