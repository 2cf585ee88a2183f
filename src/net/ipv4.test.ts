import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrContains, cidrsOverlap, formatCidr, nthAddress, parseCidr, parseIPv4, subnet } from './ipv4.ts';

test('parseCidr() canonicalises and rejects bad input with the text quoted', () => {
  assert.equal(formatCidr(parseCidr('10.0.51.206/16')), '10.0.0.0/16');
  assert.throws(() => parseCidr('10.0.0.0/33'), /Cannot parse CIDR "10.0.0.0\/33"/);
  assert.throws(() => parseCidr('10.0.0.256/8'), RangeError);
  assert.equal(parseIPv4('172.30.0.041'), undefined);
});

test('cidrContains(), nthAddress() and subnet() do the lab arithmetic', () => {
  const services = parseCidr('10.0.0.0/16');
  assert.equal(nthAddress(services, 1), '10.0.0.1');
  assert.equal(cidrContains(services, '10.0.51.206'), true);
  assert.equal(cidrContains(services, '10.1.0.1'), false);
  const cluster = parseCidr('172.16.0.0/14');
  assert.equal(formatCidr(subnet(cluster, 16, 1)), '172.17.0.0/16');
  assert.equal(cidrsOverlap(parseCidr('172.17.0.0/16'), parseCidr('172.16.0.0/14')), true);
  assert.throws(() => subnet(cluster, 16, 4), RangeError);
});
