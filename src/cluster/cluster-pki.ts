import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubeconfigText } from '../client/kubeconfig.ts';
import { nthAddress, parseCidr } from '../net/ipv4.ts';
import { createCa, createSigningKey, issueApiserverCertificate, issueCertificate, type KeyPair } from '../pki/pki.ts';
import { CONTROLLER_SERVICE_ACCOUNTS } from '../apiserver/auth/bootstrap-policy.ts';
import type { ClusterLayout } from './layout.ts';

/**
 * ClusterPki is every credential file of a `tskube up` cluster, as kubeadm lays them out: the cluster CA, the API
 * server's serving certificate and its client certificate for kubelets, the ServiceAccount signing key, a kubeconfig
 * per component (each with its own client certificate: the identity its bootstrap RBAC role is bound to), and per
 * node a kubelet kubeconfig (`system:node:<name>` in `system:nodes`), a kube-proxy kubeconfig and the kubelet's
 * serving certificate. Every file is mode 0600 in directories mode 0700 (root only).
 */
export interface ClusterPki {
  dir: string;
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  kubeletClientCert: string;
  kubeletClientKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
  admin: string;
  controllerManager: string;
  scheduler: string;
  /** The cluster DNS pods' kubeconfig (ServiceAccount kube-system/coredns, by certificate). */
  coredns: string;
  nodes: Record<string, { kubelet: string; proxy: string; servingCert: string; servingKey: string }>;
}

/** KUBELET_CLIENT_USER is the API server's identity towards kubelets (kubeadm's apiserver-kubelet-client). */
export const KUBELET_CLIENT_USER = 'kube-apiserver-kubelet-client';

/** clusterPkiPaths names the files (pure). */
export function clusterPkiPaths(layout: ClusterLayout): ClusterPki {
  const dir = join(layout.dir, 'pki');
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    apiserverCert: join(dir, 'apiserver.crt'),
    apiserverKey: join(dir, 'apiserver.key'),
    kubeletClientCert: join(dir, 'apiserver-kubelet-client.crt'),
    kubeletClientKey: join(dir, 'apiserver-kubelet-client.key'),
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPub: join(dir, 'sa.pub'),
    admin: layout.kubeconfig,
    controllerManager: join(layout.dir, 'controller-manager.conf'),
    scheduler: join(layout.dir, 'scheduler.conf'),
    coredns: join(layout.dir, 'coredns.conf'),
    nodes: Object.fromEntries(
      layout.nodes.map((n) => [
        n.name,
        {
          kubelet: join(layout.dir, `${n.name}.conf`),
          proxy: join(n.dir, 'kube-proxy.conf'),
          servingCert: join(n.dir, 'pki', 'kubelet.crt'),
          servingKey: join(n.dir, 'pki', 'kubelet.key'),
        },
      ]),
    ),
  };
}

/**
 * createClusterPki writes the cluster's credentials (keeping a CA that is already there, so `up --repair` and a
 * second `up` agree). The admin kubeconfig carries a `system:masters` certificate; in --lab mode the kubeconfigs
 * name the insecure URL and carry no credentials, as the lab's do.
 */
export async function createClusterPki(layout: ClusterLayout, server: string): Promise<ClusterPki> {
  const p = clusterPkiPaths(layout);
  mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  const write = (file: string, text: string) => {
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(file, text, { mode: 0o600 });
  };
  let ca: KeyPair;
  if (existsSync(p.caCert) && existsSync(p.caKey))
    ca = { cert: readFileSync(p.caCert, 'utf8'), key: readFileSync(p.caKey, 'utf8') };
  else {
    ca = await createCa('kubernetes');
    write(p.caCert, ca.cert);
    write(p.caKey, ca.key);
  }
  const kubernetesIp = nthAddress(parseCidr(layout.options.serviceCidr), 1);
  const domain = layout.clusterDomain;
  const apiserver = await issueApiserverCertificate(ca, {
    clusterDomain: domain,
    ips: [kubernetesIp, layout.controlPlaneIp, '127.0.0.1'],
  });
  write(p.apiserverCert, apiserver.cert);
  write(p.apiserverKey, apiserver.key);
  const kubeletClient = await issueCertificate(ca, { commonName: KUBELET_CLIENT_USER, usage: 'client' });
  write(p.kubeletClientCert, kubeletClient.cert);
  write(p.kubeletClientKey, kubeletClient.key);
  if (!existsSync(p.serviceAccountKey)) {
    const sa = await createSigningKey();
    write(p.serviceAccountKey, sa.privateKey);
    write(p.serviceAccountPub, sa.publicKey);
  }
  const lab = layout.options.lab;
  const kubeconfig = async (file: string, user: string, groups: string[] = []) => {
    if (lab) return write(file, kubeconfigText(server, { name: layout.options.name, user }));
    const pair = await issueCertificate(ca, { commonName: user, organizations: groups, usage: 'client' });
    write(
      file,
      kubeconfigText(server, {
        name: layout.options.name,
        user,
        ca: ca.cert,
        clientCert: pair.cert,
        clientKey: pair.key,
      }),
    );
  };
  await kubeconfig(p.admin, 'kubernetes-admin', ['system:masters']);
  await kubeconfig(p.controllerManager, 'system:kube-controller-manager');
  await kubeconfig(p.scheduler, 'system:kube-scheduler');
  await kubeconfig(p.coredns, 'system:serviceaccount:kube-system:coredns', [
    'system:serviceaccounts',
    'system:serviceaccounts:kube-system',
  ]);
  for (const node of layout.nodes) {
    const files = p.nodes[node.name]!;
    await kubeconfig(files.kubelet, `system:node:${node.name}`, ['system:nodes']);
    await kubeconfig(files.proxy, 'system:kube-proxy');
    const serving = await issueCertificate(ca, {
      commonName: node.name,
      usage: 'server',
      dnsNames: [node.name],
      ips: [node.ip],
    });
    write(files.servingCert, serving.cert);
    write(files.servingKey, serving.key);
  }
  return p;
}

const RBAC = 'rbac.authorization.k8s.io';

function clusterRoleBinding(name: string, role: string, subject: object): object {
  return {
    apiVersion: `${RBAC}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: role },
    subjects: [subject],
  };
}

/**
 * CLUSTER_ACCESS_OBJECTS are the RBAC objects `up` adds to the bootstrap policy, as kubeadm adds its own: the API
 * server's kubelet client gets system:kubelet-api-admin (logs, exec); CoreDNS gets kubeadm's system:coredns role;
 * and the controller manager, which runs every controller with its own credentials (upstream's
 * --use-service-account-credentials=false), gets each controller's bootstrap role.
 */
export const CLUSTER_ACCESS_OBJECTS: [string, object][] = [
  [
    'clusterrolebindings',
    clusterRoleBinding('kubeadm:apiserver-kubelet-client', 'system:kubelet-api-admin', {
      apiGroup: RBAC,
      kind: 'User',
      name: KUBELET_CLIENT_USER,
    }),
  ],
  [
    'clusterroles',
    {
      apiVersion: `${RBAC}/v1`,
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
  ],
  [
    'clusterrolebindings',
    clusterRoleBinding('system:coredns', 'system:coredns', {
      kind: 'ServiceAccount',
      name: 'coredns',
      namespace: 'kube-system',
    }),
  ],
  ...CONTROLLER_SERVICE_ACCOUNTS.map((name): [string, object] => [
    'clusterrolebindings',
    clusterRoleBinding(`tskube:kube-controller-manager:${name}`, `system:controller:${name}`, {
      apiGroup: RBAC,
      kind: 'User',
      name: 'system:kube-controller-manager',
    }),
  ]),
];
