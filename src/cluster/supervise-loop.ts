import { join } from 'node:path';
import type { Logger } from '../log/klog.ts';
import { isAlive } from '../sys/process.ts';
import { spawnDetached } from '../sys/run.ts';
import {
  componentId,
  readDesired,
  readRecords,
  writeRecords,
  type ComponentRecord,
  type DesiredComponent,
} from './supervisor.ts';
import { timestamp } from '../api/time.ts';
import { sleep } from '../util/wait.ts';

/** RestartBackoff is the delay before a component that exited is started again: doubling from first to max. */
export interface RestartBackoff {
  firstMs: number;
  maxMs: number;
  /** A run at least this long resets the delay to firstMs. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: RestartBackoff = { firstMs: 100, maxMs: 10_000, resetAfterMs: 30_000 };

interface Entry {
  desired: DesiredComponent;
  record: ComponentRecord;
  /** The current run while it lives (a token: exits of earlier runs are ignored). */
  child?: object;
  startedAt: number;
  delayMs: number;
  nextStartAt: number;
}

/**
 * nextDelay is the backoff after an exit: first after a long run, otherwise twice the last delay up to max (as
 * kubelet's CrashLoopBackOff, with shorter steps: a control-plane component should be back within a second).
 */
export function nextDelay(previousMs: number, ranMs: number, backoff: RestartBackoff): number {
  if (ranMs >= backoff.resetAfterMs || previousMs <= 0) return backoff.firstMs;
  return Math.min(previousMs * 2, backoff.maxMs);
}

/**
 * runSupervisor keeps a cluster's components running until signal aborts: every component listed in
 * `components/` runs as a detached process (its own process group, output appended to its log); when one exits,
 * the exit is recorded and it starts again after a backoff. Processes already recorded and alive when it starts
 * (a supervisor restarted by `up --repair`) are adopted, not started twice. On abort it leaves the components
 * running: `tskube down` stops them by PID.
 */
export async function runSupervisor(
  stateDir: string,
  options: { logger: Logger; signal: AbortSignal; backoff?: RestartBackoff; tickMs?: number },
): Promise<void> {
  const log = options.logger;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const file = join(stateDir, 'processes.json');
  const entries = new Map<string, Entry>();
  for (const r of readRecords(file)) {
    const desired = { component: r.component, node: r.node, argv: r.argv, log: r.log };
    entries.set(componentId(r.component, r.node), {
      desired,
      record: { ...r },
      startedAt: Date.now(),
      delayMs: 0,
      nextStartAt: 0,
    });
  }
  let dirty = true;
  const exited = (entry: Entry, reason: string) => {
    const ran = Date.now() - entry.startedAt;
    entry.delayMs = nextDelay(entry.delayMs, ran, backoff);
    entry.nextStartAt = Date.now() + entry.delayMs;
    entry.child = undefined;
    entry.record = { ...entry.record, pid: 0, lastExit: reason, lastExitAt: timestamp() };
    log.info('Component exited, restarting after backoff', {
      component: componentId(entry.record.component, entry.record.node),
      reason,
      backoff: `${entry.delayMs}ms`,
    });
    dirty = true;
  };
  const launch = (entry: Entry) => {
    const d = entry.desired;
    const restarted = entry.record.pid === 0 && entry.record.lastExit !== undefined;
    const child = {};
    entry.child = child;
    entry.startedAt = Date.now();
    let pid = 0;
    try {
      pid = spawnDetached(d.argv, {
        output: d.log,
        onExit: (exit) => {
          if (entry.child !== child) return;
          if (exit.error) exited(entry, `failed to start: ${exit.error.message}`);
          else exited(entry, exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`);
        },
      });
    } catch (error) {
      // It did not start (no such program, no log file): recorded as an exit, started again after the backoff.
      exited(entry, `failed to start: ${error instanceof Error ? error.message : String(error)}`);
    }
    entry.record = {
      ...entry.record,
      component: d.component,
      node: d.node,
      argv: d.argv,
      log: d.log,
      pid,
      restarts: (entry.record.restarts ?? 0) + (restarted ? 1 : 0),
    };
    log.info('Started component', {
      component: componentId(d.component, d.node),
      pid: entry.record.pid,
      restarts: entry.record.restarts ?? 0,
    });
    dirty = true;
  };
  while (!options.signal.aborted) {
    try {
      const desired = readDesired(stateDir);
      const wanted = new Set(desired.map((d) => componentId(d.component, d.node)));
      for (const d of desired) {
        const id = componentId(d.component, d.node);
        let entry = entries.get(id);
        if (!entry || JSON.stringify(entry.desired.argv) !== JSON.stringify(d.argv)) {
          // New, or replaced by a different command line (`up` after a failed one): start it fresh.
          entry = {
            desired: d,
            record: { component: d.component, node: d.node, pid: 0, argv: d.argv, log: d.log },
            startedAt: 0,
            delayMs: 0,
            nextStartAt: 0,
          };
          entries.set(id, entry);
        }
        if (!entry.child && entry.record.pid > 0 && !isAlive(entry.record.pid))
          exited(entry, 'exited (adopted process: exit status unknown)');
        if (!entry.child && entry.record.pid === 0 && Date.now() >= entry.nextStartAt) launch(entry);
      }
      for (const id of [...entries.keys()]) if (!wanted.has(id) && !entries.get(id)!.child) entries.delete(id);
      if (dirty) {
        writeRecords(
          file,
          [...entries.values()].map((e) => e.record),
        );
        dirty = false;
      }
    } catch (error) {
      log.error('Supervisor loop failed, retrying', { error });
    }
    await sleep(options.tickMs ?? 50, options.signal);
  }
}
