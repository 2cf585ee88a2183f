import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from '../util/wait.ts';
import { isAlive, signalGroup } from '../sys/process.ts';
import { spawnDetached } from '../sys/run.ts';

const TSKUBE = fileURLToPath(new URL('../../bin/tskube', import.meta.url));

/**
 * Supervisor is how `tskube up`, `status` and `down` meet the cluster's supervisor process (`tskube supervise`, see
 * supervise-loop.ts): up writes what should run into `components/` of the state directory; the supervisor starts
 * each component as a detached process with its log file, restarts it with a backoff whenever it exits, and
 * records PIDs, restarts and the last exit reason in `processes.json`, where status, logs, and down find them.
 */
export interface ComponentRecord {
  component: string;
  node?: string;
  /** 0 while waiting for a restart. */
  pid: number;
  /** The full command line, the prefix that enters a node's namespaces included. */
  argv: string[];
  log: string;
  /** How often the supervisor started it again after it exited. */
  restarts?: number;
  /** `exit code 1`, `signal SIGKILL`, ... of the last exit. */
  lastExit?: string;
  lastExitAt?: string;
}

/** DesiredComponent is one file in `components/`: a component that should run. */
export interface DesiredComponent {
  component: string;
  node?: string;
  argv: string[];
  log: string;
}

/** componentId names a component's files: `apiserver`, `kubelet-nodea`. */
export function componentId(component: string, node?: string): string {
  return node ? `${component}-${node}` : component;
}

export class Supervisor {
  readonly dir: string;
  #file: string;

  constructor(stateDir: string) {
    this.dir = stateDir;
    this.#file = join(stateDir, 'processes.json');
  }

  get records(): ComponentRecord[] {
    return readRecords(this.#file);
  }

  get pidFile(): string {
    return join(this.dir, 'supervisor.pid');
  }

  /** daemonPid is the supervisor's PID when it runs. */
  daemonPid(): number | undefined {
    if (!existsSync(this.pidFile)) return undefined;
    const pid = Number(readFileSync(this.pidFile, 'utf8'));
    return pid > 0 && isAlive(pid) ? pid : undefined;
  }

  /** ensureDaemon starts `tskube supervise` for this state directory unless it runs. */
  ensureDaemon(): void {
    if (this.daemonPid() !== undefined) return;
    const pid = spawnDetached([TSKUBE, 'supervise', `--state-dir=${this.dir}`], {
      output: join(this.dir, 'logs', 'supervisor.log'),
    });
    writeFileSync(this.pidFile, String(pid));
  }

  /** start asks the supervisor to run argv (on a node when `enter` is its namespaces' prefix) and waits for its PID. */
  async start(
    component: string,
    argv: string[],
    options: { node?: string; enter?: string[]; log: string },
  ): Promise<ComponentRecord> {
    const full = [...(options.enter ?? []), ...argv];
    const desired: DesiredComponent = { component, node: options.node, argv: full, log: options.log };
    mkdirSync(join(this.dir, 'components'), { recursive: true });
    writeAtomically(
      join(this.dir, 'components', `${componentId(component, options.node)}.json`),
      JSON.stringify(desired, null, 2),
    );
    this.ensureDaemon();
    const deadline = Date.now() + 15_000;
    for (;;) {
      const record = this.records.find(
        (r) =>
          r.component === component &&
          r.node === options.node &&
          r.pid > 0 &&
          JSON.stringify(r.argv) === JSON.stringify(full),
      );
      if (record) return record;
      if (Date.now() > deadline)
        throw new Error(
          `The supervisor did not start ${componentId(component, options.node)} within 15 s (see ${join(this.dir, 'logs', 'supervisor.log')})`,
        );
      await sleep(50);
    }
  }

  alive(record: ComponentRecord): boolean {
    return record.pid > 0 && isAlive(record.pid);
  }

  /** stopAll stops the supervisor, then sends TERM to every recorded process group and KILL to what is left. */
  async stopAll(timeoutMs = 5000): Promise<void> {
    const daemon = this.daemonPid();
    if (daemon !== undefined) {
      signalGroup(daemon, 'SIGTERM');
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && isAlive(daemon)) await sleep(20);
      if (isAlive(daemon)) signalGroup(daemon, 'SIGKILL');
    }
    const records = this.records;
    for (const r of records) if (r.pid > 0) signalGroup(r.pid, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && records.some((r) => this.alive(r))) await sleep(50);
    for (const r of records) if (this.alive(r)) signalGroup(r.pid, 'SIGKILL');
    rmSync(join(this.dir, 'components'), { recursive: true, force: true });
    rmSync(this.pidFile, { force: true });
    writeRecords(this.#file, []);
  }
}

/** readRecords reads processes.json (empty when absent or being replaced). */
export function readRecords(file: string): ComponentRecord[] {
  if (!existsSync(file)) return [];
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    if (error instanceof SyntaxError) return [];
    throw error;
  }
}

/** writeRecords replaces processes.json atomically, so readers never see half a file. */
export function writeRecords(file: string, records: ComponentRecord[]): void {
  mkdirSync(dirname(file), { recursive: true });
  writeAtomically(file, JSON.stringify(records, null, 2));
}

/** readDesired lists the components that should run (the files in `components/`). */
export function readDesired(stateDir: string): DesiredComponent[] {
  const dir = join(stateDir, 'components');
  if (!existsSync(dir)) return [];
  const out: DesiredComponent[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(readFileSync(join(dir, name), 'utf8')));
    } catch (error) {
      if (!(error instanceof SyntaxError) && (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return out;
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}
