import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sleep, waitFor } from '../util/wait.ts';
import { isAlive, signalGroup } from './process.ts';
import { HostCommandError, type ProcessExit, run, spawnDetached, spawnPiped } from './run.ts';

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
    assert.equal(await child.exit, 4);
    assert.equal(out, 'in\n[this][]\nfrom fd 3');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('spawnPiped: a signal ends with 128 + its number; a program that cannot start rejects', async () => {
  const child = spawnPiped(['/bin/sh', '-c', 'sleep 10']);
  child.kill();
  assert.equal(await child.exit, 128 + 9);
  await assert.rejects(spawnPiped(['/nonexistent/program']).exit, /ENOENT/);
});

test('spawnDetached writes to the given descriptor and reports the exit status', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spawn-'));
  try {
    const log = openSync(join(dir, 'log'), 'w');
    const { promise: exited, resolve: onExit } = Promise.withResolvers<ProcessExit>();
    const pid = spawnDetached(['/bin/sh', '-c', 'echo "$A"; pwd; exit 7'], {
      env: { A: 'a' },
      cwd: dir,
      output: log,
      onExit,
    });
    closeSync(log);
    assert.ok(pid > 1);
    assert.deepEqual(await exited, { status: 7, code: 7, signal: null });
    assert.equal(readFileSync(join(dir, 'log'), 'utf8'), `a\n${dir}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** detached starts argv with spawnDetached and gives the PID and its exit. */
function detached(argv: string[], output: string | number) {
  const { promise: exit, resolve: onExit } = Promise.withResolvers<ProcessExit>();
  return { pid: spawnDetached(argv, { output, onExit }), exit };
}

test('spawnDetached appends the output to a file, in a folder it makes, with this environment', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spawn-'));
  try {
    const log = join(dir, 'logs', 'a.log');
    for (const word of ['one', 'two']) {
      const { exit } = detached(['sh', '-c', `echo ${word} "$HOME"; echo err >&2; exit 3`], log);
      assert.equal((await exit).status, 3);
    }
    const home = process.env.HOME ?? '';
    assert.equal(readFileSync(log, 'utf8'), `one ${home}\nerr\ntwo ${home}\nerr\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('spawnDetached starts a process group that signalGroup ends, children included, and reports the signal', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spawn-'));
  try {
    const log = join(dir, 'group.log');
    const { pid, exit } = detached(['sh', '-c', 'sleep 300 & echo $!; wait'], log);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    assert.equal(Number(stat[2]), pid, 'the program leads its own process group');
    await waitFor('the child to start', () => readFileSync(log, 'utf8').endsWith('\n'));
    const sleeper = Number(readFileSync(log, 'utf8'));
    assert.ok(isAlive(sleeper));
    signalGroup(pid, 'SIGTERM');
    assert.deepEqual(await exit, { status: 128 + 9, code: null, signal: 'SIGTERM' });
    await waitFor('the child to end', () => !isAlive(sleeper));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('spawnDetached throws for a program that cannot start, and onExit says why, once', async () => {
  const seen: ProcessExit[] = [];
  assert.throws(
    () => spawnDetached(['/nonexistent/program'], { output: '/dev/null', onExit: (e) => seen.push(e) }),
    /cannot start \/nonexistent\/program/,
  );
  await waitFor('onExit', () => seen.length > 0);
  await sleep(20);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.status, 127);
  assert.match(String(seen[0]!.error), /ENOENT/);
});
