/**
 * The seed lab walked by hand, exactly as docs/lab-walkthrough.md says: every command of the page's `sh` blocks runs
 * as written, in order, in one bash (variables carry from line to line), from the repository root, as a newcomer
 * would copy them. What the page promises after `#` in backquotes must be in that command's output; a command with no
 * comment must succeed. HOME is a temp dir, so the page's default cluster ("tskube", LAN 192.168.225.0/24) keeps its
 * state there; `tskube down` in after() removes whatever a failed run left.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/sys/run.ts';
import { kubectlAvailable } from '../support/kubectl.ts';
import { NOT_ROOT } from '../support/netns.ts';
import { TSKUBE } from '../support/processes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAGE = join(ROOT, 'docs', 'lab-walkthrough.md');

/** PageLine is one command of the page: its section, text, and the fragments its comment promises. */
interface PageLine {
  section: string;
  command: string;
  comment: string | undefined;
  expected: string[];
}

/** pageLines reads the commands of every `sh` block, with the heading they stand under. */
function pageLines(markdown: string): PageLine[] {
  const lines: PageLine[] = [];
  let section = 'start';
  let inBlock = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) {
      inBlock = line === '```sh';
      continue;
    }
    if (!inBlock) {
      if (line.startsWith('## ')) section = line.slice(3);
      continue;
    }
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const hash = line.search(/\s#\s/);
    const command = (hash === -1 ? line : line.slice(0, hash)).trim();
    const comment = hash === -1 ? undefined : line.slice(hash).trim();
    lines.push({ section, command, comment, expected: [...(comment ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!) });
  }
  return lines;
}

describe('docs/lab-walkthrough.md, followed literally on tskube up --lab', {
  skip: NOT_ROOT || (!kubectlAvailable('1.33') && 'kubectl 1.33 is not installed'),
}, () => {
  let home: string;
  let lines: PageLine[];
  const results: { output: string; code: number | undefined }[] = [];

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'tskube-walkthrough-'));
    lines = pageLines(await readFile(PAGE, 'utf8'));
    // One bash for the whole page; each command's output and status go to files named after its index.
    const script =
      `cd '${ROOT}'\n` +
      lines
        .map((l, i) =>
          l.command.endsWith('&') ? l.command : `{ ${l.command}\n} > ${home}/out.${i} 2>&1; echo $? > ${home}/rc.${i}`,
        )
        .join('\n');
    await writeFile(join(home, 'page.sh'), script);
    await run(['bash', join(home, 'page.sh')], { env: { HOME: home }, timeoutMs: 480_000 }).catch((error) => {
      results.push({ output: `the page's script failed: ${error.message}`, code: undefined });
    });
    for (let i = 0; i < lines.length; i++) {
      const out = join(home, `out.${i}`);
      const rc = join(home, `rc.${i}`);
      results[i] = {
        output: existsSync(out) ? await readFile(out, 'utf8') : '',
        code: existsSync(rc)
          ? Number((await readFile(rc, 'utf8')).trim())
          : lines[i]!.command.endsWith('&')
            ? 0
            : undefined,
      };
    }
  });

  after(async () => {
    if (!home) return;
    if (existsSync(join(home, '.tskube', 'tskube')))
      await run([TSKUBE, 'down'], { env: { HOME: home }, timeoutMs: 60_000 });
    await rm(home, { recursive: true, force: true });
  });

  const sections = [
    'start',
    '1. Services and networking',
    '2. A flat network on nodeb',
    '3. The same on nodea',
    '4. Services revisited',
    '5. kube-proxy on nodea',
    '6. kube-proxy on nodeb',
  ];
  for (const section of sections) {
    test(`${section}: every command does what the page says`, () => {
      const inSection = lines.map((l, i) => ({ l, r: results[i]! })).filter(({ l }) => l.section === section);
      assert.ok(inSection.length > 0, `the page has a section "${section}"`);
      for (const { l, r } of inSection) {
        assert.notEqual(r.code, undefined, `${l.command}: never ran`);
        if (l.comment === undefined) assert.equal(r.code, 0, `${l.command}: exited ${r.code}\n${r.output}`);
        for (const fragment of l.expected)
          assert.ok(r.output.includes(fragment), `${l.command}: output lacks "${fragment}":\n${r.output}`);
      }
    });
  }
});
