import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HostCommandError, run, spawnDetached, spawnPiped } from './run.ts';

test('run resolves with the output and rejects with HostCommandError', async () => {
  assert.deepEqual(await run(['sh', '-c', 'echo out; echo err >&2']), { stdout: 'out\n', stderr: 'err\n' });
  await assert.rejects(run(['sh', '-c', 'echo bad >&2; exit 3']), (error: unknown) => {
    assert.ok(error instanceof HostCommandError);
    assert.equal(error.exitCode, 3);
    assert.equal(error.message, 'sh exited with status 3: bad');
    return true;
  });
});

test('spawnPiped pipes stdio, passes exactly env and extra descriptors as fd 3', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spawn-'));
  try {
    writeFileSync(join(dir, 'extra'), 'from fd 3');
    const fd = openSync(join(dir, 'extra'), 'r');
    const child = spawnPiped(['/bin/sh', '-c', 'cat; echo "[$ONLY][$HOME]"; cat <&3; exit 4'], {
      env: { ONLY: 'this' },
      extraFds: [fd],
    });
    closeSync(fd);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stdin.end('in\n');
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(code, 4);
    assert.equal(out, 'in\n[this][]\nfrom fd 3');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('spawnDetached writes to the given descriptor and reports the exit status', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spawn-'));
  try {
    const log = openSync(join(dir, 'log'), 'w');
    let onExit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => (onExit = resolve));
    const pid = spawnDetached(['/bin/sh', '-c', 'echo "$A"; pwd; exit 7'], {
      env: { A: 'a' },
      cwd: dir,
      output: log,
      onExit,
    });
    closeSync(log);
    assert.ok(pid > 1);
    assert.equal(await exited, 7);
    assert.equal(readFileSync(join(dir, 'log'), 'utf8'), `a\n${dir}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
