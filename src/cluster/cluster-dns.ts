import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Service, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { ClusterRole, ClusterRoleBinding } from 'kubernetes-types/rbac/v1.js';
import type { RestClient } from '../client/client.ts';
import { isStatusError } from '../api/status.ts';

/**
 * The cluster DNS add-on as kubeadm deploys CoreDNS (cmd/kubeadm/app/phases/addons/dns): in kube-system, the
 * Deployment `coredns` (two replicas spread over nodes, dnsPolicy Default, liveness on :8080/health, readiness on
 * :8181/ready, port 53 with only NET_BIND_SERVICE) behind the Service `kube-dns` at the tenth address of the service
 * range, labels k8s-app=kube-dns. Its pods run `tskube dns` through the process runtime's `tskube/tskube` image.
 */
export interface ClusterDnsManifestOptions {
  /** The kube-dns Service's ClusterIP (kubelets' --cluster-dns). */
  serviceIP: string;
  clusterDomain: string;
  /** The image that runs `tskube <args>`. */
  image: string;
  /** How the pods reach the API server until in-cluster config is usable (the API server's URL); undefined: in-cluster. */
  master?: string;
  /**
   * A kubeconfig file on the host the pods read through a hostPath volume (the ServiceAccount kube-system/coredns by
   * client certificate), until ServiceAccount token volumes reach pods; undefined: none.
   */
  kubeconfig?: string;
  replicas?: number;
}

export function clusterDnsManifests(options: ClusterDnsManifestOptions): {
  serviceAccount: ServiceAccount;
  clusterRole: ClusterRole;
  clusterRoleBinding: ClusterRoleBinding;
  deployment: Deployment;
  service: Service;
} {
  // kubeadm's RBAC for CoreDNS: its own ServiceAccount and the ClusterRole system:coredns (list/watch what it serves).
  const serviceAccount: ServiceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'coredns', namespace: 'kube-system' },
  };
  const clusterRole: ClusterRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'system:coredns', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
    rules: [
      { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
    ],
  };
  const clusterRoleBinding: ClusterRoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: {
      name: 'system:coredns',
      labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
      annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
    },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
    subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' }],
  };
  const labels = { 'k8s-app': 'kube-dns' };
  const deployment: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'coredns', namespace: 'kube-system', labels },
    spec: {
      replicas: options.replicas ?? 2,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: 'coredns',
          dnsPolicy: 'Default',
          ...(options.kubeconfig
            ? { volumes: [{ name: 'kubeconfig', hostPath: { path: options.kubeconfig, type: 'File' } }] }
            : {}),
          tolerations: [
            { key: 'CriticalAddonsOnly', operator: 'Exists' },
            { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
          ],
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: {
                    labelSelector: { matchExpressions: [{ key: 'k8s-app', operator: 'In', values: ['kube-dns'] }] },
                    topologyKey: 'kubernetes.io/hostname',
                  },
                },
              ],
            },
          },
          containers: [
            {
              name: 'coredns',
              image: options.image,
              imagePullPolicy: 'IfNotPresent',
              args: [
                'dns',
                `--cluster-domain=${options.clusterDomain}`,
                '--ttl=30',
                ...(options.master ? [`--master=${options.master}`] : []),
                ...(options.kubeconfig ? [`--kubeconfig=${options.kubeconfig}`] : []),
              ],
              ...(options.kubeconfig
                ? { volumeMounts: [{ name: 'kubeconfig', mountPath: options.kubeconfig, readOnly: true }] }
                : {}),
              resources: { limits: { memory: '170Mi' }, requests: { cpu: '100m', memory: '70Mi' } },
              ports: [
                { name: 'dns', containerPort: 53, protocol: 'UDP' },
                { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
              ],
              livenessProbe: {
                httpGet: { path: '/health', port: 8080, scheme: 'HTTP' },
                initialDelaySeconds: 60,
                timeoutSeconds: 5,
                successThreshold: 1,
                failureThreshold: 5,
              },
              readinessProbe: { httpGet: { path: '/ready', port: 8181, scheme: 'HTTP' }, periodSeconds: 1 },
              securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
                readOnlyRootFilesystem: true,
              },
            },
          ],
        },
      },
    },
  };
  const service: Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kube-dns',
      namespace: 'kube-system',
      labels: { ...labels, 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
      annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
    },
    spec: {
      selector: labels,
      clusterIP: options.serviceIP,
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
      ],
    },
  };
  return { serviceAccount, clusterRole, clusterRoleBinding, deployment, service };
}

/** applyClusterDns creates the add-on's objects in kubeadm's order, leaving existing ones as they are. */
export async function applyClusterDns(client: RestClient, options: ClusterDnsManifestOptions): Promise<void> {
  const m = clusterDnsManifests(options);
  const rbac = 'rbac.authorization.k8s.io';
  const steps: [ReturnType<RestClient['resource']>, string | undefined, object][] = [
    [client.resource('serviceaccounts', ''), 'kube-system', m.serviceAccount],
    [client.resource('clusterroles', rbac), undefined, m.clusterRole],
    [client.resource('clusterrolebindings', rbac), undefined, m.clusterRoleBinding],
    [client.resource('services', ''), 'kube-system', m.service],
    [client.resource('deployments', 'apps'), 'kube-system', m.deployment],
  ];
  for (const [resource, namespace, object] of steps) {
    await client.create(resource, namespace, object).catch((error) => {
      if (!isStatusError(error, 409)) throw error;
    });
  }
}
