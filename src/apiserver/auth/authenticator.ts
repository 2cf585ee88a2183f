import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import type { Node, Pod, Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../../api/objects.ts';
import type { Logger } from '../../log/klog.ts';
import type { ServiceAccountTokens } from './service-account-tokens.ts';
import { ALL_AUTHENTICATED, ANONYMOUS_USER, serviceAccountGroups, type UserInfo } from './user.ts';

/** LookedUp is the type of the objects ObjectLookup reads, by resource. */
export interface LookedUp {
  serviceaccounts: ServiceAccount;
  pods: Pod;
  secrets: Secret;
  nodes: Node;
}

/** ObjectLookup reads one object: null when it does not exist, undefined when its kind is not served. */
export type ObjectLookup = <R extends keyof LookedUp>(
  resource: R,
  namespace: string | undefined,
  name: string,
) => Promise<Stored<LookedUp[R]> | null | undefined>;

export interface AuthenticatorOptions {
  /** ServiceAccount token verification (absent: bearer tokens are not accepted). */
  tokens?: ServiceAccountTokens;
  /** --anonymous-auth: requests without credentials run as system:anonymous. */
  anonymous: boolean;
  lookup: ObjectLookup;
  logger: Logger;
}

/** AuthenticationResult is a user, or the reason the request gets 401. */
export type AuthenticationResult = { user: UserInfo; audiences?: string[] } | { error: string };

const TOKEN_CACHE_MS = 10_000;
const TOKEN_CACHE_SIZE = 4096;

/**
 * Authenticator runs upstream's chain: a bearer token (ServiceAccount JWT) when the request carries one, else the
 * TLS client certificate verified against --client-ca-file (CN is the user, O the groups), else anonymous. A
 * presented credential that fails is a 401 even when anonymous requests are allowed, as upstream.
 */
export class Authenticator {
  #o: AuthenticatorOptions;
  #certUsers = new WeakMap<object, UserInfo>();
  #tokenCache = new Map<string, { result: AuthenticationResult; until: number }>();

  constructor(options: AuthenticatorOptions) {
    this.#o = options;
  }

  async authenticate(req: IncomingMessage): Promise<AuthenticationResult> {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (m) return this.authenticateToken(m[1]!);
    }
    const socket = req.socket;
    if (socket instanceof TLSSocket) {
      const cached = this.#certUsers.get(socket);
      if (cached) return { user: cached };
      const cert = socket.getPeerCertificate();
      if (cert && Object.keys(cert).length > 0) {
        if (!socket.authorized)
          return { error: `x509: certificate signed by unknown authority (${String(socket.authorizationError)})` };
        const user = certificateUser(cert.subject);
        if (!user) return { error: 'x509: certificate has no common name' };
        this.#certUsers.set(socket, user);
        return { user };
      }
    }
    if (this.#o.anonymous) return { user: ANONYMOUS_USER };
    return { error: 'no credentials' };
  }

  /** authenticateToken checks a bearer token (also what TokenReview asks), caching the answer briefly. */
  async authenticateToken(token: string, audiences?: string[]): Promise<AuthenticationResult> {
    const key = audiences ? `${audiences.join(',')}\n${token}` : token;
    const now = Date.now();
    const cached = this.#tokenCache.get(key);
    if (cached && cached.until > now) return cached.result;
    const result = await this.#verifyToken(token, audiences);
    if (this.#tokenCache.size >= TOKEN_CACHE_SIZE) this.#tokenCache.clear();
    if ('user' in result) this.#tokenCache.set(key, { result, until: now + TOKEN_CACHE_MS });
    return result;
  }

  async #verifyToken(token: string, audiences?: string[]): Promise<AuthenticationResult> {
    const tokens = this.#o.tokens;
    if (!tokens) return { error: 'invalid bearer token' };
    let verified: Awaited<ReturnType<typeof tokens.verify>>;
    try {
      verified = await tokens.verify(token, audiences);
    } catch (error) {
      this.#o.logger.v(4).info('Token verification failed', { error: (error as Error).message });
      return { error: 'invalid bearer token' };
    }
    if (!verified) return { error: 'invalid bearer token' };
    const claims = verified.kubernetes;
    const lookup = this.#o.lookup;
    const sa = await lookup('serviceaccounts', claims.namespace, claims.serviceaccount.name);
    if (sa === null) return { error: `serviceaccounts "${claims.serviceaccount.name}" not found` };
    if (sa?.metadata?.deletionTimestamp)
      return { error: `service account ${claims.namespace}/${claims.serviceaccount.name} has been deleted` };
    if (sa && claims.serviceaccount.uid && sa.metadata?.uid !== claims.serviceaccount.uid) {
      return { error: `service account UID (${sa.metadata?.uid}) does not match claim (${claims.serviceaccount.uid})` };
    }
    const extra: Record<string, string[]> = {};
    if (claims.pod) {
      const pod = await lookup('pods', claims.namespace, claims.pod.name);
      if (!pod || pod.metadata?.uid !== claims.pod.uid || pod.metadata?.deletionTimestamp)
        return { error: `pod ${claims.namespace}/${claims.pod.name} bound to the token is gone` };
      extra['authentication.kubernetes.io/pod-name'] = [claims.pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [claims.pod.uid];
    }
    if (claims.secret) {
      const secret = await lookup('secrets', claims.namespace, claims.secret.name);
      if (secret === null || (secret && secret.metadata?.uid !== claims.secret.uid))
        return { error: `secret ${claims.namespace}/${claims.secret.name} bound to the token is gone` };
    }
    if (claims.node) {
      extra['authentication.kubernetes.io/node-name'] = [claims.node.name];
      extra['authentication.kubernetes.io/node-uid'] = [claims.node.uid];
    }
    if (verified.jti) extra['authentication.kubernetes.io/credential-id'] = [`JTI=${verified.jti}`];
    const user: UserInfo = {
      username: verified.subject,
      uid: claims.serviceaccount.uid || sa?.metadata?.uid,
      groups: serviceAccountGroups(claims.namespace),
      extra,
    };
    return { user, audiences: verified.audiences };
  }
}

/** certificateUser turns a verified client certificate's subject into a user: CN the name, each O a group. */
export function certificateUser(
  // Node types each name field as a string; a certificate with several O (or CN) values gives an array.
  subject: { CN?: string | string[]; O?: string | string[] } | undefined,
): UserInfo | undefined {
  const cn = subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (!name) return undefined;
  const o = subject?.O;
  const groups = o === undefined ? [] : Array.isArray(o) ? [...o] : [o];
  return { username: name, groups: [...groups, ALL_AUTHENTICATED] };
}
