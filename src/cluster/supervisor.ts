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
  /** The full command line, `enter` included. */
  argv: string[];
  /** The prefix that enters a node's namespaces (empty for the control plane). */
  enter?: string[];
  log: string;
}

export class Supervisor {
  #file: string;
  records: ComponentRecord[];

  constructor(stateDir: string) {
    this.#file = join(stateDir, 'processes.json');
    this.records = existsSync(this.#file) ? JSON.parse(readFileSync(this.#file, 'utf8')) : [];
  }

  /** start launches argv (on a node when `enter` is its namespaces' prefix) and records it. */
  start(component: string, argv: string[], options: { node?: string; enter?: string[]; log: string }): ComponentRecord {
    mkdirSync(dirname(options.log), { recursive: true });
    const fd = openSync(options.log, 'a');
    const enter = options.enter ?? [];
    const full = [...enter, ...argv];
    const child = spawn(full[0]!, full.slice(1), { detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    child.unref();
    const record = { component, node: options.node, pid: child.pid!, argv: full, enter, log: options.log };
    this.records = this.records.filter((r) => !(r.component === component && r.node === options.node));
    this.records.push(record);
    this.save();
    return record;
  }

  /** restart launches a recorded component again with the same command line. */
  restart(record: ComponentRecord): ComponentRecord {
    const enter = record.enter ?? [];
    return this.start(record.component, record.argv.slice(enter.length), { node: record.node, enter, log: record.log });
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
