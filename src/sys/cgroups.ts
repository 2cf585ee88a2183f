import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Container cgroups with CPU and memory limits, on cgroup v2 (one unified tree) or v1 (a tree per controller; the
 * memory cgroup nested under the agent's own, as a sandboxed agent may not write elsewhere). Each container gets
 * `tskube/<pod uid>/<container>`; the container's launcher joins it by writing to the returned cgroup.procs files.
 */
export interface CgroupLimits {
  /** Memory limit in bytes (0: none). */
  memoryBytes: number;
  /** CPU limit in millicores (0: none). */
  cpuMillis: number;
}

const ROOT = '/sys/fs/cgroup';
const PERIOD_US = 100_000;

export function cgroupVersion(): 1 | 2 {
  return existsSync(join(ROOT, 'cgroup.controllers')) ? 2 : 1;
}

/** createCgroups makes the container's cgroups with its limits and returns the cgroup.procs files to join. */
export function createCgroups(podUid: string, container: string, limits: CgroupLimits): string[] {
  const rel = join('tskube', podUid, container);
  if (cgroupVersion() === 2) {
    enableControllers(join(ROOT, 'tskube'));
    enableControllers(join(ROOT, 'tskube', podUid));
    const dir = join(ROOT, rel);
    mkdirSync(dir, { recursive: true });
    if (limits.memoryBytes > 0) writeFileSync(join(dir, 'memory.max'), String(Math.floor(limits.memoryBytes)));
    if (limits.cpuMillis > 0)
      writeFileSync(join(dir, 'cpu.max'), `${Math.floor((limits.cpuMillis * PERIOD_US) / 1000)} ${PERIOD_US}`);
    return [join(dir, 'cgroup.procs')];
  }
  const memory = join(ROOT, 'memory', ownV1Path('memory'), rel);
  const cpu = join(ROOT, 'cpu', rel);
  const pids = join(ROOT, 'pids', rel);
  for (const d of [memory, cpu, pids]) mkdirSync(d, { recursive: true });
  if (limits.memoryBytes > 0)
    writeFileSync(join(memory, 'memory.limit_in_bytes'), String(Math.floor(limits.memoryBytes)));
  if (limits.cpuMillis > 0) {
    writeFileSync(join(cpu, 'cpu.cfs_period_us'), String(PERIOD_US));
    writeFileSync(join(cpu, 'cpu.cfs_quota_us'), String(Math.floor((limits.cpuMillis * PERIOD_US) / 1000)));
  }
  return [memory, cpu, pids].map((d) => join(d, 'cgroup.procs'));
}

/** removeCgroups deletes a pod's cgroups once its processes are gone (leaf directories first). */
export function removeCgroups(podUid: string, containers: readonly string[]): void {
  const bases =
    cgroupVersion() === 2
      ? [join(ROOT, 'tskube')]
      : [
          join(ROOT, 'memory', ownV1Path('memory'), 'tskube'),
          join(ROOT, 'cpu', 'tskube'),
          join(ROOT, 'pids', 'tskube'),
        ];
  for (const base of bases) {
    for (const c of containers) tryRmdir(join(base, podUid, c));
    tryRmdir(join(base, podUid));
  }
}

function tryRmdir(dir: string): void {
  if (!existsSync(dir)) return;
  try {
    rmdirSync(dir);
  } catch (error) {
    // EBUSY: a process is still inside (it is being killed); the next teardown of the pod removes it.
    if ((error as NodeJS.ErrnoException).code !== 'EBUSY') throw error;
  }
}

function ownV1Path(controller: string): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[1]?.split(',').includes(controller));
  return line?.split(':')[2] ?? '/';
}

function enableControllers(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const wanted = ['memory', 'cpu', 'pids'].filter((c) =>
    readFileSync(join(dir, '..', 'cgroup.controllers'), 'utf8')
      .split(' ')
      .map((s) => s.trim())
      .includes(c),
  );
  for (const c of wanted) {
    try {
      writeFileSync(join(dir, '..', 'cgroup.subtree_control'), `+${c}`);
    } catch {
      // the controller may already be enabled, or delegated elsewhere: limits then do not apply to it
    }
  }
}
