/**
 * A fuzz test of the API server, in this process (so Object.prototype can be checked after every request): valid
 * objects and patches are mutated at random (wrong JSON types, nulls, unknown and duplicate-prone keys, `__proto__`,
 * `constructor`, deep nesting, huge strings, hostile JSON patch paths, random query parameters) for thousands of
 * requests against namespace `fuzz`. No answer may be a 5xx, nothing may reach a prototype, the sentinels (one in
 * `guard`, one never addressed in `fuzz`) must not change, and every stored object must decode with its kind's
 * schema. The generator is seeded (FUZZ_SEED), so a failure names the seed that replays it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningApiServer } from '../../src/apiserver/apiserver.ts';
import { startInProcessApiServer } from '../../src/apiserver/testing/in-process.ts';
import { typedDecode } from '../../src/apiserver/validation/typed-decode.ts';
import { createLogger, silentLogger } from '../../src/log/klog.ts';

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261129);

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS: Record<string, { path: string; object: any }> = {
  configmaps: {
    path: '/api/v1/namespaces/fuzz/configmaps',
    object: { metadata: { name: 'x', labels: { a: 'b' }, annotations: { n: 'v' } }, data: { k: 'v' } },
  },
  services: {
    path: '/api/v1/namespaces/fuzz/services',
    object: {
      metadata: { name: 'x' },
      spec: {
        type: 'NodePort',
        selector: { app: 'x' },
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
      },
    },
  },
  deployments: {
    path: '/apis/apps/v1/namespaces/fuzz/deployments',
    object: {
      metadata: { name: 'x' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'x' } },
        template: {
          metadata: { labels: { app: 'x' } },
          spec: {
            containers: [
              { name: 'c', image: 'nginx', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] },
            ],
          },
        },
      },
    },
  },
  pods: {
    path: '/api/v1/namespaces/fuzz/pods',
    object: {
      metadata: { name: 'x' },
      spec: {
        containers: [
          { name: 'c', image: 'nginx', command: ['nginx'], resources: { limits: { cpu: '1', memory: '64Mi' } } },
        ],
        restartPolicy: 'Always',
      },
    },
  },
};

const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '$patch',
  '$retainKeys',
  '$setElementOrder/ports',
  'valueOf',
];

describe('fuzzing the API server', () => {
  let dir: string;
  let server: RunningApiServer;
  let base: string;
  const rnd = random(SEED);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;

  const value = (depth = 0): unknown => {
    switch (Math.floor(rnd() * 12)) {
      case 0:
        return null;
      case 1:
        return rnd() < 0.5;
      case 2:
        return Math.floor(rnd() * 70000) - 100;
      case 3:
        return rnd() * 10;
      case 4:
        return 'x'.repeat(Math.floor(rnd() * 20));
      case 5:
        return pick(['', 'None', 'NodePort', 'Always', '10.0.0.1', '80', 'http', 'a b', '-', '1Gi']);
      case 6:
        return depth > 3 ? [] : [value(depth + 1), value(depth + 1)];
      case 7:
        return depth > 3 ? {} : { [pick(HOSTILE_KEYS)]: value(depth + 1), k: value(depth + 1) };
      case 8:
        return JSON.parse(`{"__proto__":{"polluted":1,"kind":"Pod","preconditions":{"uid":"x"}}}`);
      case 9:
        return 2 ** 53 + 1;
      case 10: {
        let o: any = 1;
        for (let i = 0; i < 300; i++) o = [o];
        return depth === 0 && rnd() < 0.1 ? o : 'n';
      }
      default:
        return 'y'.repeat(rnd() < 0.02 ? 2_000_000 : 3);
    }
  };
  /** paths lists every JSON pointer into a value (for mutation and JSON patch targets). */
  const paths = (v: any, prefix: string[] = []): string[][] => {
    const out: string[][] = [prefix];
    if (v !== null && typeof v === 'object')
      for (const [k, c] of Object.entries(v)) out.push(...paths(c, [...prefix, k]));
    return out;
  };
  const mutate = (object: any): any => {
    const copy = structuredClone(object);
    for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) {
      const all = paths(copy).filter((p) => p.length > 0);
      if (all.length === 0) break;
      const path = pick(all);
      let parent = copy;
      for (const k of path.slice(0, -1)) parent = parent[k];
      const last = path[path.length - 1]!;
      const r = rnd();
      if (r < 0.5)
        Object.defineProperty(parent, last, { value: value(), enumerable: true, writable: true, configurable: true });
      else if (r < 0.7) delete parent[last];
      else if (parent && typeof parent === 'object' && !Array.isArray(parent))
        Object.defineProperty(parent, pick(HOSTILE_KEYS), {
          value: value(),
          enumerable: true,
          writable: true,
          configurable: true,
        });
    }
    return copy;
  };
  const pointer = (path: string[]) => path.map((p) => `/${p.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
  const jsonPatch = (object: any): unknown[] =>
    Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => {
      const path =
        rnd() < 0.3
          ? ['metadata', pick(HOSTILE_KEYS), 'x']
          : rnd() < 0.1
            ? [pick(HOSTILE_KEYS), 'polluted']
            : pick(paths(object));
      return {
        op: pick(['add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus']),
        path: pointer(path),
        from: pointer(pick(paths(object))),
        value: value(),
      };
    });
  const query = (): string => {
    const params = [
      ['dryRun', pick(['All', 'Bogus', ''])],
      ['fieldValidation', pick(['Strict', 'Warn', 'Ignore', 'Bogus'])],
      ['fieldManager', pick(['fuzz', 'x'.repeat(200), '\u0001'])],
      ['gracePeriodSeconds', pick(['0', 'abc', '-1', '1.5'])],
      ['propagationPolicy', pick(['Orphan', 'Foreground', 'Background', 'Sideways'])],
      ['limit', pick(['1', 'abc', '-5'])],
    ].filter(() => rnd() < 0.15);
    return params.length ? `?${params.map(([k, v]) => `${k}=${encodeURIComponent(v!)}`).join('&')}` : '';
  };
  const send = async (method: string, path: string, body?: string, type = 'application/json') => {
    const res = await fetch(`${base}${path}`, {
      method,
      body,
      headers: body === undefined ? {} : { 'Content-Type': type },
    });
    return { code: res.status, text: await res.text() };
  };
  const sentinel = async (path: string) => JSON.parse((await send('GET', path)).text);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tskube-fuzz-'));
    server = await startInProcessApiServer(
      join(dir, 'data'),
      process.env.FUZZ_DEBUG ? createLogger({ verbosity: 0, source: 'fuzz' }) : silentLogger(),
    );
    base = `http://127.0.0.1:${server.insecurePort}`;
    for (const ns of ['fuzz', 'guard'])
      assert.equal((await send('POST', '/api/v1/namespaces', JSON.stringify({ metadata: { name: ns } }))).code, 201);
    assert.equal(
      (
        await send(
          'POST',
          '/api/v1/namespaces/guard/configmaps',
          JSON.stringify({ metadata: { name: 'sentinel' }, data: { k: 'v' } }),
        )
      ).code,
      201,
    );
    assert.equal(
      (
        await send(
          'POST',
          '/api/v1/namespaces/fuzz/configmaps',
          JSON.stringify({ metadata: { name: 'untouched' }, data: { k: 'v' } }),
        )
      ).code,
      201,
    );
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test(`${ITERATIONS} mutated creates, updates, patches and deletes (seed ${SEED}): no 5xx, no prototype reached, no other object changed`, async (t) => {
    const guard = await sentinel('/api/v1/namespaces/guard/configmaps/sentinel');
    const untouched = await sentinel('/api/v1/namespaces/fuzz/configmaps/untouched');
    const counts: Record<number, number> = {};
    for (let i = 0; i < ITERATIONS; i++) {
      const resource = pick(Object.keys(SEEDS));
      const { path, object } = SEEDS[resource]!;
      const name = `f${Math.floor(rnd() * 8)}`;
      const valid = structuredClone(object);
      valid.metadata.name = name;
      const verb = Math.floor(rnd() * 7);
      let answer: { code: number; text: string };
      let request: string;
      if (verb <= 1) {
        const body = rnd() < 0.2 ? valid : mutate(valid);
        request = `POST ${path} ${JSON.stringify(body).slice(0, 300)}`;
        // Ensure a few valid objects exist to update and patch.
        answer = await send('POST', `${path}${query()}`, JSON.stringify(verb === 0 ? valid : body));
      } else if (verb === 2) {
        const current = await send('GET', `${path}/${name}`);
        const base0 = current.code === 200 ? JSON.parse(current.text) : valid;
        const body = mutate(base0);
        request = `PUT ${path}/${name} ${JSON.stringify(body).slice(0, 300)}`;
        answer = await send('PUT', `${path}/${name}${query()}`, JSON.stringify(body));
      } else if (verb <= 5) {
        const type = pick([
          'application/merge-patch+json',
          'application/strategic-merge-patch+json',
          'application/json-patch+json',
          'application/apply-patch+yaml',
        ]);
        const body =
          type === 'application/json-patch+json'
            ? jsonPatch(valid)
            : rnd() < 0.1
              ? value()
              : mutate(
                  rnd() < 0.5
                    ? valid
                    : { metadata: { name }, ...Object.fromEntries(Object.entries(valid).filter(() => rnd() < 0.5)) },
                );
        const text = JSON.stringify(body) ?? 'null';
        request = `PATCH ${type} ${path}/${name} ${text.slice(0, 300)}`;
        answer = await send(
          'PATCH',
          `${path}/${name}${type === 'application/apply-patch+yaml' ? '?fieldManager=fuzz' : query()}`,
          text,
          type,
        );
      } else {
        request = `DELETE ${path}/${name}`;
        answer = await send(
          'DELETE',
          `${path}/${name}${query()}`,
          rnd() < 0.3
            ? JSON.stringify(
                rnd() < 0.5
                  ? value()
                  : { gracePeriodSeconds: value(), propagationPolicy: value(), preconditions: value() },
              )
            : undefined,
        );
      }
      counts[answer.code] = (counts[answer.code] ?? 0) + 1;
      assert.ok(
        answer.code < 500,
        `iteration ${i} (seed ${SEED}): ${answer.code} for ${request}\n${answer.text.slice(0, 500)}`,
      );
      if (answer.code >= 400) {
        const status = JSON.parse(answer.text);
        assert.equal(status.kind, 'Status', `iteration ${i}: a ${answer.code} without a Status body`);
      }
      assert.deepEqual(
        Object.keys(Object.prototype),
        [],
        `iteration ${i}: Object.prototype gained keys after ${request}`,
      );
      assert.equal(
        ({} as any).polluted ?? ({} as any).kind ?? ({} as any).preconditions,
        undefined,
        `iteration ${i}: a prototype reached by ${request}`,
      );
      assert.equal(Object.getPrototypeOf({}), Object.prototype);
    }
    t.diagnostic(`answers by code: ${JSON.stringify(counts)}`);
    assert.deepEqual(await sentinel('/api/v1/namespaces/guard/configmaps/sentinel'), guard);
    assert.deepEqual(await sentinel('/api/v1/namespaces/fuzz/configmaps/untouched'), untouched);
    assert.equal((await send('GET', '/healthz')).code, 200);
    // Every stored object has its schema's types and fields: it decodes with nothing unknown.
    for (const [resource, { path }] of Object.entries(SEEDS)) {
      const list = JSON.parse((await send('GET', path)).text);
      for (const item of list.items) {
        const { unknown } = typedDecode(
          item.apiVersion ?? list.apiVersion,
          item.kind ?? list.kind.replace(/List$/, ''),
          item,
        );
        assert.deepEqual(unknown, [], `${resource}/${item.metadata.name} holds fields outside its schema`);
      }
    }
  });
});
