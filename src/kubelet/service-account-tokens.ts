import type { TokenRequest } from 'kubernetes-types/authentication/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../api/objects.ts';
import type { RestClient } from '../client/client.ts';

/** ServiceAccountTokenSource is a projected volume's `serviceAccountToken` source. */
export interface ServiceAccountTokenSource {
  audience?: string;
  expirationSeconds?: number;
  path: string;
}

const MIN_SECONDS = 600;
const DEFAULT_SECONDS = 3600;
const DAY_MS = 86_400_000;

/**
 * ServiceAccountTokenManager gets the tokens of pods' projected ServiceAccount volumes the way upstream's kubelet
 * token manager does: a TokenRequest bound to the pod (with the node's own credentials, which the Node authorizer
 * allows only for the ServiceAccount of a pod on this node), cached, and requested again once 80% of its lifetime
 * (or 24 hours) has passed, so a kubelet that rewrites the volume's files keeps them fresh.
 */
export class ServiceAccountTokenManager {
  #client: RestClient;
  #cache = new Map<string, { token: string; issued: number; expires: number }>();

  constructor(client: RestClient) {
    this.#client = client;
  }

  /** token returns a valid token for the pod's ServiceAccount and the source's audience and lifetime. */
  async token(pod: Stored<Pod>, source: ServiceAccountTokenSource, now = Date.now()): Promise<string> {
    const sa = pod.spec?.serviceAccountName || 'default';
    const seconds = Math.max(MIN_SECONDS, source.expirationSeconds ?? DEFAULT_SECONDS);
    const key = `${pod.metadata.uid}/${sa}/${source.audience ?? ''}/${seconds}`;
    const cached = this.#cache.get(key);
    if (cached && !requiresRefresh(cached, now)) return cached.token;
    const request = await this.#client.request<TokenRequest>(
      'POST',
      `/api/v1/namespaces/${encodeURIComponent(pod.metadata.namespace ?? 'default')}/serviceaccounts/${encodeURIComponent(sa)}/token`,
      {
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {
            audiences: source.audience ? [source.audience] : [],
            expirationSeconds: seconds,
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
          },
        },
      },
    );
    const token = request.status!.token;
    this.#cache.set(key, { token, issued: now, expires: Date.parse(request.status!.expirationTimestamp) });
    return token;
  }

  /** forget drops the tokens of a pod that is gone. */
  forget(podUid: string): void {
    for (const key of this.#cache.keys()) if (key.startsWith(`${podUid}/`)) this.#cache.delete(key);
  }
}

/** requiresRefresh is upstream's rule: refresh after 80% of the token's lifetime, or after 24 hours. */
export function requiresRefresh(token: { issued: number; expires: number }, now: number): boolean {
  const lifetime = token.expires - token.issued;
  return now >= token.issued + lifetime * 0.8 || now >= token.issued + DAY_MS;
}
