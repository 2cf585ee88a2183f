import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/apiserver/storage/sqlite-store.ts';
import { NODE } from '../support/processes.ts';
import { storeSuite } from './store-suite.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('SqliteStore', () => {
  storeSuite(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tskube-sqlite-'));
    dirs.push(dir);
    return openSqliteStore({ dataDir: dir });
  });

  test('an acknowledged write survives kill -9 of the writer', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tskube-sqlite-'));
    dirs.push(dir);
    const script = `import { openSqliteStore } from ${JSON.stringify(new URL('../../src/apiserver/storage/sqlite-store.ts', import.meta.url).href)};
const store = openSqliteStore({ dataDir: ${JSON.stringify(dir)} });
let i = 0;
for (;;) { await store.create('/k/' + i, 'v' + i); process.stdout.write(i + '\\n'); i++; }`;
    const child = spawn(NODE, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acknowledged = -1;
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (b: Buffer) => {
        const lines = b.toString().trim().split('\n');
        acknowledged = Number(lines[lines.length - 1]);
        if (acknowledged >= 200) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((r) => child.once('exit', r));
    const store = openSqliteStore({ dataDir: dir });
    try {
      for (let i = 0; i <= acknowledged; i++)
        assert.equal((await store.get(`/k/${i}`))?.value, `v${i}`, `write ${i} lost`);
      assert.ok((await store.currentRevision()) >= acknowledged + 1);
    } finally {
      await store.close();
    }
  });
});
