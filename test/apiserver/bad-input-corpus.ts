/**
 * The bad-input corpus: requests a real `tskube apiserver` must refuse with a 4xx and a `Status` body. Each case
 * names what it expects: the code, the Status reason, a pattern for the message and, where upstream gives one, the
 * field path of the first cause. Objects the cases refer to (`cm1`, `svc1`, `np1`, `pod1`, `dep1` in `default`)
 * are made by `corpusFixtures`.
 */

export interface CorpusCase {
  name: string;
  method: string;
  /** Raw request target, sent as is (escapes included). */
  path: string;
  body?: string | Buffer;
  type?: string;
  headers?: Record<string, string>;
  code: number;
  reason: string;
  message?: RegExp;
  field?: string;
}

const NS = '/api/v1/namespaces/default';
const CM = `${NS}/configmaps`;
const SVC = `${NS}/services`;
const PODS = `${NS}/pods`;
const DEP = '/apis/apps/v1/namespaces/default/deployments';
const MERGE = 'application/merge-patch+json';
const SMP = 'application/strategic-merge-patch+json';
const JSONPATCH = 'application/json-patch+json';
const APPLY = 'application/apply-patch+yaml';

/** corpusFixtures are the objects cases patch, update and delete. */
export const corpusFixtures: { path: string; body: object }[] = [
  { path: CM, body: { metadata: { name: 'cm1', labels: { a: 'b' } }, data: { k: 'v' } } },
  { path: SVC, body: { metadata: { name: 'svc1' }, spec: { selector: { app: 'x' }, ports: [{ port: 80 }] } } },
  { path: SVC, body: { metadata: { name: 'np1' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } } },
  { path: PODS, body: { metadata: { name: 'pod1' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
  {
    path: DEP,
    body: {
      metadata: { name: 'dep1' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'd' } },
        template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      },
    },
  },
];

function j(value: unknown): string {
  return JSON.stringify(value);
}

function nested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** CORPUS is every case; it is built once, big bodies included (about 10 MB in all). */
export function buildCorpus(): CorpusCase[] {
  const cases: CorpusCase[] = [];
  const add = (c: CorpusCase) => cases.push(c);

  // --- Limits: body, object size, nesting, JSON patch operations and growth, headers and URL.
  add({
    name: 'body past 3 MiB',
    method: 'POST',
    path: CM,
    body: j({ metadata: { name: 'big' }, data: { x: 'a'.repeat(3 * 1024 * 1024) } }),
    code: 413,
    reason: 'RequestEntityTooLarge',
    message: /limit is 3145728/,
  });
  add({
    name: 'object past etcd limit (2.9 MB ConfigMap)',
    method: 'POST',
    path: CM,
    body: j({ metadata: { name: 'big2' }, data: { x: 'a'.repeat(2_900_000) } }),
    code: 413,
    reason: 'RequestEntityTooLarge',
  });
  add({
    name: 'update to past etcd limit',
    method: 'PUT',
    path: `${CM}/cm1`,
    body: j({ metadata: { name: 'cm1' }, data: { x: 'b'.repeat(1_700_000) } }),
    code: 413,
    reason: 'RequestEntityTooLarge',
  });
  add({
    name: 'merge patch growing past etcd limit',
    method: 'PATCH',
    path: `${CM}/cm1`,
    type: MERGE,
    body: j({ data: { y: 'c'.repeat(1_600_000) } }),
    code: 413,
    reason: 'RequestEntityTooLarge',
  });
  for (const depth of [300, 5000, 100000]) {
    add({
      name: `ConfigMap nested ${depth} deep`,
      method: 'POST',
      path: CM,
      body: `{"metadata":{"name":"deep"},"data":${nested(depth)}}`,
      code: 400,
      reason: 'BadRequest',
      message: /max depth/,
    });
  }
  add({
    name: 'merge patch nested 5000 deep',
    method: 'PATCH',
    path: `${CM}/cm1`,
    type: MERGE,
    body: `{"data":${nested(5000)}}`,
    code: 400,
    reason: 'BadRequest',
    message: /max depth/,
  });
  add({
    name: 'YAML flow nested 5000 deep',
    method: 'POST',
    path: CM,
    type: 'application/yaml',
    body: `metadata: {name: deep}\ndata: ${'['.repeat(5000)}${']'.repeat(5000)}`,
    code: 400,
    reason: 'BadRequest',
    message: /max depth/,
  });
  add({
    name: 'apply YAML nested 5000 deep',
    method: 'PATCH',
    path: `${CM}/cm1?fieldManager=t`,
    type: APPLY,
    body: `{"data":${nested(5000)}}`,
    code: 400,
    reason: 'BadRequest',
    message: /max depth/,
  });
  add({
    name: 'JSON patch of 10001 operations',
    method: 'PATCH',
    path: `${CM}/cm1`,
    type: JSONPATCH,
    body: j(Array.from({ length: 10001 }, () => ({ op: 'test', path: '/data/k', value: 'v' }))),
    code: 413,
    reason: 'RequestEntityTooLarge',
    message: /maximum operations in a JSON patch is 10000, got 10001/,
  });
  const doubling = [
    { op: 'add', path: '/data/x', value: 'x'.repeat(1000) },
    ...Array.from({ length: 23 }, (_, i) => ({ op: 'copy', from: '/data', path: `/data/c${i}` })),
  ];
  add({
    name: 'JSON patch of 23 doubling copies (1 KB)',
    method: 'PATCH',
    path: `${CM}/cm1`,
    type: JSONPATCH,
    body: j([
      { op: 'add', path: '/metadata/annotations', value: {} },
      { op: 'add', path: '/data/n', value: { a: 'x'.repeat(500) } },
      ...Array.from({ length: 23 }, (_, i) => ({ op: 'copy', from: '/data/n', path: `/data/n/c${i}` })),
    ]),
    code: 422,
    reason: 'Invalid',
  });
  add({
    name: 'JSON patch copies doubling a list',
    method: 'PATCH',
    path: `${CM}/cm1`,
    type: JSONPATCH,
    body: j(doubling),
    code: 422,
    reason: 'Invalid',
  });
  add({
    name: 'header block past the limit',
    method: 'GET',
    path: CM,
    headers: { 'X-Big': 'h'.repeat(64 * 1024) },
    code: 431,
    reason: 'RequestEntityTooLarge',
  });
  add({
    name: 'URL past the limit',
    method: 'GET',
    path: `${CM}/${'n'.repeat(64 * 1024)}`,
    code: 431,
    reason: 'RequestEntityTooLarge',
  });
  add({
    name: 'many headers',
    method: 'GET',
    path: CM,
    headers: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`x-h${i}`, 'v'.repeat(10)])),
    code: 431,
    reason: 'RequestEntityTooLarge',
  });
  add({
    name: 'Content-Length past 3 MiB',
    method: 'POST',
    path: CM,
    headers: { 'Content-Length': String(4 * 1024 * 1024) },
    body: '',
    code: 413,
    reason: 'RequestEntityTooLarge',
  });

  // --- Percent-encoding and names in the URL.
  for (const bad of ['%ZZ', '%', '%2', '%G1', 'a%zzb', '%%41', 'x%']) {
    add({
      name: `malformed escape ${bad} in a name`,
      method: 'GET',
      path: `${CM}/${bad}`,
      code: 400,
      reason: 'BadRequest',
      message: /invalid URL escape/,
    });
  }
  add({
    name: 'malformed escape in a namespace',
    method: 'GET',
    path: '/api/v1/namespaces/%ZZ/configmaps',
    code: 400,
    reason: 'BadRequest',
    message: /invalid URL escape/,
  });
  add({
    name: 'malformed escape on DELETE',
    method: 'DELETE',
    path: `${CM}/%ZZ`,
    code: 400,
    reason: 'BadRequest',
    message: /invalid URL escape/,
  });
  add({
    name: 'malformed escape on PUT',
    method: 'PUT',
    path: `${CM}/%Z`,
    body: j({ metadata: { name: 'x' } }),
    code: 400,
    reason: 'BadRequest',
    message: /invalid URL escape/,
  });
  add({ name: 'overlong UTF-8 %C0 in a name', method: 'GET', path: `${CM}/%C0`, code: 404, reason: 'NotFound' });
  add({ name: 'invalid UTF-8 %FF%FE in a name', method: 'GET', path: `${CM}/%FF%FE`, code: 404, reason: 'NotFound' });
  add({
    name: 'encoded slash in a name',
    method: 'GET',
    path: `${CM}/a%2Fb`,
    code: 400,
    reason: 'BadRequest',
    message: /may not contain '\/'/,
  });
  add({
    name: 'encoded slash in a namespace',
    method: 'GET',
    path: '/api/v1/namespaces/a%2Fb/configmaps/x',
    code: 400,
    reason: 'BadRequest',
    message: /may not contain '\/'/,
  });
  add({
    name: 'encoded percent in a name',
    method: 'GET',
    path: `${CM}/a%25b`,
    code: 400,
    reason: 'BadRequest',
    message: /may not contain '%'/,
  });
  add({ name: 'name ".." encoded', method: 'DELETE', path: `${CM}/%2E%2E%2Fx`, code: 400, reason: 'BadRequest' });
  add({ name: 'unknown resource', method: 'GET', path: `${NS}/bogus`, code: 404, reason: 'NotFound' });
  add({ name: 'unknown group', method: 'GET', path: '/apis/bogus.io/v1/things', code: 404, reason: 'NotFound' });
  add({ name: 'too many path segments', method: 'GET', path: `${CM}/cm1/status/extra`, code: 404, reason: 'NotFound' });
  add({ name: 'unknown subresource', method: 'GET', path: `${CM}/cm1/bogus`, code: 404, reason: 'NotFound' });
  add({
    name: 'namespaced path for a cluster-scoped kind',
    method: 'GET',
    path: '/api/v1/namespaces/default/nodes',
    code: 404,
    reason: 'NotFound',
  });

  // --- Bodies that are not objects, bad syntax, wrong media types, kind and namespace mismatches.
  for (const [label, body] of [
    ['a string', '"x"'],
    ['an array', '[1,2]'],
    ['a number', '5'],
    ['null', 'null'],
    ['true', 'true'],
  ] as const) {
    add({ name: `create body ${label}`, method: 'POST', path: CM, body, code: 400, reason: 'BadRequest' });
    add({ name: `update body ${label}`, method: 'PUT', path: `${CM}/cm1`, body, code: 400, reason: 'BadRequest' });
  }
  add({ name: 'empty body', method: 'POST', path: CM, body: '', code: 400, reason: 'BadRequest' });
  add({
    name: 'truncated JSON',
    method: 'POST',
    path: CM,
    body: '{"metadata":{"name":"x"}',
    code: 400,
    reason: 'BadRequest',
  });
  add({
    name: 'bad literal',
    method: 'POST',
    path: CM,
    body: '{"metadata":{"name":tru}}',
    code: 400,
    reason: 'BadRequest',
  });
  add({
    name: 'trailing garbage',
    method: 'POST',
    path: CM,
    body: '{"metadata":{"name":"x"}} x',
    code: 400,
    reason: 'BadRequest',
  });
  add({
    name: 'invalid YAML',
    method: 'POST',
    path: CM,
    type: 'application/yaml',
    body: 'metadata: [unclosed',
    code: 400,
    reason: 'BadRequest',
  });
  add({
    name: 'YAML alias bomb',
    method: 'POST',
    path: CM,
    type: 'application/yaml',
    body: `a: &a ["x","x","x","x","x","x","x","x","x"]\n${Array.from(
      { length: 9 },
      (_, i) =>
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(',')}]`,
    ).join('\n')}\n`,
    code: 400,
    reason: 'BadRequest',
  });
  add({
    name: 'unsupported media type',
    method: 'POST',
    path: CM,
    type: 'text/plain',
    body: 'x',
    code: 415,
    reason: 'UnsupportedMediaType',
  });
  add({
    name: 'protobuf-looking media type without support',
    method: 'POST',
    path: CM,
    type: 'application/x-bogus',
    body: 'x',
    code: 415,
    reason: 'UnsupportedMediaType',
  });
  add({
    name: 'kind mismatch',
    method: 'POST',
    path: CM,
    body: j({ kind: 'Secret', metadata: { name: 'k' } }),
    code: 400,
    reason: 'BadRequest',
    message: /must be of type ConfigMap/,
  });
  add({
    name: 'namespace mismatch',
    method: 'POST',
    path: CM,
    body: j({ metadata: { name: 'k', namespace: 'kube-system' } }),
    code: 400,
    reason: 'BadRequest',
    message: /namespace of the provided object does not match/,
  });
  add({
    name: 'name mismatch on PUT',
    method: 'PUT',
    path: `${CM}/cm1`,
    body: j({ metadata: { name: 'cm2' } }),
    code: 400,
    reason: 'BadRequest',
    message: /does not match the name on the URL/,
  });
  add({
    name: 'unknown namespace',
    method: 'POST',
    path: '/api/v1/namespaces/nope/configmaps',
    body: j({ metadata: { name: 'k' } }),
    code: 404,
    reason: 'NotFound',
  });
  add({
    name: 'missing name',
    method: 'POST',
    path: CM,
    body: j({ metadata: {} }),
    code: 422,
    reason: 'Invalid',
    field: 'metadata.name',
  });
  add({
    name: 'uppercase name',
    method: 'POST',
    path: CM,
    body: j({ metadata: { name: 'Bad' } }),
    code: 422,
    reason: 'Invalid',
    field: 'metadata.name',
  });
  add({
    name: 'Service name with a dot',
    method: 'POST',
    path: SVC,
    body: j({ metadata: { name: 'a.b' }, spec: { ports: [{ port: 80 }] } }),
    code: 422,
    reason: 'Invalid',
    field: 'metadata.name',
  });
  add({
    name: 'bad label key',
    method: 'POST',
    path: CM,
    body: j({ metadata: { name: 'lk', labels: { '-x': 'y' } } }),
    code: 422,
    reason: 'Invalid',
    field: 'metadata.labels',
  });
  add({
    name: 'label key __proto__',
    method: 'POST',
    path: CM,
    body: '{"metadata":{"name":"lp","labels":{"__proto__":"y"}}}',
    code: 422,
    reason: 'Invalid',
    field: 'metadata.labels',
  });
  add({
    name: 'label key constructor with bad value',
    method: 'POST',
    path: CM,
    body: j({ metadata: { name: 'lc', labels: { constructor: 'a b' } } }),
    code: 422,
    reason: 'Invalid',
    field: 'metadata.labels',
  });
  add({
    name: 'method not allowed on a collection',
    method: 'PUT',
    path: CM,
    body: j({}),
    code: 405,
    reason: 'MethodNotAllowed',
  });
  add({
    name: 'create at a namespaced collection without namespace',
    method: 'POST',
    path: '/api/v1/configmaps',
    body: j({ metadata: { name: 'x' } }),
    code: 405,
    reason: 'MethodNotAllowed',
  });
  add({ name: 'DELETE of a missing object', method: 'DELETE', path: `${CM}/missing`, code: 404, reason: 'NotFound' });
  add({
    name: 'delete body not an object',
    method: 'DELETE',
    path: `${CM}/cm1`,
    body: '[1]',
    code: 400,
    reason: 'BadRequest',
  });
  add({
    name: 'delete body gracePeriodSeconds a string',
    method: 'DELETE',
    path: `${CM}/cm1`,
    body: j({ gracePeriodSeconds: 'x' }),
    code: 400,
    reason: 'BadRequest',
  });
  add({
    name: 'delete body gracePeriodSeconds 1.5',
    method: 'DELETE',
    path: `${CM}/cm1`,
    body: j({ gracePeriodSeconds: 1.5 }),
    code: 400,
    reason: 'BadRequest',
  });
  add({
    name: 'delete body propagationPolicy bogus',
    method: 'DELETE',
    path: `${CM}/cm1`,
    body: j({ propagationPolicy: 'Sideways' }),
    code: 422,
    reason: 'Invalid',
    field: 'propagationPolicy',
  });
  add({
    name: 'delete with a uid precondition that fails',
    method: 'DELETE',
    path: `${CM}/cm1`,
    body: j({ preconditions: { uid: 'nope' } }),
    code: 409,
    reason: 'Conflict',
  });
  add({
    name: 'binding without target',
    method: 'POST',
    path: `${PODS}/pod1/binding`,
    body: j({ metadata: { name: 'pod1' } }),
    code: 422,
    reason: 'Invalid',
    field: 'target.name',
  });
  add({
    name: 'binding target a string',
    method: 'POST',
    path: `${PODS}/pod1/binding`,
    body: j({ target: 'x' }),
    code: 400,
    reason: 'BadRequest',
  });
  add({
    name: 'scale to a string',
    method: 'PUT',
    path: `${DEP}/dep1/scale`,
    body: j({ spec: { replicas: '3' } }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.replicas',
  });
  add({
    name: 'scale to -1',
    method: 'PATCH',
    path: `${DEP}/dep1/scale`,
    type: MERGE,
    body: j({ spec: { replicas: -1 } }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.replicas',
  });
  add({
    name: 'scale to 2^40',
    method: 'PATCH',
    path: `${DEP}/dep1/scale`,
    type: MERGE,
    body: j({ spec: { replicas: 2 ** 40 } }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.replicas',
  });

  // --- Patches: merge patch bodies must be objects; JSON patch operations; strategic merge; apply.
  for (const [label, body] of [
    ['a string', '"str"'],
    ['null', 'null'],
    ['an array', '[1,2]'],
    ['a number', '5'],
    ['false', 'false'],
  ] as const) {
    add({
      name: `merge patch body ${label}`,
      method: 'PATCH',
      path: `${CM}/cm1`,
      type: MERGE,
      body,
      code: 400,
      reason: 'BadRequest',
      message: /Invalid JSON Patch/,
    });
    add({
      name: `strategic merge patch body ${label}`,
      method: 'PATCH',
      path: `${CM}/cm1`,
      type: SMP,
      body,
      code: 400,
      reason: 'BadRequest',
    });
    add({
      name: `apply body ${label}`,
      method: 'PATCH',
      path: `${CM}/cm1?fieldManager=t`,
      type: APPLY,
      body,
      code: 400,
      reason: 'BadRequest',
    });
  }
  for (const [label, body] of [
    ['an object', '{}'],
    ['a string', '"x"'],
    ['null', 'null'],
    ['a number', '1'],
  ] as const) {
    add({
      name: `JSON patch body ${label}`,
      method: 'PATCH',
      path: `${CM}/cm1`,
      type: JSONPATCH,
      body,
      code: 400,
      reason: 'BadRequest',
    });
  }
  const jp = (name: string, ops: unknown, code = 422, reason = 'Invalid') =>
    add({
      name: `JSON patch ${name}`,
      method: 'PATCH',
      path: `${CM}/cm1`,
      type: JSONPATCH,
      body: j(ops),
      code,
      reason,
    });
  jp('[null]', [null]);
  jp('[1]', [1]);
  jp('[[]]', [[]]);
  jp('unknown op', [{ op: 'bogus', path: '/data/k' }]);
  jp('op not a string', [{ op: 5, path: '/data/k' }]);
  jp('missing path', [{ op: 'add', value: 1 }]);
  jp('path not a string', [{ op: 'add', path: 5, value: 1 }]);
  jp('path without leading slash', [{ op: 'add', path: 'data/x', value: 'y' }]);
  jp('bad escape ~2', [{ op: 'add', path: '/data/a~2', value: 'y' }]);
  jp('add without value', [{ op: 'add', path: '/data/x' }]);
  jp('replace root with a number', [{ op: 'replace', path: '', value: 5 }]);
  jp('replace root with an array', [{ op: 'replace', path: '', value: [] }]);
  jp('replace root with null', [{ op: 'replace', path: '', value: null }]);
  jp('remove root', [{ op: 'remove', path: '' }]);
  jp('remove missing member', [{ op: 'remove', path: '/data/missing' }]);
  jp('replace missing member', [{ op: 'replace', path: '/spec/x', value: 1 }]);
  jp('add under a missing parent', [{ op: 'add', path: '/a/b/c', value: 1 }]);
  jp('add under a string', [{ op: 'add', path: '/data/k/x', value: 1 }]);
  jp('array index out of range', [
    { op: 'add', path: '/metadata/finalizers', value: ['a'] },
    { op: 'add', path: '/metadata/finalizers/5', value: 'b' },
  ]);
  jp('array index with leading zero', [
    { op: 'add', path: '/metadata/finalizers', value: ['a'] },
    { op: 'replace', path: '/metadata/finalizers/00', value: 'b' },
  ]);
  jp('negative array index', [
    { op: 'add', path: '/metadata/finalizers', value: ['a'] },
    { op: 'remove', path: '/metadata/finalizers/-1' },
  ]);
  jp('move into its own child', [{ op: 'move', from: '/data', path: '/data/inner' }]);
  jp('move from missing', [{ op: 'move', from: '/nope', path: '/data/x' }]);
  jp('copy from missing', [{ op: 'copy', from: '/nope', path: '/data/x' }]);
  jp('copy without from', [{ op: 'copy', path: '/data/x' }]);
  jp('test that fails', [{ op: 'test', path: '/data/k', value: 'other' }]);
  jp('test on a missing path', [{ op: 'test', path: '/data/zz', value: 'v' }]);
  jp('/__proto__/preconditions', [{ op: 'add', path: '/__proto__/preconditions', value: { uid: 'x' } }]);
  jp('/__proto__/kind', [{ op: 'add', path: '/__proto__/kind', value: 'Pod' }]);
  jp('/constructor/prototype/polluted', [{ op: 'add', path: '/constructor/prototype/polluted', value: 1 }]);
  jp('/metadata/__proto__/x', [{ op: 'add', path: '/metadata/__proto__/x', value: 1 }]);
  jp('/data/toString/x', [{ op: 'add', path: '/data/toString/x', value: 1 }]);
  jp('replace /__proto__', [{ op: 'replace', path: '/__proto__', value: { polluted: 1 } }]);
  jp('copy from /constructor', [{ op: 'copy', from: '/constructor', path: '/data/c' }]);
  jp('move from /__proto__', [{ op: 'move', from: '/__proto__', path: '/data/c' }]);
  jp('test /hasOwnProperty', [{ op: 'test', path: '/hasOwnProperty', value: null }]);
  add({
    name: 'patch with an unsupported content type',
    method: 'PATCH',
    path: `${CM}/cm1`,
    type: 'application/json',
    body: '{}',
    code: 415,
    reason: 'UnsupportedMediaType',
  });
  add({
    name: 'patch with text/plain',
    method: 'PATCH',
    path: `${CM}/cm1`,
    type: 'text/plain',
    body: '{}',
    code: 415,
    reason: 'UnsupportedMediaType',
  });
  add({
    name: 'patch of a missing object',
    method: 'PATCH',
    path: `${CM}/missing`,
    type: MERGE,
    body: '{}',
    code: 404,
    reason: 'NotFound',
  });
  add({
    name: 'merge patch nodePort onto a ClusterIP Service',
    method: 'PATCH',
    path: `${SVC}/svc1`,
    type: MERGE,
    body: j({ spec: { ports: [{ port: 80, nodePort: 30080 }] } }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.ports[0].nodePort',
  });
  add({
    name: 'strategic merge patch nodePort onto a ClusterIP Service',
    method: 'PATCH',
    path: `${SVC}/svc1`,
    type: SMP,
    body: j({ spec: { ports: [{ port: 80, nodePort: 30081 }] } }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.ports[0].nodePort',
  });
  add({
    name: 'merge patch changing the name',
    method: 'PATCH',
    path: `${CM}/cm1`,
    type: MERGE,
    body: j({ metadata: { name: 'other' } }),
    code: 400,
    reason: 'BadRequest',
    message: /does not match the name on the URL/,
  });
  add({
    name: 'apply with another name than the URL',
    method: 'PATCH',
    path: `${CM}/ap1?fieldManager=t`,
    type: APPLY,
    body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ap2\n',
    code: 400,
    reason: 'BadRequest',
    message: /does not match the name on the URL/,
  });
  add({
    name: 'apply with another namespace than the URL',
    method: 'PATCH',
    path: `${CM}/ap1?fieldManager=t`,
    type: APPLY,
    body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ap1\n  namespace: kube-system\n',
    code: 400,
    reason: 'BadRequest',
  });
  add({
    name: 'apply with another kind',
    method: 'PATCH',
    path: `${CM}/ap1?fieldManager=t`,
    type: APPLY,
    body: 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: ap1\n',
    code: 400,
    reason: 'BadRequest',
  });
  add({
    name: 'apply without fieldManager',
    method: 'PATCH',
    path: `${CM}/ap1`,
    type: APPLY,
    body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ap1\n',
    code: 422,
    reason: 'Invalid',
    field: 'fieldManager',
  });
  add({
    name: 'force on a merge patch',
    method: 'PATCH',
    path: `${CM}/cm1?force=true`,
    type: MERGE,
    body: '{}',
    code: 422,
    reason: 'Invalid',
    field: 'force',
  });
  add({
    name: 'apply creating with a bad name',
    method: 'PATCH',
    path: `${CM}/Bad_Name?fieldManager=t`,
    type: APPLY,
    body: 'apiVersion: v1\nkind: ConfigMap\n',
    code: 422,
    reason: 'Invalid',
    field: 'metadata.name',
  });

  // --- Query parameters.
  const q = (
    name: string,
    method: string,
    path: string,
    code: number,
    reason: string,
    field?: string,
    body?: string,
    type?: string,
  ) => add({ name, method, path, code, reason, field, body, type });
  q('limit=abc', 'GET', `${CM}?limit=abc`, 400, 'BadRequest');
  q('limit=1.5', 'GET', `${CM}?limit=1.5`, 400, 'BadRequest');
  q('limit=1e3', 'GET', `${CM}?limit=1e3`, 400, 'BadRequest');
  q('limit past int64', 'GET', `${CM}?limit=99999999999999999999`, 400, 'BadRequest');
  q('continue=garbage', 'GET', `${CM}?limit=1&continue=garbage!`, 400, 'BadRequest');
  q('continue base64 not JSON', 'GET', `${CM}?continue=${Buffer.from('nope').toString('base64')}`, 400, 'BadRequest');
  q(
    'continue with a wrong version',
    'GET',
    `${CM}?continue=${Buffer.from(j({ v: 'x', rv: 1, start: 'a' })).toString('base64')}`,
    400,
    'BadRequest',
  );
  q(
    'continue with a negative rv',
    'GET',
    `${CM}?continue=${Buffer.from(j({ v: 'meta.k8s.io/v1', rv: -1, start: 'a' })).toString('base64')}`,
    400,
    'BadRequest',
  );
  q(
    'continue with resourceVersion',
    'GET',
    `${CM}?continue=${Buffer.from(j({ v: 'meta.k8s.io/v1', rv: 1, start: 'a' })).toString('base64')}&resourceVersion=5`,
    422,
    'Invalid',
    'resourceVersion',
  );
  q('timeoutSeconds=abc on a list', 'GET', `${CM}?timeoutSeconds=abc`, 400, 'BadRequest');
  q('timeoutSeconds=abc on a watch', 'GET', `${CM}?watch=true&timeoutSeconds=abc`, 400, 'BadRequest');
  q('timeoutSeconds=1.5 on a watch', 'GET', `${CM}?watch=1&timeoutSeconds=1.5`, 400, 'BadRequest');
  q('watch=maybe', 'GET', `${CM}?watch=maybe`, 400, 'BadRequest');
  q('allowWatchBookmarks=x', 'GET', `${CM}?watch=true&allowWatchBookmarks=x`, 400, 'BadRequest');
  q('resourceVersion=abc on a list', 'GET', `${CM}?resourceVersion=abc`, 422, 'Invalid', 'resourceVersion');
  q('resourceVersion=-1 on a watch', 'GET', `${CM}?watch=true&resourceVersion=-1`, 422, 'Invalid', 'resourceVersion');
  q(
    'resourceVersionMatch=Bogus',
    'GET',
    `${CM}?resourceVersion=1&resourceVersionMatch=Bogus`,
    422,
    'Invalid',
    'resourceVersionMatch',
  );
  q(
    'resourceVersionMatch without resourceVersion',
    'GET',
    `${CM}?resourceVersionMatch=NotOlderThan`,
    422,
    'Invalid',
    'resourceVersionMatch',
  );
  q(
    'resourceVersionMatch=Exact with 0',
    'GET',
    `${CM}?resourceVersion=0&resourceVersionMatch=Exact`,
    422,
    'Invalid',
    'resourceVersionMatch',
  );
  q(
    'resourceVersionMatch on a watch',
    'GET',
    `${CM}?watch=true&resourceVersion=1&resourceVersionMatch=Exact`,
    422,
    'Invalid',
    'resourceVersionMatch',
  );
  q('gracePeriodSeconds=abc on a pod delete', 'DELETE', `${PODS}/pod1?gracePeriodSeconds=abc`, 400, 'BadRequest');
  q('gracePeriodSeconds=1.5', 'DELETE', `${CM}/cm1?gracePeriodSeconds=1.5`, 400, 'BadRequest');
  q('gracePeriodSeconds empty', 'DELETE', `${CM}/cm1?gracePeriodSeconds=`, 400, 'BadRequest');
  q(
    'propagationPolicy=Sideways',
    'DELETE',
    `${CM}/cm1?propagationPolicy=Sideways`,
    422,
    'Invalid',
    'propagationPolicy',
  );
  q(
    'propagationPolicy with orphanDependents',
    'DELETE',
    `${CM}/cm1?propagationPolicy=Orphan&orphanDependents=true`,
    422,
    'Invalid',
    'propagationPolicy',
  );
  q('orphanDependents=maybe', 'DELETE', `${CM}/cm1?orphanDependents=maybe`, 400, 'BadRequest');
  q(
    'propagationPolicy bogus on deletecollection',
    'DELETE',
    `${CM}?propagationPolicy=x`,
    422,
    'Invalid',
    'propagationPolicy',
  );
  q(
    'dryRun=Bogus on create',
    'POST',
    `${CM}?dryRun=Bogus`,
    422,
    'Invalid',
    'dryRun',
    j({ metadata: { name: 'dry1' } }),
  );
  q(
    'dryRun=All and Bogus on create',
    'POST',
    `${CM}?dryRun=All&dryRun=Bogus`,
    422,
    'Invalid',
    'dryRun',
    j({ metadata: { name: 'dry2' } }),
  );
  q(
    'dryRun=all (lowercase) on create',
    'POST',
    `${CM}?dryRun=all`,
    422,
    'Invalid',
    'dryRun',
    j({ metadata: { name: 'dry3' } }),
  );
  q(
    'dryRun=Bogus on update',
    'PUT',
    `${CM}/cm1?dryRun=Bogus`,
    422,
    'Invalid',
    'dryRun',
    j({ metadata: { name: 'cm1' } }),
  );
  q('dryRun=Bogus on patch', 'PATCH', `${CM}/cm1?dryRun=Bogus`, 422, 'Invalid', 'dryRun', '{}', MERGE);
  q('dryRun=Bogus on delete', 'DELETE', `${CM}/cm1?dryRun=Bogus`, 422, 'Invalid', 'dryRun');
  q('dryRun=Bogus on deletecollection', 'DELETE', `${CM}?dryRun=Bogus`, 422, 'Invalid', 'dryRun');
  q('dryRun= (empty) on create', 'POST', `${CM}?dryRun=`, 422, 'Invalid', 'dryRun', j({ metadata: { name: 'dry4' } }));
  q(
    'fieldManager too long',
    'POST',
    `${CM}?fieldManager=${'m'.repeat(129)}`,
    422,
    'Invalid',
    'fieldManager',
    j({ metadata: { name: 'fm1' } }),
  );
  q(
    'fieldManager with a control character',
    'POST',
    `${CM}?fieldManager=a%01b`,
    422,
    'Invalid',
    'fieldManager',
    j({ metadata: { name: 'fm2' } }),
  );
  q('fieldManager non-ASCII', 'PATCH', `${CM}/cm1?fieldManager=%C3%A9`, 422, 'Invalid', 'fieldManager', '{}', MERGE);
  q(
    'fieldValidation=Bogus',
    'POST',
    `${CM}?fieldValidation=Bogus`,
    422,
    'Invalid',
    'fieldValidation',
    j({ metadata: { name: 'fv1' } }),
  );
  q(
    'fieldValidation=strict (lowercase)',
    'PUT',
    `${CM}/cm1?fieldValidation=strict`,
    422,
    'Invalid',
    'fieldValidation',
    j({ metadata: { name: 'cm1' } }),
  );
  q('labelSelector syntax', 'GET', `${CM}?labelSelector=a%20in%20(`, 400, 'BadRequest');
  q('labelSelector bad key', 'GET', `${CM}?labelSelector=-a=b`, 400, 'BadRequest');
  q('labelSelector __proto__', 'GET', `${CM}?labelSelector=__proto__`, 400, 'BadRequest');
  q('fieldSelector unknown field', 'GET', `${CM}?fieldSelector=spec.bogus=1`, 400, 'BadRequest');
  q('fieldSelector syntax', 'GET', `${PODS}?fieldSelector==x`, 400, 'BadRequest');

  // --- Services: ports, types, allocation requests.
  const svc = (name: string, spec: object, field: string, code = 422) =>
    add({
      name: `Service ${name}`,
      method: 'POST',
      path: SVC,
      body: j({ metadata: { name: `s-${cases.length}` }, spec }),
      code,
      reason: code === 422 ? 'Invalid' : 'BadRequest',
      field,
    });
  svc('nodePort on ClusterIP', { type: 'ClusterIP', ports: [{ port: 80, nodePort: 30000 }] }, 'spec.ports[0].nodePort');
  svc('nodePort on default type', { ports: [{ port: 80, nodePort: 30001 }] }, 'spec.ports[0].nodePort');
  svc('nodePort out of range', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] }, 'spec.ports[0].nodePort');
  svc('port 0', { ports: [{ port: 0 }] }, 'spec.ports[0].port');
  svc('port 70000', { ports: [{ port: 70000 }] }, 'spec.ports[0].port');
  svc('negative port', { ports: [{ port: -1 }] }, 'spec.ports[0].port');
  svc('bad protocol', { ports: [{ port: 80, protocol: 'ICMP' }] }, 'spec.ports[0].protocol');
  svc('bad type', { type: 'Bogus', ports: [{ port: 80 }] }, 'spec.type');
  svc('no ports', { ports: [] }, 'spec.ports');
  svc(
    'duplicate ports',
    {
      ports: [
        { name: 'a', port: 80 },
        { name: 'b', port: 80 },
      ],
    },
    'spec.ports[1]',
  );
  svc('two ports without names', { ports: [{ port: 80 }, { port: 81 }] }, 'spec.ports[0].name');
  svc('bad clusterIP', { clusterIP: '10.0.0.300', ports: [{ port: 80 }] }, 'spec.clusterIPs[0]');
  svc('clusterIP out of range', { clusterIP: '192.168.0.1', ports: [{ port: 80 }] }, 'spec.clusterIPs');
  svc('bad externalIP', { externalIPs: ['x'], ports: [{ port: 80 }] }, 'spec.externalIPs[0]');
  svc('bad sessionAffinity', { sessionAffinity: 'Sticky', ports: [{ port: 80 }] }, 'spec.sessionAffinity');
  svc('bad targetPort name', { ports: [{ port: 80, targetPort: 'Bad_Name' }] }, 'spec.ports[0].targetPort');
  svc('bad selector value', { selector: { app: 'a b' }, ports: [{ port: 80 }] }, 'spec.selector');
  add({
    name: 'Service taking a held NodePort',
    method: 'POST',
    path: SVC,
    body: j({ metadata: { name: 'np2' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: '__NODEPORT__' }] } }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.ports[0].nodePort',
  });
  add({
    name: 'Service update changing clusterIP',
    method: 'PATCH',
    path: `${SVC}/svc1`,
    type: MERGE,
    body: j({ spec: { clusterIP: '10.0.255.254', clusterIPs: ['10.0.255.254'] } }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.clusterIPs[0]',
  });

  // --- Wrong JSON types: decoded with the kind's one schema, Go's wording, 400 for bodies and 422 (patch) for patch results.
  const typeCase = (name: string, path: string, body: unknown, field: string, method = 'POST') =>
    add({
      name: `wrong type: ${name}`,
      method,
      path,
      body: j(body),
      code: 400,
      reason: 'BadRequest',
      message: /cannot be handled as a .*: json: cannot unmarshal/,
      field,
    });
  typeCase('Service spec a string', SVC, { metadata: { name: 't1' }, spec: 'x' }, 'spec');
  typeCase('Service ports an object', SVC, { metadata: { name: 't2' }, spec: { ports: {} } }, 'spec.ports');
  typeCase(
    'Service port a string',
    SVC,
    { metadata: { name: 't3' }, spec: { ports: [{ port: '80' }] } },
    'spec.ports[0].port',
  );
  typeCase(
    'Service port 1.5',
    SVC,
    { metadata: { name: 't4' }, spec: { ports: [{ port: 1.5 }] } },
    'spec.ports[0].port',
  );
  typeCase(
    'Service targetPort a bool',
    SVC,
    { metadata: { name: 't5' }, spec: { ports: [{ port: 80, targetPort: true }] } },
    'spec.ports[0].targetPort',
  );
  typeCase(
    'Service selector a list',
    SVC,
    { metadata: { name: 't6' }, spec: { selector: ['a'], ports: [{ port: 80 }] } },
    'spec.selector',
  );
  typeCase(
    'Service selector value a number',
    SVC,
    { metadata: { name: 't7' }, spec: { selector: { a: 1 }, ports: [{ port: 80 }] } },
    'spec.selector["a"]',
  );
  typeCase(
    'Service externalIPs a string',
    SVC,
    { metadata: { name: 't8' }, spec: { externalIPs: '1.2.3.4', ports: [{ port: 80 }] } },
    'spec.externalIPs',
  );
  typeCase('labels a string', CM, { metadata: { name: 't9', labels: 'abc' } }, 'metadata.labels');
  typeCase('name a list', CM, { metadata: { name: ['a'] } }, 'metadata.name');
  typeCase('metadata a string', CM, { metadata: 'x' }, 'metadata');
  typeCase('metadata a list', CM, { metadata: [] }, 'metadata');
  typeCase(
    'annotations value an object',
    CM,
    { metadata: { name: 't10', annotations: { a: {} } } },
    'metadata.annotations["a"]',
  );
  typeCase('ConfigMap data nested', CM, { metadata: { name: 't11' }, data: { a: { b: 'c' } } }, 'data["a"]');
  typeCase(
    'ConfigMap binaryData not base64',
    CM,
    { metadata: { name: 't12' }, binaryData: { a: 5 } },
    'binaryData["a"]',
  );
  typeCase('ConfigMap immutable a string', CM, { metadata: { name: 't13' }, immutable: 'yes' }, 'immutable');
  typeCase(
    'creationTimestamp a number',
    CM,
    { metadata: { name: 't14', creationTimestamp: 5 } },
    'metadata.creationTimestamp',
  );
  typeCase(
    'ownerReferences an object',
    CM,
    { metadata: { name: 't15', ownerReferences: {} } },
    'metadata.ownerReferences',
  );
  typeCase('finalizers a string', CM, { metadata: { name: 't16', finalizers: 'x' } }, 'metadata.finalizers');
  typeCase('Deployment replicas "3"', DEP, { metadata: { name: 't17' }, spec: { replicas: '3' } }, 'spec.replicas');
  typeCase(
    'Deployment replicas past int32',
    DEP,
    { metadata: { name: 't18' }, spec: { replicas: 2 ** 40 } },
    'spec.replicas',
  );
  typeCase(
    'Deployment selector a string',
    DEP,
    { metadata: { name: 't19' }, spec: { selector: 'app=x' } },
    'spec.selector',
  );
  typeCase(
    'Pod containers a string',
    PODS,
    { metadata: { name: 't20' }, spec: { containers: 'nginx' } },
    'spec.containers',
  );
  typeCase(
    'Pod container ports a number',
    PODS,
    { metadata: { name: 't21' }, spec: { containers: [{ name: 'c', image: 'x', ports: 80 }] } },
    'spec.containers[0].ports',
  );
  typeCase(
    'Pod env value a number',
    PODS,
    { metadata: { name: 't22' }, spec: { containers: [{ name: 'c', image: 'x', env: [{ name: 'A', value: 1 }] }] } },
    'spec.containers[0].env[0].value',
  );
  typeCase(
    'Pod command a string',
    PODS,
    { metadata: { name: 't23' }, spec: { containers: [{ name: 'c', image: 'x', command: 'sh -c x' }] } },
    'spec.containers[0].command',
  );
  typeCase(
    'Pod terminationGracePeriodSeconds "30"',
    PODS,
    {
      metadata: { name: 't24' },
      spec: { terminationGracePeriodSeconds: '30', containers: [{ name: 'c', image: 'x' }] },
    },
    'spec.terminationGracePeriodSeconds',
  );
  typeCase(
    'Pod hostNetwork "true"',
    PODS,
    { metadata: { name: 't25' }, spec: { hostNetwork: 'true', containers: [{ name: 'c', image: 'x' }] } },
    'spec.hostNetwork',
  );
  typeCase('PUT labels a number', `${CM}/cm1`, { metadata: { name: 'cm1', labels: 5 } }, 'metadata.labels', 'PUT');
  add({
    name: 'wrong type: quantity an object',
    method: 'POST',
    path: PODS,
    body: j({
      metadata: { name: 't26' },
      spec: { containers: [{ name: 'c', image: 'x', resources: { limits: { cpu: {} } } }] },
    }),
    code: 400,
    reason: 'BadRequest',
    field: 'spec.containers[0].resources.limits["cpu"]',
  });
  add({
    name: 'wrong type: time not RFC 3339',
    method: 'POST',
    path: CM,
    body: j({ metadata: { name: 't27', creationTimestamp: 'yesterday' } }),
    code: 400,
    reason: 'BadRequest',
    message: /parsing time/,
    field: 'metadata.creationTimestamp',
  });
  add({
    name: 'wrong type: apply with spec a string',
    method: 'PATCH',
    path: `${SVC}/svc1?fieldManager=t`,
    type: APPLY,
    body: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: svc1\nspec: x\n',
    code: 400,
    reason: 'BadRequest',
    field: 'spec',
  });
  const patchType = (name: string, type: string, body: unknown, path = `${SVC}/svc1`) =>
    add({
      name: `wrong type after patch: ${name}`,
      method: 'PATCH',
      path,
      type,
      body: j(body),
      code: 422,
      reason: 'Invalid',
      field: 'patch',
      message: /cannot unmarshal/,
    });
  patchType('strategic merge ports "x"', SMP, { spec: { ports: 'x' } });
  patchType('merge ports "x"', MERGE, { spec: { ports: 'x' } });
  patchType('merge spec a number', MERGE, { spec: 5 });
  patchType('merge labels an array', MERGE, { metadata: { labels: [1] } });
  patchType(
    'JSON patch replicas a string',
    JSONPATCH,
    [{ op: 'replace', path: '/spec/replicas', value: 'many' }],
    `${DEP}/dep1`,
  );
  patchType('JSON patch metadata a string', JSONPATCH, [{ op: 'replace', path: '/metadata', value: 'x' }], `${CM}/cm1`);
  patchType(
    'JSON patch data value an object',
    JSONPATCH,
    [{ op: 'add', path: '/data/k', value: { x: 1 } }],
    `${CM}/cm1`,
  );

  // --- Unknown and duplicate fields with fieldValidation=Strict.
  const strict = (name: string, body: string, field: string, path = CM, method = 'POST') =>
    add({
      name: `strict: ${name}`,
      method,
      path: `${path}?fieldValidation=Strict`,
      body,
      code: 400,
      reason: 'BadRequest',
      message: /strict decoding error/,
      field,
    });
  strict('unknown top-level field', j({ metadata: { name: 'u1' }, bogus: 1 }), 'bogus');
  strict('unknown metadata field', j({ metadata: { name: 'u2', bogus: 1 } }), 'metadata.bogus');
  strict('unknown __proto__ field', '{"metadata":{"name":"u3"},"__proto__":{"polluted":1}}', '__proto__');
  strict(
    'unknown constructor field',
    j({ metadata: { name: 'u4', constructor: { prototype: { polluted: 1 } } } }),
    'metadata.constructor',
  );
  strict(
    'unknown Service port field',
    j({ metadata: { name: 'u5' }, spec: { ports: [{ port: 80, bogus: 1 }] } }),
    'spec.ports[0].bogus',
    SVC,
  );
  strict('duplicate name', '{"metadata":{"name":"u6","name":"u7"}}', 'metadata.name');
  strict('duplicate top-level field', '{"metadata":{"name":"u8"},"data":{},"data":{}}', 'data');
  strict('unknown field on PUT', j({ metadata: { name: 'cm1' }, bogus: true }), 'bogus', `${CM}/cm1`, 'PUT');
  add({
    name: 'strict: unknown field in a merge patch',
    method: 'PATCH',
    path: `${CM}/cm1?fieldValidation=Strict`,
    type: MERGE,
    body: j({ bogus: 1 }),
    code: 422,
    reason: 'Invalid',
    field: 'patch',
    message: /strict decoding error: unknown field "bogus"/,
  });
  add({
    name: 'strict: unknown field in apply',
    method: 'PATCH',
    path: `${CM}/cm1?fieldManager=t&fieldValidation=Strict`,
    type: APPLY,
    body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm1\nbogus: 1\n',
    code: 400,
    reason: 'BadRequest',
    field: 'bogus',
  });

  // --- Other kinds.
  add({
    name: 'Pod without containers',
    method: 'POST',
    path: PODS,
    body: j({ metadata: { name: 'p0' }, spec: { containers: [] } }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.containers',
  });
  add({
    name: 'Pod container without image',
    method: 'POST',
    path: PODS,
    body: j({ metadata: { name: 'p1' }, spec: { containers: [{ name: 'c' }] } }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.containers[0].image',
  });
  add({
    name: 'Pod duplicate container names',
    method: 'POST',
    path: PODS,
    body: j({
      metadata: { name: 'p2' },
      spec: {
        containers: [
          { name: 'c', image: 'x' },
          { name: 'c', image: 'y' },
        ],
      },
    }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.containers[1].name',
  });
  add({
    name: 'Pod bad restartPolicy',
    method: 'POST',
    path: PODS,
    body: j({
      metadata: { name: 'p3' },
      spec: { restartPolicy: 'Sometimes', containers: [{ name: 'c', image: 'x' }] },
    }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.restartPolicy',
  });
  add({
    name: 'Deployment negative replicas',
    method: 'POST',
    path: DEP,
    body: j({
      metadata: { name: 'd1' },
      spec: {
        replicas: -1,
        selector: { matchLabels: { a: 'b' } },
        template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
      },
    }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.replicas',
  });
  add({
    name: 'Deployment without selector',
    method: 'POST',
    path: DEP,
    body: j({
      metadata: { name: 'd2' },
      spec: { template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.selector',
  });
  add({
    name: 'content in a namespace that does not exist',
    method: 'POST',
    path: '/api/v1/namespaces/nowhere/configmaps',
    body: j({ metadata: { name: 'c' } }),
    code: 404,
    reason: 'NotFound',
    message: /^namespaces "nowhere" not found$/,
  });
  add({
    name: 'deleting kube-system',
    method: 'DELETE',
    path: '/api/v1/namespaces/kube-system',
    code: 403,
    reason: 'Forbidden',
    message: /^namespaces "kube-system" is forbidden: this namespace may not be deleted$/,
  });
  add({
    name: 'Secret tls without its key',
    method: 'POST',
    path: `${NS}/secrets`,
    body: j({ metadata: { name: 's1' }, type: 'kubernetes.io/tls', data: { 'tls.crt': '' } }),
    code: 422,
    reason: 'Invalid',
    field: 'data[tls.key]',
  });
  add({
    name: 'Secret data not base64',
    method: 'POST',
    path: `${NS}/secrets`,
    body: j({ metadata: { name: 's2' }, data: { k: '%%%' } }),
    code: 400,
    reason: 'BadRequest',
    message: /^Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0$/,
  });
  add({
    name: 'Secret bad data key',
    method: 'POST',
    path: `${NS}/secrets`,
    body: j({ metadata: { name: 's3' }, data: { 'a/b': '' } }),
    code: 422,
    reason: 'Invalid',
    field: 'data[a/b]',
  });
  add({
    name: 'Job restartPolicy Always',
    method: 'POST',
    path: '/apis/batch/v1/namespaces/default/jobs',
    body: j({ metadata: { name: 'j1' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'x' }] } } } }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.template.spec.restartPolicy',
  });
  add({
    name: 'CronJob bad schedule',
    method: 'POST',
    path: '/apis/batch/v1/namespaces/default/cronjobs',
    body: j({
      metadata: { name: 'cj1' },
      spec: {
        schedule: '61 * * * *',
        jobTemplate: {
          spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } },
        },
      },
    }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.schedule',
  });
  add({
    name: 'CronJob unknown timeZone',
    method: 'POST',
    path: '/apis/batch/v1/namespaces/default/cronjobs',
    body: j({
      metadata: { name: 'cj2' },
      spec: {
        schedule: '@daily',
        timeZone: 'Mars/Olympus',
        jobTemplate: {
          spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } },
        },
      },
    }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.timeZone',
  });
  add({
    name: 'ReplicationController without selector or labels',
    method: 'POST',
    path: `${NS}/replicationcontrollers`,
    body: j({ metadata: { name: 'rc1' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'x' }] } } } }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.selector',
  });
  add({
    name: 'DaemonSet selector not matching the template',
    method: 'POST',
    path: '/apis/apps/v1/namespaces/default/daemonsets',
    body: j({
      metadata: { name: 'ds1' },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: { metadata: { labels: { a: 'c' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
      },
    }),
    code: 422,
    reason: 'Invalid',
    field: 'spec.template.metadata.labels',
  });
  add({
    name: 'EndpointSlice bad addressType',
    method: 'POST',
    path: '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices',
    body: j({ metadata: { name: 'es1' }, addressType: 'IPv5', endpoints: [] }),
    code: 422,
    reason: 'Invalid',
    field: 'addressType',
  });
  return cases;
}
