/**
 * Tests of the DNS server's wire behaviour on loopback (random free ports): UDP and TCP, EDNS0 sizes, truncation,
 * FORMERR, forwarding that fails fast, metrics. The zone is built from objects as in answer.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import * as packet from 'dns-packet';
import type { Answer, OptAnswer, Packet, RecordType } from 'dns-packet';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { Forwarder } from './forwarder.ts';
import { DnsMetrics } from './metrics.ts';
import { DnsServer } from './server.ts';
import { buildZone } from './zone.ts';
import { sleep } from '../util/wait.ts';

const many = Array.from({ length: 20 }, (_, i) => ({ addresses: [`172.16.1.${i + 1}`], conditions: { ready: true } }));
const zone = buildZone(
  [
    {
      metadata: { namespace: 'default', name: 'nsvc' },
      spec: { clusterIP: '10.0.0.42', ports: [{ name: 'http', port: 2000 }] },
    },
    { metadata: { namespace: 'default', name: 'big' }, spec: { clusterIP: 'None' } },
  ],
  [
    {
      metadata: { namespace: 'default', name: 'big-1', labels: { 'kubernetes.io/service-name': 'big' } },
      addressType: 'IPv4',
      ports: [],
      endpoints: many,
    } satisfies EndpointSlice,
  ],
  { domain: 'cluster.local', ttl: 30, serial: 1 },
);

let server: DnsServer;
let port: number;
let closedPort: number;
const metrics = new DnsMetrics('dns://:53');

before(async () => {
  // A port nothing listens on: the forwarder's upstream, refusing at once (ICMP port unreachable).
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  closedPort = probe.address().port;
  probe.close();
  server = new DnsServer({
    zone: () => zone,
    metrics,
    forwarder: new Forwarder({
      upstreams: ['127.0.0.1'],
      port: closedPort,
      timeoutMs: 20_000,
      onResult: (to, rcode, s) => metrics.forward(to, rcode, s),
    }),
  });
  port = await server.listen('127.0.0.1', 0);
});

after(() => server.close());

/** udp sends one query and waits for the reply; a lost datagram fails the test after 10 s instead of hanging it. */
function udp(msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('no UDP reply in 10 s'));
    }, 10_000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.on('error', reject);
    s.send(msg, port, '127.0.0.1');
  });
}

function tcp(msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.setTimeout(10_000, () => {
      s.destroy();
      reject(new Error('no TCP reply in 10 s'));
    });
    const framed = Buffer.alloc(2 + msg.length);
    framed.writeUInt16BE(msg.length);
    msg.copy(framed, 2);
    let got = Buffer.alloc(0);
    s.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
        s.end();
        resolve(got.subarray(2, 2 + got.readUInt16BE(0)));
      }
    });
    s.on('error', reject);
    s.write(framed);
  });
}

/** rcode is a decoded reply's response code (dns-packet decodes it; its types leave it out). */
const rcode = (reply: Packet) => (reply as { rcode?: string }).rcode;
/** addresses are the data of a reply's A answers. */
const addresses = (reply: Packet) => (reply.answers ?? []).map((a: Answer) => (a.type === 'A' ? a.data : a.type));

function opt(udpPayloadSize: number): OptAnswer {
  return {
    type: 'OPT',
    name: '.',
    udpPayloadSize,
    extendedRcode: 0,
    ednsVersion: 0,
    flags: 0,
    flag_do: false,
    options: [],
  };
}

function query(name: string, type: RecordType, options: { edns?: number; id?: number } = {}): Buffer {
  return packet.encode({
    type: 'query',
    id: options.id ?? 7,
    flags: packet.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    additionals: options.edns ? [opt(options.edns)] : [],
  });
}

test('DnsServer answers over UDP and TCP with the same records', async () => {
  for (const send of [udp, tcp]) {
    const r = packet.decode(await send(query('nsvc.default.svc.cluster.local', 'A', { id: 4242 })));
    assert.equal(r.id, 4242);
    assert.equal(r.flag_aa, true);
    assert.equal(rcode(r), 'NOERROR');
    assert.deepEqual(addresses(r), ['10.0.0.42']);
  }
});

test('DnsServer answers NXDOMAIN with the SOA in the authority section', async () => {
  const r = packet.decode(await udp(query('nope.default.svc.cluster.local', 'A')));
  assert.equal(rcode(r), 'NXDOMAIN');
  assert.equal(r.authorities![0]!.type, 'SOA');
});

test('DnsServer truncates a UDP reply too large for the client, sets TC, and gives all of it over TCP', async () => {
  const small = packet.decode(await udp(query('big.default.svc.cluster.local', 'A')));
  assert.equal(small.flag_tc, true);
  assert.ok(small.answers!.length < 20);
  const edns = await udp(query('big.default.svc.cluster.local', 'A', { edns: 4096 }));
  const large = packet.decode(edns);
  assert.equal(large.flag_tc, false, 'an EDNS0 client offering 4096 bytes gets the whole answer (up to 1232 bytes)');
  assert.equal(large.answers!.length, 20);
  assert.equal(large.additionals!.find((a): a is OptAnswer => a.type === 'OPT')!.udpPayloadSize, 1232);
  const full = packet.decode(await tcp(query('big.default.svc.cluster.local', 'A')));
  assert.equal(full.flag_tc, false);
  assert.equal(full.answers!.length, 20);
});

test('DnsServer answers SERVFAIL at once when the upstream refuses a name outside the cluster', async () => {
  const started = performance.now();
  const r = packet.decode(await udp(query('example.org', 'A')));
  assert.equal(rcode(r), 'SERVFAIL');
  assert.ok(performance.now() - started < 5000, 'not waiting for the 20 s upstream timeout');
});

test('DnsServer answers FORMERR to a query with no question, and ignores garbage shorter than a header', async () => {
  const r = packet.decode(await udp(packet.encode({ type: 'query', id: 9, flags: 0, questions: [] })));
  assert.equal(rcode(r), 'FORMERR');
  assert.equal(await server.handle(Buffer.from([1, 2, 3]), 'udp', '1'), undefined);
});

test("DnsMetrics counts requests and responses in CoreDNS's names", () => {
  const text = metrics.render();
  assert.match(
    text,
    /coredns_dns_requests_total\{server="dns:\/\/:53",zone="\.",view="",proto="udp",family="1",type="A"\} \d+/,
  );
  assert.match(
    text,
    /coredns_dns_responses_total\{server="dns:\/\/:53",zone="\.",view="",rcode="NXDOMAIN",plugin="kubernetes"\} 1/,
  );
  assert.match(
    text,
    /coredns_dns_request_duration_seconds_bucket\{server="dns:\/\/:53",zone="\.",view="",type="A",le="\+Inf"\} \d+/,
  );
  assert.match(text, /coredns_forward_requests_total\{to="127\.0\.0\.1:\d+"\} 1/);
});

test('DnsServer answers from the new zone as soon as it is swapped in (no stale cached reply)', async () => {
  let current = buildZone([{ metadata: { namespace: 'default', name: 'a' }, spec: { clusterIP: '10.0.0.1' } }], [], {
    domain: 'cluster.local',
    ttl: 30,
    serial: 1,
  });
  const s = new DnsServer({ zone: () => current });
  const ask = async () =>
    packet.decode((await s.handle(query('a.default.svc.cluster.local', 'A', { id: 99 }), 'udp', '1'))!);
  assert.deepEqual(addresses(await ask()), ['10.0.0.1']);
  const cached = await ask();
  assert.equal(cached.id, 99);
  assert.deepEqual(addresses(cached), ['10.0.0.1']);
  current = buildZone([{ metadata: { namespace: 'default', name: 'a' }, spec: { clusterIP: '10.0.0.2' } }], [], {
    domain: 'cluster.local',
    ttl: 30,
    serial: 2,
  });
  assert.deepEqual(addresses(await ask()), ['10.0.0.2']);
});

test('Forwarder skips an upstream that does not answer at all once start() has checked it, and checks it again', async () => {
  const silent = dgram.createSocket('udp4');
  let answering = false;
  silent.on('message', (m, r) => {
    if (answering)
      silent.send(Buffer.concat([m.subarray(0, 2), Buffer.from([0x81, 0x80]), m.subarray(4)]), r.port, r.address);
  });
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  const forwarder = new Forwarder({
    upstreams: ['127.0.0.1'],
    port: silent.address().port,
    timeoutMs: 20_000,
    healthCheckMs: 200,
  });
  try {
    await forwarder.start();
    assert.deepEqual(forwarder.healthy(), []);
    const started = performance.now();
    assert.equal(await forwarder.query(query('example.org', 'A')), undefined);
    assert.ok(performance.now() - started < 5000, 'no upstream is asked (and waited for, 20 s) while none is healthy');
    answering = true;
    for (let i = 0; i < 100 && forwarder.healthy().length === 0; i++) await sleep(100);
    assert.deepEqual(forwarder.healthy(), ['127.0.0.1']);
    assert.ok(await forwarder.query(query('example.org', 'A')));
  } finally {
    forwarder.stop();
    silent.close();
  }
});
