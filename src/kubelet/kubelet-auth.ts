import type { TokenReview } from 'kubernetes-types/authentication/v1.js';
import type { SubjectAccessReview } from 'kubernetes-types/authorization/v1.js';
import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import type { RestClient } from '../client/client.ts';
import { verbOfMethod } from '../api/verbs.ts';

/** KubeletUser is who called the kubelet's API. */
export interface KubeletUser {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/**
 * KubeletAuthOptions are upstream's kubelet authentication and authorization settings (flags of the same names):
 * `--anonymous-auth`, `--client-ca-file` (checked by the TLS server), `--authentication-token-webhook` (TokenReview),
 * `--authorization-mode` Webhook (SubjectAccessReview) or AlwaysAllow.
 */
export interface KubeletAuthOptions {
  client: RestClient;
  nodeName: string;
  anonymous: boolean;
  tokenWebhook: boolean;
  authorizationMode: 'AlwaysAllow' | 'Webhook';
}

const CACHE_MS = 30_000;
/**
 * KubeletAuth guards the kubelet's port the way upstream's server does: authenticate (verified client certificate,
 * bearer token through a TokenReview, or anonymous), then authorize a `nodes/<subresource>` request on the node
 * through a SubjectAccessReview. Answers are cached briefly, as upstream's webhook caches are.
 */
export class KubeletAuth {
  #o: KubeletAuthOptions;
  #tokens = new Map<string, { user: KubeletUser | undefined; until: number }>();
  #decisions = new Map<string, { allowed: boolean; until: number }>();

  constructor(options: KubeletAuthOptions) {
    this.#o = options;
  }

  /** check returns undefined when the request may go on, else the status code and text to answer. */
  async check(req: IncomingMessage): Promise<{ code: number; text: string } | undefined> {
    const user = await this.#authenticate(req);
    if (!user) return { code: 401, text: 'Unauthorized' };
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const verb = verbOfMethod(req.method ?? 'GET');
    const subresource = subresourceOf(url.pathname);
    if (await this.#authorize(user, verb, subresource)) return undefined;
    return {
      code: 403,
      text: `Forbidden (user=${user.username}, verb=${verb}, resource=nodes, subresource=${subresource})`,
    };
  }

  async #authenticate(req: IncomingMessage): Promise<KubeletUser | undefined> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (m) return this.#o.tokenWebhook ? this.#tokenReview(m[1]!) : undefined;
    const socket = req.socket;
    if (socket instanceof TLSSocket) {
      const cert = socket.getPeerCertificate();
      if (cert && Object.keys(cert).length > 0) {
        if (!socket.authorized) return undefined;
        const subject = cert.subject as unknown as Record<string, string | string[]>;
        const cn = Array.isArray(subject.CN) ? subject.CN[0] : subject.CN;
        if (!cn) return undefined;
        const o = subject.O;
        return {
          username: cn,
          groups: [...(o === undefined ? [] : Array.isArray(o) ? o : [o]), 'system:authenticated'],
        };
      }
    }
    return this.#o.anonymous ? { username: 'system:anonymous', groups: ['system:unauthenticated'] } : undefined;
  }

  async #tokenReview(token: string): Promise<KubeletUser | undefined> {
    const now = Date.now();
    const cached = this.#tokens.get(token);
    if (cached && cached.until > now) return cached.user;
    const review = await this.#o.client.request<TokenReview>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    });
    const info = review?.status?.authenticated ? review.status.user : undefined;
    const user = info
      ? { username: info.username ?? '', uid: info.uid, groups: info.groups ?? [], extra: info.extra }
      : undefined;
    if (this.#tokens.size > 1024) this.#tokens.clear();
    this.#tokens.set(token, { user, until: now + CACHE_MS });
    return user;
  }

  async #authorize(user: KubeletUser, verb: string, subresource: string): Promise<boolean> {
    if (this.#o.authorizationMode === 'AlwaysAllow') return true;
    const key = JSON.stringify([user.username, user.groups, verb, subresource]);
    const now = Date.now();
    const cached = this.#decisions.get(key);
    if (cached && cached.until > now) return cached.allowed;
    const review = await this.#o.client.request<SubjectAccessReview>(
      'POST',
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      {
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: user.username,
            uid: user.uid,
            groups: user.groups,
            extra: user.extra,
            resourceAttributes: { verb, resource: 'nodes', subresource, name: this.#o.nodeName },
          },
        },
      },
    );
    const allowed = review?.status?.allowed === true;
    if (this.#decisions.size > 1024) this.#decisions.clear();
    this.#decisions.set(key, { allowed, until: now + CACHE_MS });
    return allowed;
  }
}

/** subresourceOf maps a kubelet path to the `nodes` subresource upstream authorizes it as. */
export function subresourceOf(path: string): string {
  if (path.startsWith('/stats')) return 'stats';
  if (path.startsWith('/metrics')) return 'metrics';
  if (path.startsWith('/logs')) return 'log';
  if (path.startsWith('/spec')) return 'spec';
  if (path.startsWith('/checkpoint')) return 'checkpoint';
  if (path.startsWith('/configz')) return 'configz';
  if (path.startsWith('/healthz')) return 'healthz';
  return 'proxy';
}
