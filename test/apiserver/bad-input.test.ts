/**
 * Bad input against a real `tskube apiserver` (SQLite, and etcd when /usr/bin/etcd is there): every request of the
 * corpus (bad-input-corpus.ts) gets its 4xx with a Status body (reason, message, field path where there is one).
 * Afterwards the server is healthy, its memory bounded, and nothing a request wrote reached a JavaScript prototype:
 * objects are still created without a kind and deleted without a 409.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { TestApiServer } from '../support/apiserver.ts';
import { STORES, type StoreBackend } from './stores.ts';
import { buildCorpus, corpusFixtures, type CorpusCase } from './bad-input-corpus.ts';

interface Answer {
  code: number;
  body: string;
}

function send(base: string, c: Pick<CorpusCase, 'method' | 'path' | 'body' | 'type' | 'headers'>): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Accept: 'application/json', ...c.headers };
    if (c.body !== undefined) {
      headers['Content-Type'] = c.type ?? 'application/json';
      // Node's client sends a DELETE body without any length unless told: the server would read it as a new request.
      headers['Content-Length'] ??= String(Buffer.byteLength(c.body));
    }
    const req = http.request({
      host: url.hostname,
      port: url.port,
      method: c.method,
      path: c.path,
      headers,
      agent: false,
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      const done = () => resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', done);
      // An early answer (413 to an oversized body) closes the connection while we still write: keep what came.
      res.on('close', done);
      res.on('error', reject);
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (c.body !== undefined && !(c.headers && 'Content-Length' in c.headers)) req.end(c.body);
    else req.end();
  });
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

function runCorpus(store: StoreBackend) {
  describe(`bad input (${store.name})`, { skip: store.skip }, () => {
    let server: TestApiServer;
    let stop: () => Promise<void>;
    const cases = buildCorpus();
    before(async () => {
      ({ server, stop } = await store.start());
      for (const f of corpusFixtures) {
        const answer = await send(server.url, { method: 'POST', path: f.path, body: JSON.stringify(f.body) });
        assert.equal(answer.code, 201, `fixture ${f.path}: ${answer.body}`);
      }
      const np = JSON.parse(
        (await send(server.url, { method: 'GET', path: '/api/v1/namespaces/default/services/np1' })).body,
      );
      for (const c of cases)
        if (typeof c.body === 'string') c.body = c.body.replace('"__NODEPORT__"', String(np.spec.ports[0].nodePort));
    });
    after(async () => {
      await stop?.();
    });

    test(`the corpus holds at least 150 requests (${cases.length})`, () => {
      assert.ok(cases.length >= 150);
    });

    test('every request gets its 4xx with a Status body', async () => {
      const failures: string[] = [];
      for (const c of cases) {
        const answer = await send(server.url, c);
        let status: any;
        try {
          status = JSON.parse(answer.body);
        } catch {
          failures.push(`${c.name}: ${answer.code} with a body that is no JSON: ${answer.body.slice(0, 200)}`);
          continue;
        }
        const problems: string[] = [];
        if (answer.code !== c.code) problems.push(`code ${answer.code}, wanted ${c.code}`);
        if (status.kind !== 'Status' || status.status !== 'Failure' || status.code !== answer.code)
          problems.push('not a Failure Status');
        if (status.reason !== c.reason) problems.push(`reason ${status.reason}, wanted ${c.reason}`);
        if (typeof status.message !== 'string' || status.message === '') problems.push('no message');
        else if (c.message && !c.message.test(status.message)) problems.push(`message does not match ${c.message}`);
        if (c.field !== undefined && status.details?.causes?.[0]?.field !== c.field)
          problems.push(`field ${status.details?.causes?.[0]?.field}, wanted ${c.field}`);
        if (problems.length) failures.push(`${c.name}: ${problems.join('; ')} — ${answer.body.slice(0, 300)}`);
      }
      assert.deepEqual(failures, []);
    });

    test('fieldValidation Warn (the default) and Ignore drop unknown fields; Warn says so in Warning headers', async () => {
      const url = new URL(server.url);
      const post = (query: string, name: string) =>
        new Promise<{ code: number; warnings: string[] }>((resolve, reject) => {
          const body = JSON.stringify({ metadata: { name, bogus: 1 }, data: { k: 'v' }, extra: { x: 1 } });
          const req = http.request(
            {
              host: url.hostname,
              port: url.port,
              method: 'POST',
              path: `/api/v1/namespaces/default/configmaps${query}`,
              headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
              agent: false,
            },
            (res) => {
              res.resume();
              res.on('end', () =>
                resolve({ code: res.statusCode ?? 0, warnings: ([] as string[]).concat(res.headers.warning ?? []) }),
              );
            },
          );
          req.on('error', reject);
          req.end(body);
        });
      const warn = await post('', 'warned');
      assert.equal(warn.code, 201);
      assert.deepEqual(warn.warnings.join(', ').split(', ').sort(), [
        '299 - "unknown field \\"extra\\""',
        '299 - "unknown field \\"metadata.bogus\\""',
      ]);
      const ignore = await post('?fieldValidation=Ignore', 'ignored');
      assert.equal(ignore.code, 201);
      assert.deepEqual(ignore.warnings, []);
      for (const name of ['warned', 'ignored']) {
        const stored = JSON.parse(
          (await send(server.url, { method: 'GET', path: `/api/v1/namespaces/default/configmaps/${name}` })).body,
        );
        assert.equal(stored.extra, undefined);
        assert.equal(stored.metadata.bogus, undefined);
        assert.deepEqual(stored.data, { k: 'v' });
        await send(server.url, { method: 'DELETE', path: `/api/v1/namespaces/default/configmaps/${name}` });
      }
    });

    test('keys named __proto__ or constructor stay plain keys in maps (Secret stringData, ConfigMap data, merge patches)', async () => {
      const secret = await send(server.url, {
        method: 'POST',
        path: '/api/v1/namespaces/default/secrets',
        body: '{"metadata":{"name":"protos"},"stringData":{"__proto__":"p","constructor":"c"}}',
      });
      assert.equal(secret.code, 201, secret.body);
      const stored = JSON.parse(
        (await send(server.url, { method: 'GET', path: '/api/v1/namespaces/default/secrets/protos' })).body,
      );
      assert.deepEqual(Object.keys(stored.data).sort(), ['__proto__', 'constructor']);
      assert.equal(Buffer.from(stored.data.constructor, 'base64').toString(), 'c');
      const cm = await send(server.url, {
        method: 'POST',
        path: '/api/v1/namespaces/default/configmaps',
        body: '{"metadata":{"name":"protocm"},"data":{"__proto__":"x","toString":"y"}}',
      });
      assert.equal(cm.code, 201, cm.body);
      const patched = await send(server.url, {
        method: 'PATCH',
        path: '/api/v1/namespaces/default/configmaps/protocm',
        type: 'application/merge-patch+json',
        body: '{"data":{"__proto__":"z","hasOwnProperty":"h"}}',
      });
      assert.equal(patched.code, 200, patched.body);
      assert.deepEqual(
        JSON.parse(patched.body).data,
        JSON.parse('{"__proto__":"z","toString":"y","hasOwnProperty":"h"}'),
      );
      await send(server.url, { method: 'DELETE', path: '/api/v1/namespaces/default/secrets/protos' });
      await send(server.url, { method: 'DELETE', path: '/api/v1/namespaces/default/configmaps/protocm' });
    });

    test('afterwards: healthy, memory bounded, no prototype reached', async (t) => {
      assert.equal((await send(server.url, { method: 'GET', path: '/healthz' })).code, 200);
      const rss = rssMiB(server.process.pid);
      t.diagnostic(`API server RSS after ${cases.length} bad requests: ${rss.toFixed(0)} MiB`);
      assert.ok(rss < 400, `RSS ${rss.toFixed(0)} MiB`);
      // A polluted Object.prototype made every create without kind fail and every DELETE answer 409.
      const created = await send(server.url, {
        method: 'POST',
        path: '/api/v1/namespaces/default/configmaps',
        body: JSON.stringify({ metadata: { name: 'after' } }),
      });
      assert.equal(created.code, 201, created.body);
      assert.equal(JSON.parse(created.body).kind, 'ConfigMap');
      const deleted = await send(server.url, { method: 'DELETE', path: '/api/v1/namespaces/default/configmaps/after' });
      assert.equal(deleted.code, 200, deleted.body);
      const cm = JSON.parse(
        (await send(server.url, { method: 'GET', path: '/api/v1/namespaces/default/configmaps/cm1' })).body,
      );
      assert.deepEqual(cm.data, { k: 'v' }, 'no refused request changed cm1');
      const svc = JSON.parse(
        (await send(server.url, { method: 'GET', path: '/api/v1/namespaces/default/services/svc1' })).body,
      );
      assert.equal(svc.spec.ports[0].nodePort, undefined);
      const list = JSON.parse(
        (await send(server.url, { method: 'GET', path: '/api/v1/namespaces/default/configmaps' })).body,
      );
      assert.deepEqual(
        list.items.map((i: any) => i.metadata.name).sort(),
        ['cm1'],
        'nothing refused was created (dryRun, apply, big objects)',
      );
    });
  });
}

for (const store of STORES) runCorpus(store);
