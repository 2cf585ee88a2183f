/**
 * The supervisor of `tskube up` (src/cluster/supervise-loop.ts) with real processes (`sleep`, `sh`) in a temporary
 * state directory: it starts what `components/` lists, restarts what exits with a growing backoff, records restarts
 * and the last exit reason, and adopts live processes when it is itself restarted. No root needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/log/klog.ts';
import { DEFAULT_BACKOFF, nextDelay, runSupervisor } from '../../src/cluster/supervise-loop.ts';
import { Supervisor, readRecords } from '../../src/cluster/supervisor.ts';
import { isAlive } from '../../src/sys/process.ts';
import { sleep, waitFor } from '../../src/util/wait.ts';

test('nextDelay() doubles from 100 ms up to 10 s and starts over after a long run', () => {
  let d = 0;
  const seen: number[] = [];
  for (let i = 0; i < 10; i++) seen.push((d = nextDelay(d, 10, DEFAULT_BACKOFF)));
  assert.deepEqual(seen, [100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000, 10000]);
  assert.equal(nextDelay(10_000, 60_000, DEFAULT_BACKOFF), 100);
});

test('runSupervisor() restarts a killed component, records the reason, and adopts live ones after its own restart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tskube-supervisor-'));
  const supervisor = new Supervisor(dir);
  let abort = new AbortController();
  let loop = runSupervisor(dir, { logger: silentLogger(), signal: abort.signal });
  try {
    // start() would spawn `tskube supervise`; the loop runs in this process instead, so write the wish directly.
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(join(dir, 'components'), { recursive: true });
    writeFileSync(
      join(dir, 'components', 'sleeper.json'),
      JSON.stringify({ component: 'sleeper', argv: ['sleep', '300'], log: join(dir, 'logs', 'sleeper.log') }),
    );
    writeFileSync(
      join(dir, 'components', 'crasher-nodea.json'),
      JSON.stringify({
        component: 'crasher',
        node: 'nodea',
        argv: ['sh', '-c', 'exit 3'],
        log: join(dir, 'logs', 'crasher.log'),
      }),
    );
    await waitFor('the sleeper to start', async () =>
      supervisor.records.some((r) => r.component === 'sleeper' && r.pid > 0),
    );
    const first = supervisor.records.find((r) => r.component === 'sleeper')!;
    process.kill(first.pid, 'SIGKILL');
    await waitFor('the sleeper to be restarted', async () => {
      const r = supervisor.records.find((x) => x.component === 'sleeper')!;
      return r.pid > 0 && r.pid !== first.pid;
    });
    const second = supervisor.records.find((r) => r.component === 'sleeper')!;
    assert.equal(second.restarts, 1);
    assert.equal(second.lastExit, 'signal SIGKILL');
    await waitFor(
      'the crasher to be restarted a few times',
      async () => (supervisor.records.find((r) => r.component === 'crasher')!.restarts ?? 0) >= 3,
    );
    assert.equal(supervisor.records.find((r) => r.component === 'crasher')!.lastExit, 'exit code 3');
    // The supervisor itself goes and comes back: the sleeper keeps its PID.
    abort.abort();
    await loop;
    abort = new AbortController();
    loop = runSupervisor(dir, { logger: silentLogger(), signal: abort.signal });
    await sleep(300);
    assert.equal(supervisor.records.find((r) => r.component === 'sleeper')!.pid, second.pid);
    process.kill(second.pid, 'SIGKILL');
    await waitFor('the adopted sleeper to be restarted', async () => {
      const r = supervisor.records.find((x) => x.component === 'sleeper')!;
      return r.pid > 0 && r.pid !== second.pid && r.restarts === 2;
    });
  } finally {
    abort.abort();
    await loop;
    for (const r of readRecords(join(dir, 'processes.json')))
      if (r.pid > 0 && isAlive(r.pid)) process.kill(-r.pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
