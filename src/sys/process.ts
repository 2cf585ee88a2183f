import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

/** isAlive tells whether a process runs (a zombie waiting to be reaped does not). */
export function isAlive(pid: number): boolean {
  // kill(0 or a negative number) would ask about process groups, never one process.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return !(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').startsWith('Z');
  } catch {
    return false;
  }
}

/** signalGroup signals a process group (a detached child and its children), or the process when it has none. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  // Never init's group, nor kill(-1) (every process): only a real child's group.
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** firstIPv4 is the host's first non-loopback IPv4 address (a default for advertise and node addresses). */
export function firstIPv4(): string {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

/** firstChild is a process's first child (e.g. a container's init under `unshare --fork`), from /proc. */
export function firstChild(pid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}
