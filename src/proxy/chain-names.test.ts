import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  nftEndpointBase,
  nftServicePortBase,
  servicePortChainName,
  servicePortEndpointChainName,
  serviceExternalChainName,
} from './chain-names.ts';

// Vectors from upstream's proxier tests (pkg/proxy/iptables/proxier_test.go).
test('servicePortChainName() matches upstream hashes', () => {
  assert.equal(servicePortChainName('ns1/svc1:p80', 'TCP'), 'KUBE-SVC-XPGD46QRK7WJZT7O');
  assert.equal(servicePortChainName('ns4/svc4:p80', 'tcp'), 'KUBE-SVC-4SW47YFZTEDKD3PK');
  assert.equal(servicePortChainName('ns5/svc5:p80', 'tcp'), 'KUBE-SVC-NUKIZ6OKUXPJNT4C');
  assert.equal(serviceExternalChainName('ns2/svc2:p80', 'tcp'), 'KUBE-EXT-GNZBNJ2PO5MGZ6GT');
});

test('servicePortEndpointChainName() matches upstream hashes', () => {
  assert.equal(servicePortEndpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.1:80'), 'KUBE-SEP-SXIVWICOYRO3J4NJ');
  assert.equal(servicePortEndpointChainName('ns1/svc1:p80', 'tcp', '10.0.1.1:80'), 'KUBE-SEP-SNQ3ZNILQDEJNDQO');
});

test("nft names are upstream's hashAndTruncate", () => {
  assert.equal(nftServicePortBase('ns1/svc1:p80', 'TCP'), 'ULMVA6XW-ns1/svc1/tcp/p80');
  assert.equal(nftEndpointBase('ns1/svc1:p80', 'TCP', '10.180.0.1', 80), '5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
  assert.equal(nftEndpointBase('ns5/svc5:p80', 'TCP', '10.180.0.3', 80), 'GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80');
});
