import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, randomBytes } from 'node:crypto';

/**
 * The cluster's certificates: a CA, and certificates it signs for servers (API server, kubelets) and clients (one
 * identity per component and per node: CN is the user, O the groups, as upstream's x509 authenticator reads them).
 * Certificates are built by @peculiar/x509 (ASN.1 and signing), keys made by Node's WebCrypto: ECDSA P-256 with
 * SHA-256, like kubeadm's `--encryption-algorithm=ECDSA-P256`.
 */
x509.cryptoProvider.set(globalThis.crypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/** KeyPair is a certificate and its private key, both PEM. */
export interface KeyPair {
  cert: string;
  key: string;
}

/** CertificateRequest says whom a certificate names and what it may be used for. */
export interface CertificateRequest {
  commonName: string;
  /** Groups of a client identity (the subject's O). */
  organizations?: readonly string[];
  /** Names a server answers to (subjectAltName). */
  dnsNames?: readonly string[];
  ips?: readonly string[];
  usage: 'client' | 'server' | 'both';
  days?: number;
}

/** createCa makes a self-signed CA (`CN=<commonName>`), valid for ten years by default. */
export async function createCa(commonName: string, days = 3650): Promise<KeyPair> {
  const keys = await globalThis.crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: [{ CN: [commonName] }],
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + days * DAY_MS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: `${cert.toString('pem')}\n`, key: await privateKeyPem(keys.privateKey) };
}

/** issueCertificate makes a key pair and a certificate for it signed by the CA. */
export async function issueCertificate(ca: KeyPair, request: CertificateRequest): Promise<KeyPair> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await globalThis.crypto.subtle.importKey('pkcs8', pemBody(ca.key), ALGORITHM, false, ['sign']);
  const keys = await globalThis.crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const usages: string[] = [];
  if (request.usage !== 'server') usages.push(x509.ExtendedKeyUsage.clientAuth);
  if (request.usage !== 'client') usages.push(x509.ExtendedKeyUsage.serverAuth);
  const names: x509.JsonGeneralName[] = [
    ...(request.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(request.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const subject: x509.JsonName = [{ CN: [request.commonName] }];
  if (request.organizations?.length) subject.unshift({ O: [...request.organizations] });
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: caCert.subjectName,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + (request.days ?? 365) * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(usages),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      ...(names.length ? [new x509.SubjectAlternativeNameExtension(names)] : []),
    ],
  });
  return { cert: `${cert.toString('pem')}\n`, key: await privateKeyPem(keys.privateKey) };
}

/**
 * issueApiserverCertificate is the API server's serving certificate as kubeadm issues it: CN kube-apiserver, the
 * in-cluster names of the kubernetes Service (`kubernetes`, `.default`, `.default.svc`, `.default.svc.<domain>`)
 * and localhost, and the given addresses (the Service's ClusterIP, the advertised address, 127.0.0.1).
 */
export function issueApiserverCertificate(
  ca: KeyPair,
  options: { clusterDomain: string; ips: readonly string[] },
): Promise<KeyPair> {
  return issueCertificate(ca, {
    commonName: 'kube-apiserver',
    usage: 'server',
    dnsNames: [
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      `kubernetes.default.svc.${options.clusterDomain}`,
      'localhost',
    ],
    ips: [...options.ips],
  });
}

/** createSigningKey makes the key pair that signs ServiceAccount tokens (PEM: PKCS#8 private, SPKI public). */
export async function createSigningKey(): Promise<{ privateKey: string; publicKey: string }> {
  const keys = await globalThis.crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const spki = Buffer.from(await globalThis.crypto.subtle.exportKey('spki', keys.publicKey)).toString('base64');
  return { privateKey: await privateKeyPem(keys.privateKey), publicKey: pem('PUBLIC KEY', spki) };
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await globalThis.crypto.subtle.exportKey('pkcs8', key));
  // Round-trip through Node's KeyObject so the PEM is exactly what openssl and Go's tls package read.
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({
    format: 'pem',
    type: 'pkcs8',
  }) as string;
}

function pemBody(text: string): ArrayBuffer {
  const der = createPrivateKey(text).export({ format: 'der', type: 'pkcs8' });
  return der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer;
}

function pem(label: string, base64: string): string {
  return `-----BEGIN ${label}-----\n${base64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
}

/** serial is a random positive 128-bit serial number, as RFC 5280 asks (at most 20 octets, not negative). */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f;
  return bytes.toString('hex');
}
