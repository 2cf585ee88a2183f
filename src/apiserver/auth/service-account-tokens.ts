import {
  createHash,
  createPrivateKey,
  createPublicKey,
  randomUUID,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { SignJWT, decodeProtectedHeader, jwtVerify } from 'jose';

/** BoundObject is what a token is bound to (a Pod or a Secret): it dies with the object. */
export interface BoundObject {
  kind: 'Pod' | 'Secret';
  name: string;
  uid: string;
}

/** TokenRequestSpec is what `serviceaccounts/token` (TokenRequest) asks for, after defaulting. */
export interface TokenRequestSpec {
  namespace: string;
  serviceAccount: { name: string; uid: string };
  audiences: string[];
  expirationSeconds: number;
  boundObject?: BoundObject;
  /** The node of a Pod-bound token (upstream adds it to the claims). */
  node?: { name: string; uid: string };
}

/** PrivateClaims is the `kubernetes.io` claim of a bound token, as upstream writes it. */
export interface PrivateClaims {
  namespace: string;
  serviceaccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
  secret?: { name: string; uid: string };
  node?: { name: string; uid: string };
  warnafter?: number;
}

export interface VerifiedToken {
  subject: string;
  audiences: string[];
  jti: string | undefined;
  expiresAt: number;
  kubernetes: PrivateClaims;
}

/**
 * ServiceAccountTokens signs and verifies bound ServiceAccount tokens: JWTs (jose) with upstream's claims (iss, sub
 * `system:serviceaccount:<ns>:<name>`, aud, exp, iat, nbf, jti, `kubernetes.io`), signed with
 * --service-account-signing-key-file and checked against every key of --service-account-key-file.
 */
export class ServiceAccountTokens {
  readonly issuers: string[];
  readonly apiAudiences: string[];
  #signingKey: KeyObject | undefined;
  #signingKid: string | undefined;
  #verifyKeys: { kid: string; key: KeyObject }[];

  constructor(options: {
    issuers: string[];
    apiAudiences?: string[];
    signingKeyPem?: string;
    verifyKeyPems: string[];
  }) {
    if (options.issuers.length === 0)
      throw new RangeError('Cannot issue ServiceAccount tokens: --service-account-issuer is required');
    this.issuers = options.issuers;
    this.apiAudiences = options.apiAudiences?.length ? options.apiAudiences : [options.issuers[0]!];
    if (options.signingKeyPem) {
      this.#signingKey = createPrivateKey(options.signingKeyPem);
      this.#signingKid = keyId(createPublicKey(this.#signingKey));
    }
    this.#verifyKeys = options.verifyKeyPems.flatMap(publicKeysOf).map((key) => ({ kid: keyId(key), key }));
    if (this.#signingKey) this.#verifyKeys.push({ kid: this.#signingKid!, key: createPublicKey(this.#signingKey) });
  }

  get canIssue(): boolean {
    return this.#signingKey !== undefined;
  }

  /** issue signs a token for a TokenRequest and returns it with its expiry (seconds since the epoch). */
  async issue(spec: TokenRequestSpec, now = Date.now()): Promise<{ token: string; expiresAt: number }> {
    if (!this.#signingKey) throw new Error('Cannot issue ServiceAccount tokens: no --service-account-signing-key-file');
    const iat = Math.floor(now / 1000);
    const exp = iat + spec.expirationSeconds;
    const claims: PrivateClaims = { namespace: spec.namespace, serviceaccount: spec.serviceAccount };
    if (spec.boundObject?.kind === 'Pod') claims.pod = { name: spec.boundObject.name, uid: spec.boundObject.uid };
    if (spec.boundObject?.kind === 'Secret') claims.secret = { name: spec.boundObject.name, uid: spec.boundObject.uid };
    if (spec.node) claims.node = spec.node;
    const token = await new SignJWT({ 'kubernetes.io': claims })
      .setProtectedHeader({ alg: algorithmOf(this.#signingKey), kid: this.#signingKid })
      .setIssuer(this.issuers[0]!)
      .setSubject(`system:serviceaccount:${spec.namespace}:${spec.serviceAccount.name}`)
      .setAudience(spec.audiences)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(this.#signingKey);
    return { token, expiresAt: exp };
  }

  /**
   * verify checks a token's signature, issuer, time and audience (any of `audiences`, default the API audiences);
   * it returns undefined for what is not a JWT of ours (another authenticator may know it) and throws for a token
   * of ours that is invalid.
   */
  async verify(token: string, audiences: string[] = this.apiAudiences): Promise<VerifiedToken | undefined> {
    if (token.split('.').length !== 3) return undefined;
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return undefined;
    }
    const candidates = kid ? this.#verifyKeys.filter((k) => k.kid === kid) : this.#verifyKeys;
    let lastError: unknown = new Error('no key to verify the token with');
    for (const { key } of candidates.length ? candidates : this.#verifyKeys) {
      try {
        const { payload } = await jwtVerify(token, key, {
          issuer: this.issuers,
          audience: audiences,
          clockTolerance: 60,
        });
        const k8s = payload['kubernetes.io'] as PrivateClaims | undefined;
        if (
          !k8s?.namespace ||
          !k8s.serviceaccount?.name ||
          payload.sub !== `system:serviceaccount:${k8s.namespace}:${k8s.serviceaccount.name}`
        ) {
          throw new Error('service account token claims are incomplete');
        }
        const aud = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
        return {
          subject: payload.sub,
          audiences: aud.filter((a) => audiences.includes(a)),
          jti: payload.jti,
          expiresAt: payload.exp ?? 0,
          kubernetes: k8s,
        };
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }
}

/** publicKeysOf reads every key in a PEM file: public keys, private keys (their public half) and certificates. */
function publicKeysOf(text: string): KeyObject[] {
  const blocks = text.match(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g) ?? [];
  return blocks.map((block) => {
    if (block.startsWith('-----BEGIN CERTIFICATE-----')) return new X509Certificate(block).publicKey;
    if (block.includes('PRIVATE KEY-----')) return createPublicKey(createPrivateKey(block));
    return createPublicKey(block);
  });
}

/** keyId is upstream's `kid`: the unpadded base64url SHA-256 of the DER public key. */
function keyId(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('base64url');
}

function algorithmOf(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'secp384r1') return 'ES384';
    if (curve === 'secp521r1') return 'ES512';
    return 'ES256';
  }
  throw new RangeError(`Cannot sign ServiceAccount tokens with a ${key.asymmetricKeyType} key: use RSA or ECDSA`);
}
