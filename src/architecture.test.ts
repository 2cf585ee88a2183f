/**
 * The layering docs/ARCHITECTURE.md promises, checked on every file under src/: imports point down only, components
 * never import each other, local modules are imported statically, and only src/sys/ starts host programs.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import test from 'node:test';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

/** Rank of each folder of src/, from the entry (0) down to logging and small helpers; a file may import only its own rank or lower. */
export const LAYERS: Record<string, number> = {
  cli: 0,
  cluster: 1,
  apiserver: 2,
  controllers: 2,
  scheduler: 2,
  kubelet: 2,
  flatnet: 2,
  proxy: 2,
  dns: 2,
  client: 3,
  api: 4,
  net: 4,
  pki: 4,
  sys: 5,
  log: 6,
  util: 7,
};
const COMPONENT = 2;

/** The one deliberate dynamic import: `tskube <sub>` loads only the subcommand's module. */
const DYNAMIC_ALLOWED = new Set(['src/cli/tskube.ts']);

/**
 * Files that still start programs themselves instead of through src/sys/ (issue #16). The list is exact: moving one
 * to src/sys/ makes this test ask for its line to go, so it only shrinks.
 */
const SPAWN_NOT_YET_IN_SYS = new Set<string>();

interface Import {
  spec: string;
  dynamic: boolean;
  line: number;
}

/** importsOf lists a module's import specifiers: static, re-exports, side-effect, type `import()` and dynamic ones. */
export function importsOf(text: string): Import[] {
  const found: Import[] = [];
  const lineAt = (index: number) => text.slice(0, index).split('\n').length;
  const code = text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  for (const m of code.matchAll(
    /^\s*(?:import|export)\b[^;'"`]*?\bfrom\s*(['"])([^'"]+)\1|^\s*import\s*(['"])([^'"]+)\3/gm,
  )) {
    found.push({ spec: m[2] ?? m[4]!, dynamic: false, line: lineAt(m.index) });
  }
  for (const m of code.matchAll(/(\bawait\s+)?\bimport\s*\(\s*(?:(['"])([^'"]+)\2|`([^`]*)`)\s*\)(\s*\.then\b)?/g)) {
    const template = m[4] !== undefined;
    found.push({ spec: m[3] ?? m[4]!, dynamic: Boolean(m[1] || m[5] || template), line: lineAt(m.index) });
  }
  return found;
}

/** violations checks one file (path relative to the repository, e.g. `src/proxy/config.ts`) against the layering. */
export function violations(file: string, text: string): string[] {
  const out: string[] = [];
  const from = file.split('/')[1]!;
  const rank = LAYERS[from];
  if (rank === undefined)
    return [`${file}: folder src/${from}/ has no layer (add it to docs/ARCHITECTURE.md and LAYERS)`];
  for (const { spec, dynamic, line } of importsOf(text)) {
    const local = spec.startsWith('.');
    if (dynamic && (local || spec.includes('${')) && !DYNAMIC_ALLOWED.has(file)) {
      out.push(`${file}:${line}: dynamic import of a local module '${spec}' (import it statically)`);
    }
    if (spec === 'node:child_process' || spec === 'child_process') {
      if (from !== 'sys' && !SPAWN_NOT_YET_IN_SYS.has(file))
        out.push(`${file}:${line}: starts programs itself (use src/sys/)`);
    }
    if (!local || spec.includes('${')) continue;
    const target = relative(ROOT, join(dirname(join(ROOT, file)), spec))
      .split('\\')
      .join('/');
    if (!target.startsWith('src/')) continue;
    const to = target.split('/')[1]!;
    if (to === from || target.split('/').length < 3) continue;
    const toRank = LAYERS[to];
    if (toRank === undefined) out.push(`${file}:${line}: imports '${spec}' from src/${to}/, which has no layer`);
    else if (toRank < rank) out.push(`${file}:${line}: imports '${spec}' upward (src/${from}/ is below src/${to}/)`);
    else if (toRank === COMPONENT && rank === COMPONENT)
      out.push(`${file}:${line}: component src/${from}/ imports component src/${to}/ ('${spec}')`);
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'testdata' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

test('the checker finds upward, sideways, dynamic and spawning imports', () => {
  assert.deepEqual(violations('src/proxy/config.ts', "import { parseDuration } from '../cli/flags.ts';"), [
    "src/proxy/config.ts:1: imports '../cli/flags.ts' upward (src/proxy/ is below src/cli/)",
  ]);
  assert.deepEqual(violations('src/kubelet/a.ts', "import type {\n  X,\n} from '../proxy/x.ts';"), [
    "src/kubelet/a.ts:1: component src/kubelet/ imports component src/proxy/ ('../proxy/x.ts')",
  ]);
  assert.equal(violations('src/sys/a.ts', "type T = import('../client/informer.ts').Informer;").length, 1);
  assert.deepEqual(violations('src/cluster/a.ts', "const { f } = await import('./b.ts');"), [
    "src/cluster/a.ts:1: dynamic import of a local module './b.ts' (import it statically)",
  ]);
  assert.equal(violations('src/cluster/a.ts', "const m = await import('node:fs/promises');").length, 0);
  assert.equal(violations('src/flatnet/a.ts', "import { spawn } from 'node:child_process';").length, 1);
  assert.equal(violations('src/sys/a.ts', "import { spawn } from 'node:child_process';").length, 0);
  assert.equal(
    violations('src/cli/a.ts', "// import { x } from '../cli/b.ts'\nimport { y } from '../log/klog.ts';").length,
    0,
  );
  assert.equal(
    violations('src/proxy/a.ts', "import { parseCidr } from '../net/ipv4.ts';\nimport { y } from './b.ts';").length,
    0,
  );
  assert.equal(violations('src/widgets/a.ts', '').length, 1);
});

test('every file under src/ imports only down the layers of docs/ARCHITECTURE.md', () => {
  const found = sourceFiles(SRC).flatMap((path) =>
    violations(relative(ROOT, path).split('\\').join('/'), readFileSync(path, 'utf8')),
  );
  assert.deepEqual(found, []);
});

test('the exceptions are still needed', () => {
  const files = sourceFiles(SRC).map((path) => relative(ROOT, path).split('\\').join('/'));
  for (const file of SPAWN_NOT_YET_IN_SYS) {
    const text = files.includes(file) ? readFileSync(join(ROOT, file), 'utf8') : '';
    assert.ok(
      importsOf(text).some((i) => i.spec === 'node:child_process'),
      `${file} no longer spawns: drop it from SPAWN_NOT_YET_IN_SYS`,
    );
  }
});

test('docs/ARCHITECTURE.md places every folder of src/', () => {
  const doc = readFileSync(join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
  const folders = readdirSync(SRC, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  for (const folder of folders) {
    assert.ok(folder in LAYERS, `src/${folder}/ has no layer in LAYERS`);
    assert.match(doc, new RegExp(`\`src/${folder}/\``), `docs/ARCHITECTURE.md does not place src/${folder}/`);
  }
});
