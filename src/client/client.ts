/**
 * The client folder: how components reach the API server. Import from here.
 */
export { loadKubeconfig, kubeconfigText, type ClusterConnection } from './kubeconfig.ts';
export { RestClient, type ListOptions, type WatchOptions, type PatchType, type WatchEventType } from './rest-client.ts';
export { ignoreNotFound, ignoreStatus } from './errors.ts';
export { Informer, keyOf, onEveryChange, type InformerHandlers, type InformerOptions } from './informer.ts';
export type { ListOf, ObjectOf, Resource, ResourceTypes } from './typed-resources.ts';

import { loadKubeconfig } from './kubeconfig.ts';
import { RestClient } from './rest-client.ts';

/** SERVICE_ACCOUNT_DIR is where a pod finds its ServiceAccount's token, CA and namespace (client-go's rest.InClusterConfig). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * connect builds a RestClient from a kubeconfig path, or from a server URL (`--master`) when one is given; with
 * `inCluster` and neither, from the pod's environment as client-go's InClusterConfig does (KUBERNETES_SERVICE_HOST
 * and _PORT, the ServiceAccount token and CA files).
 */
export async function connect(options: {
  kubeconfig?: string;
  master?: string;
  userAgent: string;
  inCluster?: boolean;
}): Promise<RestClient> {
  if (!options.kubeconfig && !options.master && options.inCluster)
    return new RestClient(await inClusterConnection(), { userAgent: options.userAgent });
  if (options.kubeconfig) {
    const connection = await loadKubeconfig(options.kubeconfig);
    if (options.master) connection.server = options.master.replace(/\/+$/, '');
    return new RestClient(connection, { userAgent: options.userAgent });
  }
  if (options.master)
    return new RestClient(
      { server: options.master.replace(/\/+$/, ''), namespace: 'default' },
      { userAgent: options.userAgent },
    );
  throw new Error('Cannot reach the API server: neither --kubeconfig nor --master was given');
}

/** inClusterConnection reads the pod's in-cluster config; it throws naming what is missing, as client-go does. */
async function inClusterConnection(): Promise<import('./kubeconfig.ts').ClusterConnection> {
  const { readFile } = await import('node:fs/promises');
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  if (!host || !port)
    throw new Error(
      'Cannot load in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined',
    );
  const token = (await readFile(`${SERVICE_ACCOUNT_DIR}/token`, 'utf8')).trim();
  // Without the CA the server cannot be verified: fail (the kubelet restarts the container) rather than trust anything.
  const ca = await readFile(`${SERVICE_ACCOUNT_DIR}/ca.crt`);
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    server,
    token,
    tokenFile: `${SERVICE_ACCOUNT_DIR}/token`,
    namespace: (await readFile(`${SERVICE_ACCOUNT_DIR}/namespace`, 'utf8').catch(() => 'default')).trim(),
    ...(ca ? { ca } : {}),
  };
}
