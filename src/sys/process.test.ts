import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { firstChild, isAlive, signalGroup } from './process.ts';
import { spawnDetached } from './run.ts';

const waitUntil = async (what: string, check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
};

test('isAlive: this process is, an ended child and nonsense PIDs are not', async () => {
  assert.equal(isAlive(process.pid), true);
  assert.equal(isAlive(0), false);
  assert.equal(isAlive(-1), false);
  assert.equal(isAlive(1.5), false);
  const dir = mkdtempSync(join(tmpdir(), 'is-alive-'));
  try {
    let ended = false;
    const pid = spawnDetached(['/bin/sh', '-c', 'exit 0'], { output: join(dir, 'log'), onExit: () => (ended = true) });
    await waitUntil('the child ends', () => ended);
    assert.equal(isAlive(pid), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('signalGroup reaches a detached program and what it started', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'signal-group-'));
  try {
    const pidFile = join(dir, 'grandchild');
    let exit: unknown;
    const pid = spawnDetached(['/bin/sh', '-c', `sleep 100 & echo $! > ${pidFile}; wait`], {
      output: join(dir, 'log'),
      onExit: (e) => (exit = e),
    });
    await waitUntil('the grandchild starts', () => {
      try {
        return readFileSync(pidFile, 'utf8').trim() !== '';
      } catch {
        return false;
      }
    });
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    assert.equal(isAlive(grandchild), true);
    assert.equal(firstChild(pid), grandchild);
    assert.equal(firstChild(grandchild), undefined);
    signalGroup(pid, 'SIGTERM');
    await waitUntil('both end', () => exit !== undefined && !isAlive(grandchild));
    signalGroup(0, 'SIGTERM');
    signalGroup(-1, 'SIGTERM');
    assert.equal(isAlive(process.pid), true, 'nonsense PIDs signal nothing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
