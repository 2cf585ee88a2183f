import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../api/objects.ts';
import { Informer, ignoreStatus } from '../client/client.ts';
import { WorkQueue } from './work-queue.ts';
import type { ControllerContext } from './context.ts';

/** ROOT_CA_CONFIGMAP is the ConfigMap every namespace gets, as upstream's root-ca-cert-publisher names it. */
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';

const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

/**
 * RootCaPublisher is upstream's root-ca-cert-publisher: every active namespace has the ConfigMap `kube-root-ca.crt`
 * whose `ca.crt` is the cluster's root CA (--root-ca-file), put back when deleted or edited. Pods' ServiceAccount
 * volumes project it as `ca.crt`.
 */
export class RootCaPublisher {
  #ctx: ControllerContext;
  #ca: string;
  #queue: WorkQueue;
  #configMaps: Informer<Stored<ConfigMap>>;

  constructor(ctx: ControllerContext, rootCa: string) {
    this.#ctx = ctx;
    this.#ca = rootCa;
    this.#queue = new WorkQueue((ns) => this.#sync(ns), {
      onError: (ns, error) => ctx.logger.error('Error syncing the root CA ConfigMap', { namespace: ns, error }),
    });
    this.#configMaps = new Informer(
      ctx.client,
      ctx.client.typed('configmaps'),
      {
        onDelete: (cm) => this.#queue.add(cm.metadata.namespace!),
        onUpdate: (_old, cm) => this.#queue.add(cm.metadata.namespace!),
      },
      { fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}`, logger: ctx.logger },
    );
    ctx.informers.namespaces.addHandlers({
      onAdd: (ns) => this.#queue.add(ns.metadata.name),
      onUpdate: (_o, ns) => this.#queue.add(ns.metadata.name),
    });
  }

  /** informer is the ConfigMap informer, for the controller manager to start and wait for with the shared ones. */
  get informer(): Informer<Stored<ConfigMap>> {
    return this.#configMaps;
  }

  async #sync(namespace: string): Promise<void> {
    await this.#ctx.synced;
    const { client, informers } = this.#ctx;
    const ns = informers.namespaces.get(namespace);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase !== 'Active') return;
    const info = client.typed('configmaps');
    const current = this.#configMaps.get(`${namespace}/${ROOT_CA_CONFIGMAP}`);
    const data = { 'ca.crt': this.#ca };
    // Written meanwhile (a stale cache), or the namespace went away or began terminating.
    const ignoreGone = ignoreStatus(409, 404, 403);
    if (!current) {
      await client
        .create(info, namespace, {
          metadata: { name: ROOT_CA_CONFIGMAP, annotations: { 'kubernetes.io/description': DESCRIPTION } },
          data,
        })
        .catch(ignoreGone);
    } else if (current.data?.['ca.crt'] !== this.#ca || Object.keys(current.data ?? {}).length !== 1) {
      await client.update(info, { ...current, data }).catch(ignoreGone);
    }
  }
}
