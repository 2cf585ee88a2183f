import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import test from 'node:test';
import { createCa, createSigningKey, issueApiserverCertificate, issueCertificate } from './pki.ts';

test('issueCertificate() signs a client certificate with CN as the user and O as the groups', async () => {
  const ca = await createCa('test-ca');
  const caCert = new X509Certificate(ca.cert);
  assert.equal(caCert.ca, true);
  const pair = await issueCertificate(ca, { commonName: 'alice', organizations: ['devs'], usage: 'client' });
  const cert = new X509Certificate(pair.cert);
  assert.ok(cert.verify(caCert.publicKey), 'signed by the CA');
  assert.equal(cert.ca, false);
  assert.match(cert.subject, /CN=alice/);
  assert.match(cert.subject, /O=devs/);
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  assert.ok(cert.checkPrivateKey(createPrivateKey(pair.key)));
});

test("issueApiserverCertificate() carries kubeadm's names for the kubernetes Service and the given addresses", async () => {
  const ca = await createCa('test-ca');
  const pair = await issueApiserverCertificate(ca, { clusterDomain: 'example.local', ips: ['10.0.0.1', '127.0.0.1'] });
  const cert = new X509Certificate(pair.cert);
  assert.match(cert.subject, /CN=kube-apiserver/);
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.equal(
    cert.subjectAltName,
    'DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.example.local, ' +
      'DNS:localhost, IP Address:10.0.0.1, IP Address:127.0.0.1',
  );
  assert.equal(cert.checkHost('kubernetes.default.svc.example.local'), 'kubernetes.default.svc.example.local');
  assert.equal(cert.checkIP('10.0.0.1'), '10.0.0.1');
});

test('createSigningKey() makes a PKCS#8 private key and its SPKI public key', async () => {
  const { privateKey, publicKey } = await createSigningKey();
  assert.match(privateKey, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.match(publicKey, /^-----BEGIN PUBLIC KEY-----\n/);
});
