/**
 * Protobuf against JSON on a real `tskube apiserver` (SQLite store), in one run: 10,000 Service creates sent as
 * protobuf (50 in flight) and 10,000 as JSON (another namespace), then listing the protobuf-created ones all of them as JSON and as protobuf (alternating, 5 rounds each: time to the
 * last byte, and the client's decode time), and the codec alone on the same list in process.
 */
import http from 'node:http';
import { decodeObject, encodeObject } from '../src/api/protobuf/protobuf.ts';
import { startApiServer } from '../test/support/apiserver.ts';
import { inFlight, median, percentile } from './stats.ts';

const SERVICES = Number(process.env.BENCH_SERVICES ?? 10_000);
const CONCURRENCY = 50;
const ROUNDS = 5;
const PB = 'application/vnd.kubernetes.protobuf';

interface Reply {
  status: number;
  body: Buffer;
  ms: number;
}

function request(
  agent: http.Agent,
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<Reply> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), ms: performance.now() - t }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function run(): Promise<void> {
  const server = await startApiServer();
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    const collection = `${server.url}/api/v1/namespaces/default/services`;
    const ns = { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'json-bench' } };
    await request(
      agent,
      `${server.url}/api/v1/namespaces`,
      'POST',
      { 'Content-Type': 'application/json' },
      Buffer.from(JSON.stringify(ns)),
    );
    // The same creates over protobuf (into default, listed below) and over JSON (into json-bench), for comparison.
    for (const encoding of ['protobuf', 'json'] as const) {
      const target = encoding === 'protobuf' ? collection : `${server.url}/api/v1/namespaces/json-bench/services`;
      const type = encoding === 'protobuf' ? PB : 'application/json';
      const latencies: number[] = [];
      const started = performance.now();
      await inFlight(SERVICES, CONCURRENCY, async (i) => {
        const svc = {
          kind: 'Service',
          apiVersion: 'v1',
          metadata: { name: `svc-${i}`, labels: { app: `a${i}` } },
          spec: {
            selector: { app: `a${i}` },
            ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
          },
        };
        const body = encoding === 'protobuf' ? encodeObject(svc) : Buffer.from(JSON.stringify(svc));
        const reply = await request(
          agent,
          `${target}?fieldManager=bench`,
          'POST',
          { 'Content-Type': type, Accept: type },
          body,
        );
        if (reply.status !== 201) throw new Error(`create svc-${i}: ${reply.status} ${reply.body.toString()}`);
        latencies.push(reply.ms);
      });
      const seconds = (performance.now() - started) / 1000;
      const pct = (p: number) => percentile(latencies, p).toFixed(1);
      process.stdout.write(
        `${encoding}: ${SERVICES} Service creates (${CONCURRENCY} in flight): ${(SERVICES / seconds).toFixed(0)}/s, p50 ${pct(50)} ms, p99 ${pct(99)} ms\n`,
      );
    }

    const figures = {
      json: { ms: [] as number[], decode: [] as number[], bytes: 0 },
      protobuf: { ms: [] as number[], decode: [] as number[], bytes: 0 },
    };
    let items = 0;
    for (let round = 0; round < ROUNDS + 1; round++) {
      for (const encoding of round % 2 ? (['protobuf', 'json'] as const) : (['json', 'protobuf'] as const)) {
        const reply = await request(agent, collection, 'GET', {
          Accept: encoding === 'json' ? 'application/json' : PB,
        });
        const t = performance.now();
        const list = encoding === 'json' ? JSON.parse(reply.body.toString('utf8')) : decodeObject(reply.body);
        const decodeMs = performance.now() - t;
        items = list.items.length;
        if (round === 0) continue; // warm-up
        figures[encoding].ms.push(reply.ms);
        figures[encoding].decode.push(decodeMs);
        figures[encoding].bytes = reply.body.length;
      }
    }
    for (const encoding of ['json', 'protobuf'] as const) {
      const f = figures[encoding];
      process.stdout.write(
        `${encoding}: list ${items} Services: ${median(f.ms).toFixed(0)} ms to the last byte (median of ${ROUNDS}), ${(f.bytes / 1e6).toFixed(2)} MB, client decode ${median(f.decode).toFixed(0)} ms\n`,
      );
    }

    const list = JSON.parse(
      (await request(agent, collection, 'GET', { Accept: 'application/json' })).body.toString('utf8'),
    );
    const time = (fn: () => unknown) => {
      const samples: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        fn();
        samples.push(performance.now() - t);
      }
      return median(samples).toFixed(0);
    };
    const bytes = encodeObject(list);
    process.stdout.write(
      `codec in process, ${items} Services: JSON.stringify ${time(() => JSON.stringify(list))} ms, encodeObject ${time(() => encodeObject(list))} ms; JSON.parse ${time(() => JSON.parse(JSON.stringify(list)))} ms (incl. stringify), decodeObject ${time(() => decodeObject(bytes))} ms\n`,
    );
  } finally {
    agent.destroy();
    await server.stop();
  }
}
