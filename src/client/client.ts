/**
 * The client folder: how components reach the API server. Import from here.
 */
export { loadKubeconfig, kubeconfigText, type ClusterConnection } from './kubeconfig.ts';
export { RestClient, type ListOptions, type WatchOptions, type PatchType, type WatchEventType } from './rest-client.ts';
export { Informer, keyOf, type InformerHandlers, type InformerOptions } from './informer.ts';

import { loadKubeconfig } from './kubeconfig.ts';
import { RestClient } from './rest-client.ts';

/** connect builds a RestClient from a kubeconfig path, or from a server URL (`--master`) when one is given. */
export async function connect(options: { kubeconfig?: string; master?: string; userAgent: string }): Promise<RestClient> {
  if (options.kubeconfig) {
    const connection = await loadKubeconfig(options.kubeconfig);
    if (options.master) connection.server = options.master.replace(/\/+$/, '');
    return new RestClient(connection, { userAgent: options.userAgent });
  }
  if (options.master) return new RestClient({ server: options.master.replace(/\/+$/, ''), namespace: 'default' }, { userAgent: options.userAgent });
  throw new Error('Cannot reach the API server: neither --kubeconfig nor --master was given');
}
