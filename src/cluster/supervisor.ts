import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isAlive, signalGroup } from '../sys/process.ts';

/**
 * Supervisor starts a cluster's components as detached processes (they outlive `tskube up`), each with its log
 * file, and records them in `processes.json` in the state directory, so `status`, `logs`, `up --repair` and `down`
 * find them by PID.
 */
export interface ComponentRecord {
  component: string;
  node?: string;
  pid: number;
  argv: string[];
  log: string;
}

export class Supervisor {
  #file: string;
  records: ComponentRecord[];

  constructor(stateDir: string) {
    this.#file = join(stateDir, 'processes.json');
    this.records = existsSync(this.#file) ? JSON.parse(readFileSync(this.#file, 'utf8')) : [];
  }

  /** start launches argv (in a node's namespace when netns is given) and records it. */
  start(component: string, argv: string[], options: { node?: string; netns?: string; log: string }): ComponentRecord {
    mkdirSync(dirname(options.log), { recursive: true });
    const fd = openSync(options.log, 'a');
    const full = options.netns ? ['nsenter', `--net=/run/netns/${options.netns}`, '--', ...argv] : argv;
    const child = spawn(full[0]!, full.slice(1), { detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    child.unref();
    const record = { component, node: options.node, pid: child.pid!, argv: full, log: options.log };
    this.records = this.records.filter((r) => !(r.component === component && r.node === options.node));
    this.records.push(record);
    this.save();
    return record;
  }

  /** restart launches a recorded component again with the same command line. */
  restart(record: ComponentRecord): ComponentRecord {
    const argv = record.argv[0] === 'nsenter' ? record.argv.slice(3) : record.argv;
    const netns = record.argv[0] === 'nsenter' ? record.argv[1]!.replace('--net=/run/netns/', '') : undefined;
    return this.start(record.component, argv, { node: record.node, netns, log: record.log });
  }

  alive(record: ComponentRecord): boolean {
    return isAlive(record.pid);
  }

  /** stopAll sends TERM to every recorded process group, then KILL to what is left after the timeout. */
  async stopAll(timeoutMs = 5000): Promise<void> {
    for (const r of this.records) signalGroup(r.pid, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.records.some((r) => this.alive(r))) await new Promise((res) => setTimeout(res, 50));
    for (const r of this.records) if (this.alive(r)) signalGroup(r.pid, 'SIGKILL');
    this.records = [];
    this.save();
  }

  save(): void {
    mkdirSync(dirname(this.#file), { recursive: true });
    writeFileSync(this.#file, JSON.stringify(this.records, null, 2));
  }
}
