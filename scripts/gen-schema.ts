/**
 * gen-schema derives src/api/schema/messages.json, tskube's one schema of every served kind, from upstream's facts:
 * the message and field numbers of `generated.proto` and the JSON names, `omitempty`, pointer and inline facts of
 * the Go struct tags (`types.go`), in k8s.io/api and k8s.io/apimachinery. Only facts are kept; no prose is copied.
 *
 *   node_modules/node/bin/node scripts/gen-schema.ts <kubernetes/api git dir> <kubernetes/apimachinery git dir> [ref]
 *
 * Both are git directories, read at `ref` (default v0.33.13, the k8s.io/api release of Kubernetes 1.33, the version
 * tskube reports) with `git show <ref>:<path>`; a work tree path works too (then `ref` must be a commit in it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** PACKAGES: the upstream package directories read, with their API group ('' for core; meta for apimachinery). */
const PACKAGES: { repo: 'api' | 'apimachinery'; dir: string; group: string; version: string }[] = [
  { repo: 'apimachinery', dir: 'pkg/apis/meta/v1', group: 'meta.k8s.io', version: 'v1' },
  { repo: 'apimachinery', dir: 'pkg/runtime', group: '', version: '' },
  { repo: 'apimachinery', dir: 'pkg/runtime/schema', group: '', version: '' },
  { repo: 'apimachinery', dir: 'pkg/api/resource', group: '', version: '' },
  { repo: 'apimachinery', dir: 'pkg/util/intstr', group: '', version: '' },
  { repo: 'api', dir: 'core/v1', group: '', version: 'v1' },
  { repo: 'api', dir: 'apps/v1', group: 'apps', version: 'v1' },
  { repo: 'api', dir: 'batch/v1', group: 'batch', version: 'v1' },
  { repo: 'api', dir: 'discovery/v1', group: 'discovery.k8s.io', version: 'v1' },
  { repo: 'api', dir: 'coordination/v1', group: 'coordination.k8s.io', version: 'v1' },
  { repo: 'api', dir: 'rbac/v1', group: 'rbac.authorization.k8s.io', version: 'v1' },
  { repo: 'api', dir: 'authentication/v1', group: 'authentication.k8s.io', version: 'v1' },
  { repo: 'api', dir: 'authorization/v1', group: 'authorization.k8s.io', version: 'v1' },
  { repo: 'api', dir: 'networking/v1', group: 'networking.k8s.io', version: 'v1' },
  { repo: 'api', dir: 'autoscaling/v1', group: 'autoscaling', version: 'v1' },
  { repo: 'api', dir: 'autoscaling/v2', group: 'autoscaling', version: 'v2' },
  { repo: 'api', dir: 'events/v1', group: 'events.k8s.io', version: 'v1' },
  { repo: 'api', dir: 'policy/v1', group: 'policy', version: 'v1' },
];

/** Messages whose JSON form is not an object of their proto fields (custom MarshalJSON upstream). */
const JSON_FORMATS: Record<string, string> = {
  'k8s.io.apimachinery.pkg.apis.meta.v1.Time': 'time',
  'k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime': 'micro-time',
  'k8s.io.apimachinery.pkg.apis.meta.v1.Duration': 'duration',
  'k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1': 'raw-json',
  'k8s.io.apimachinery.pkg.runtime.RawExtension': 'raw-extension',
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': 'int-or-string',
  'k8s.io.apimachinery.pkg.api.resource.Quantity': 'quantity',
};

interface Field {
  name: string;
  number: number;
  type: string;
  repeated?: true;
  map?: true;
  pointer?: true;
  omitEmpty?: true;
  inline?: true;
  optional?: true;
  listType?: string;
  listMapKeys?: string[];
  patchStrategy?: string;
  patchMergeKey?: string;
}
interface Message {
  fields: Field[];
  json?: string;
}
interface GoField {
  goName: string;
  jsonName: string;
  omitEmpty: boolean;
  pointer: boolean;
  anonymous: boolean;
  protoNumber: number | undefined;
}

function reader(root: string, ref: string): { read(path: string): string; list(dir: string): string[] } {
  const gitDir = existsSync(join(root, '.git')) ? join(root, '.git') : root;
  return {
    read: (path) =>
      execFileSync('git', ['--git-dir', gitDir, 'show', `${ref}:${path}`], { encoding: 'utf8', maxBuffer: 64 << 20 }),
    list: (dir) =>
      execFileSync('git', ['--git-dir', gitDir, 'ls-tree', '--name-only', `${ref}:${dir}`], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean),
  };
}

/** parseProto reads the messages of one generated.proto: fields, numbers, types (fully qualified) and markers. */
function parseProto(text: string): { pkg: string; messages: Map<string, Message> } {
  const pkg = /^package ([\w.]+);/m.exec(text)![1]!;
  const messages = new Map<string, Message>();
  let current: Message | undefined;
  let markers: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const open = /^message (\w+) \{$/.exec(line);
    if (open) {
      current = { fields: [] };
      messages.set(`${pkg}.${open[1]}`, current);
      markers = [];
      continue;
    }
    if (line === '}') {
      current = undefined;
      continue;
    }
    if (!current) continue;
    if (line.startsWith('//')) {
      const m = /^\/\/ \+([\w.-]+)(?:=(.*))?$/.exec(line);
      if (m) markers.push(`${m[1]}=${m[2] ?? ''}`);
      continue;
    }
    const plain = /^(optional|repeated) (\S+) (\w+) = (\d+);$/.exec(line);
    const map = /^map<(\S+), (\S+)> (\w+) = (\d+);$/.exec(line);
    if (!plain && !map) {
      if (line) throw new SyntaxError(`Cannot parse proto line "${line}"`);
      markers = [];
      continue;
    }
    const field: Field = plain
      ? { name: plain[3]!, number: Number(plain[4]), type: resolve(plain[2]!, pkg) }
      : { name: map![3]!, number: Number(map![4]), type: resolve(map![2]!, pkg) };
    if (map) field.map = true;
    if (plain?.[1] === 'repeated') field.repeated = true;
    for (const marker of markers) {
      const [key, value] = [marker.slice(0, marker.indexOf('=')), marker.slice(marker.indexOf('=') + 1)];
      if (key === 'optional') field.optional = true;
      else if (key === 'listType') field.listType = value;
      else if (key === 'listMapKey') (field.listMapKeys ??= []).push(value);
      else if (key === 'patchStrategy') field.patchStrategy = value;
      else if (key === 'patchMergeKey') field.patchMergeKey = value;
    }
    current.fields.push(field);
    markers = [];
  }
  return { pkg, messages };
}

const SCALARS = new Set([
  'string',
  'bytes',
  'bool',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'double',
  'float',
  'fixed32',
  'fixed64',
  'sint32',
  'sint64',
]);

function resolve(type: string, pkg: string): string {
  if (SCALARS.has(type)) return type;
  if (type.startsWith('.')) return type.slice(1);
  if (type.includes('.')) return type;
  return `${pkg}.${type}`;
}

/** parseGo reads the struct fields of a Go package (json tag, omitempty, pointer, embedding, proto name). */
function parseGo(text: string, structs: Map<string, GoField[]>, objects: Set<string>, arrays: Set<string>): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const arr = /^type (\w+) \[\](\w+)$/.exec(lines[i]!);
    if (arr && arr[2] === 'string') arrays.add(arr[1]!);
    const open = /^type (\w+) struct \{$/.exec(lines[i]!);
    if (!open) continue;
    const name = open[1]!;
    for (let j = i - 1; j >= 0 && (lines[j]!.startsWith('//') || lines[j]!.trim() === ''); j--) {
      if (lines[j]!.includes('deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object')) objects.add(name);
    }
    const fields: GoField[] = [];
    for (i++; i < lines.length && lines[i] !== '}'; i++) {
      const line = lines[i]!.trim();
      if (line.startsWith('//') || line === '') continue;
      const m = /^(?:(\w+)\s+)?(\S+)\s+`(.*)`$/.exec(line);
      if (!m) continue;
      const tags = m[3]!;
      const json = /json:"([^"]*)"/.exec(tags)?.[1];
      if (json === undefined || json === '-') continue;
      const [jsonName, ...opts] = json.split(',');
      fields.push({
        goName: m[1] ?? m[2]!.replace(/^\*/, '').replace(/^.*\./, ''),
        jsonName: jsonName!,
        omitEmpty: opts.includes('omitempty'),
        pointer: m[2]!.startsWith('*'),
        anonymous: m[1] === undefined,
        protoNumber: Number(/protobuf:"\w+,(\d+)/.exec(tags)?.[1] ?? NaN),
      });
    }
    structs.set(name, fields);
  }
}

function main(): void {
  const [apiRoot, machineryRoot, ref = 'v0.33.13'] = process.argv.slice(2);
  if (!apiRoot || !machineryRoot)
    throw new TypeError('usage: gen-schema.ts <kubernetes/api> <kubernetes/apimachinery> [ref]');
  const roots = { api: reader(apiRoot, ref), apimachinery: reader(machineryRoot, ref) };
  const messages: Record<string, Message> = {};
  const kinds: Record<string, string> = {};
  for (const p of PACKAGES) {
    const r = roots[p.repo];
    const { pkg, messages: parsed } = parseProto(r.read(`${p.dir}/generated.proto`));
    const structs = new Map<string, GoField[]>();
    const objects = new Set<string>();
    const arrays = new Set<string>();
    for (const file of r.list(p.dir)) {
      if (!file.endsWith('.go') || file.endsWith('_test.go') || file.startsWith('zz_') || file.startsWith('generated'))
        continue;
      parseGo(r.read(`${p.dir}/${file}`), structs, objects, arrays);
    }
    for (const [full, message] of parsed) {
      const short = full.slice(pkg.length + 1);
      const goFields = structs.get(short) ?? [];
      for (const field of message.fields) {
        const go = goFields.find((g) => g.protoNumber === field.number);
        if (!go) {
          if (!JSON_FORMATS[full] && !arrays.has(short))
            process.stderr.write(`no Go field for ${full}.${field.name}\n`);
          continue;
        }
        if (go.anonymous && go.jsonName === '') field.inline = true;
        else if (go.jsonName !== field.name) field.name = go.jsonName;
        if (go.pointer) field.pointer = true;
        if (go.omitEmpty) field.omitEmpty = true;
      }
      if (JSON_FORMATS[full]) message.json = JSON_FORMATS[full];
      else if (arrays.has(short)) message.json = 'string-array';
      messages[full] = sortKeys(message);
      if (p.version && objects.has(short) && message.fields.some((f) => f.name === 'metadata')) {
        kinds[p.group === '' ? `${p.version}/${short}` : `${p.group}/${p.version}/${short}`] = full;
      }
      // meta.k8s.io's own kinds travel as apiVersion v1 (Status, discovery documents, options) in every group.
      if (p.group === 'meta.k8s.io' && objects.has(short)) {
        kinds[`meta.k8s.io/v1/${short}`] = full;
        if (!short.startsWith('PartialObjectMetadata')) kinds[`v1/${short}`] = full;
      }
    }
  }
  const out = {
    source: `derived by scripts/gen-schema.ts from k8s.io/api and k8s.io/apimachinery ${ref}: generated.proto + Go struct tags`,
    kinds: sortObject(kinds),
    messages: sortObject(messages),
  };
  const path = new URL('../src/api/schema/messages.json', import.meta.url);
  writeFileSync(path, `${JSON.stringify(out, null, 0).replace(/\{"fields"/g, '\n{"fields"')}\n`);
  process.stdout.write(
    `${Object.keys(messages).length} messages, ${Object.keys(kinds).length} kinds → ${path.pathname}\n`,
  );
}

function sortKeys(m: Message): Message {
  return m.json ? { json: m.json, fields: m.fields } : { fields: m.fields };
}

function sortObject<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

main();
