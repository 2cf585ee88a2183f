import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';

/**
 * Stored is an object as the API server hands it out (a get, a list item, a watch event, an informer's cache): the
 * kubernetes-types shape, with the metadata the registry always sets made required.
 */
export type Stored<T extends { metadata?: ObjectMeta }> = T & {
  metadata: ObjectMeta & Required<Pick<ObjectMeta, 'name' | 'uid' | 'resourceVersion' | 'creationTimestamp'>>;
};

/**
 * KubeObject is any API object as generic code sees it (the registry, admission, a printer's fallback): its type
 * meta and metadata. Per-kind code takes its kind's kubernetes-types type instead.
 */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}
