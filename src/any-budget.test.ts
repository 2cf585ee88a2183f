/**
 * Objects cross the seams typed (issue #16): `any` is allowed in src/ only where a comment says why, and only a few
 * times in all. Biome's noExplicitAny (an error for src/ in biome.jsonc) asks for that comment, written as
 * `// biome-ignore lint/suspicious/noExplicitAny: <reason>` on the line before; this test keeps the total small.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import test from 'node:test';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '..');
/** The most `any` src/ may hold, each one explained. */
const BUDGET = 29;

function typeScriptFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return typeScriptFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

interface AnyUse {
  where: string;
  reason: string | undefined;
}

/** anyUses finds every `any` keyword in a file (as the compiler parses it, so words in strings and comments do not count). */
export function anyUses(file: string, text: string): AnyUse[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const lines = text.split('\n');
  const uses: AnyUse[] = [];
  const visit = (node: ts.Node): void => {
    if (node.kind === ts.SyntaxKind.AnyKeyword) {
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const above = (lines[line - 1] ?? '').match(/biome-ignore lint\/suspicious\/noExplicitAny:\s*(\S.*)$/);
      uses.push({ where: `${file}:${line + 1}`, reason: above?.[1] });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return uses;
}

test('the counter sees type positions only, and reads the reason above', () => {
  const text =
    "// any here is prose\nconst s = 'any';\n// biome-ignore lint/suspicious/noExplicitAny: JSON from outside\nlet a: any;\nlet b: Array<any>;\n";
  assert.deepEqual(anyUses('x.ts', text), [
    { where: 'x.ts:4', reason: 'JSON from outside' },
    { where: 'x.ts:5', reason: undefined },
  ]);
});

test(`src/ holds at most ${BUDGET} \`any\`, each with its reason on the line before`, () => {
  const uses = typeScriptFiles(join(ROOT, 'src')).flatMap((path) =>
    anyUses(relative(ROOT, path).split('\\').join('/'), readFileSync(path, 'utf8')),
  );
  const unexplained = uses.filter((u) => !u.reason).map((u) => u.where);
  assert.deepEqual(
    unexplained,
    [],
    'each `any` needs `// biome-ignore lint/suspicious/noExplicitAny: <reason>` above it',
  );
  assert.ok(
    uses.length <= BUDGET,
    `${uses.length} uses of any in src/ (at most ${BUDGET}):\n${uses.map((u) => `${u.where} ${u.reason}`).join('\n')}`,
  );
});
