import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { firstChild, isAlive, signalGroup } from '../sys/process.ts';
import { spawnDetached } from '../sys/run.ts';
import { enterArgv, sandboxArgv, type SandboxSpec } from './sandbox.ts';
import { timestamp } from '../api/time.ts';
import { sleep } from '../util/wait.ts';

/**
 * ProcessRuntime runs a container as a host program in its own sandbox: the pod's network namespace (or the node's
 * with hostNetwork), new UTS, IPC, PID and mount namespaces (unless hostPID/hostIPC), the container's cgroups, and
 * a root filesystem and privileges built by bwrap (see sandbox.ts). The chain is
 * `nsenter --net` → `unshare` → a busybox launcher (joins the cgroups, sets the hostname, mounts the overlay root
 * and a sysfs) → bwrap (PID 1 of unshare's PID namespace, so it ignores the TERM meant for the program) → in the
 * container's root, bwrap's init (PID 1 of the container's PID namespace) → setpriv → the program. It is detached from
 * the kubelet, so a kubelet restart leaves it running; stdout and stderr go to the container's log file. Each
 * container's PID and how to enter it are recorded on disk, so a restarted kubelet adopts what it finds alive.
 */
export interface ContainerState {
  pid: number;
  startedAt: string;
  logPath: string;
  /** How commands enter the container (kubectl exec, exec probes). */
  enter?: EnterSpec;
}

export interface EnterSpec {
  /** What runs the command once in the container's namespaces: its bwrap and setpriv (see sandbox.ts enterArgv). */
  argvPrefix: string[];
  env: Record<string, string>;
  cgroupProcs: string[];
  seccompFile?: string;
  hostPID: boolean;
}

export interface StartOptions {
  /** The pod's network namespace; undefined for hostNetwork (the kubelet's own, the node's). */
  netns?: string;
  /** The pod's hostname; undefined to share the node's UTS namespace (hostNetwork). */
  hostname?: string;
  hostPID: boolean;
  hostIPC: boolean;
  argv: string[];
  env: Record<string, string>;
  cgroupProcs: string[];
  sandbox: SandboxSpec;
  /** The compiled seccomp filter, when one applies. */
  seccompFile?: string;
}

/** The launcher: join the cgroups, set the hostname, mount the overlay root and a sysfs, then exec bwrap. */
const LAUNCHER = [
  'for f in $TSKUBE_CGROUPS; do echo $$ > "$f"; done; unset TSKUBE_CGROUPS',
  '[ "$1" = - ] || /bin/busybox hostname "$1" || exit 1',
  '/bin/busybox mount -t overlay overlay -o "lowerdir=$2,upperdir=$3,workdir=$4" "$5" || exit 1',
  '/bin/busybox mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$6" || exit 1',
  'shift 6; exec "$@"',
].join('\n');

/** Joins the container's cgroups, then execs the rest (commands entering a running container). */
const JOIN = 'for f in $TSKUBE_CGROUPS; do echo $$ > "$f"; done; unset TSKUBE_CGROUPS; exec "$@"';

export class ProcessRuntime {
  #root: string;

  constructor(rootDir: string) {
    // Containers' writable layers may hold files their root made (setuid, devices): only root may look in here.
    mkdirSync(rootDir, { recursive: true, mode: 0o700 });
    chmodSync(rootDir, 0o700);
    this.#root = join(rootDir, 'containers');
    mkdirSync(this.#root, { recursive: true, mode: 0o700 });
  }

  /** dir is a container's own directory (config files, log, state, writable layer). */
  dir(podUid: string, container: string): string {
    const d = join(this.#root, podUid, container);
    mkdirSync(d, { recursive: true });
    return d;
  }

  /** podDir is the directory of a pod's shared files (/dev/shm, /etc/hosts, volumes). */
  podDir(podUid: string): string {
    const d = join(this.#root, podUid);
    mkdirSync(d, { recursive: true });
    return d;
  }

  /** start runs a container (see the class comment); the sandbox's writable layer must be prepared. */
  start(podUid: string, container: string, o: StartOptions): ContainerState {
    const dir = this.dir(podUid, container);
    const logPath = join(dir, 'container.log');
    if (existsSync(join(dir, 'exit-code'))) writeFileSync(join(dir, 'exit-code'), '');
    if (existsSync(logPath)) writeFileSync(join(dir, 'previous.log'), readFileSync(logPath));
    const log = openSync(logPath, 'w');
    const seccomp = o.seccompFile ? openSync(o.seccompFile, 'r') : undefined;
    const sandbox = { ...o.sandbox, seccompFd: seccomp === undefined ? undefined : 3 };
    const full = sandboxArgv(sandbox, o.argv, o.hostPID);
    const argvPrefix = enterArgv(sandbox, []);
    const net = o.netns ? ['nsenter', `--net=/run/netns/${o.netns}`, '--'] : [];
    const unshare = [
      'unshare',
      '--mount',
      '--propagation',
      'private',
      ...(o.hostname ? ['--uts'] : []),
      ...(o.hostIPC ? [] : ['--ipc']),
      ...(o.hostPID ? [] : ['--fork', '--kill-child', '--pid', '--mount-proc']),
      '--',
    ];
    const s = o.sandbox;
    let pid: number;
    try {
      pid = spawnDetached(
        [
          ...net,
          ...unshare,
          '/bin/busybox',
          'sh',
          '-c',
          LAUNCHER,
          'launcher',
          o.hostname ?? '-',
          s.layer,
          s.upper,
          s.work,
          s.root,
          s.sysfs,
          ...full,
        ],
        {
          output: log,
          extraFds: seccomp === undefined ? [] : [seccomp],
          // The container's environment only: bwrap and setpriv pass it on unchanged.
          env: { ...o.env, TSKUBE_CGROUPS: o.cgroupProcs.join(' ') },
          cwd: '/',
          // While this kubelet lives it learns the exit code; after a restart, adopted processes report none.
          onExit: ({ status }) => writeFileSync(join(dir, 'exit-code'), String(status)),
        },
      );
    } finally {
      closeSync(log);
      if (seccomp !== undefined) closeSync(seccomp);
    }
    // Join the cgroups at once, so everything the container forks is counted; the launcher joins too, in case.
    for (const f of o.cgroupProcs) {
      try {
        writeFileSync(f, String(pid));
      } catch {
        // the process already ended: its status tells
      }
    }
    const state: ContainerState = {
      pid,
      startedAt: timestamp(),
      logPath,
      enter: { argvPrefix, env: o.env, cgroupProcs: o.cgroupProcs, seccompFile: o.seccompFile, hostPID: o.hostPID },
    };
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
    return state;
  }

  /**
   * enterCommand is how to run a command inside a running container, with the container's root, user, groups,
   * capabilities, seccomp filter, cgroups and environment: it joins the namespaces of the container's bwrap
   * (network, UTS, IPC, PID, and the launcher's mount namespace, where the overlay root is) and builds the same
   * sandbox there. The spawn gets `fds` as extra descriptors (the seccomp filter on fd 3); undefined when not running.
   */
  enterCommand(
    state: ContainerState | undefined,
    command: readonly string[],
  ): { argv: string[]; env: Record<string, string>; seccompFile?: string } | undefined {
    if (!state?.enter || !this.running(state)) return undefined;
    // unshare → bwrap's monitor → (its PID namespace's init →) the container's program; all in the container's root.
    const monitor = state.enter.hostPID ? state.pid : firstChild(state.pid);
    const target = monitor === undefined ? undefined : firstChild(monitor);
    if (target === undefined) return undefined;
    const e = state.enter;
    const argv = [
      '/bin/busybox',
      'sh',
      '-c',
      JOIN,
      'enter',
      'nsenter',
      '-t',
      String(target),
      '-n',
      '-u',
      '-i',
      '-p',
      '-m',
      '--',
      ...e.argvPrefix,
      ...command,
    ];
    return { argv, env: { ...e.env, TSKUBE_CGROUPS: e.cgroupProcs.join(' ') }, seccompFile: e.seccompFile };
  }

  /** state is what was recorded for a container, if it was ever started. */
  state(podUid: string, container: string): ContainerState | undefined {
    const file = join(this.#root, podUid, container, 'state.json');
    return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  }

  /** running tells whether the recorded process is alive. */
  running(state: ContainerState | undefined): boolean {
    return state !== undefined && isAlive(state.pid);
  }

  /** exitCode reads how a container ended, when the kubelet itself reaped it; undefined when unknown. */
  exitCode(podUid: string, container: string): number | undefined {
    const file = join(this.#root, podUid, container, 'exit-code');
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    return text === '' ? undefined : Number(text);
  }

  /** stop sends TERM to the process group, waits for the grace period, then KILL. */
  async stop(state: ContainerState | undefined, graceSeconds: number): Promise<void> {
    if (!this.running(state)) return;
    const pid = state!.pid;
    signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + graceSeconds * 1000;
    while (Date.now() < deadline && this.running(state)) await sleep(50);
    if (this.running(state)) signalGroup(pid, 'SIGKILL');
  }

  /** remove forgets a pod's containers on disk. */
  async remove(podUid: string): Promise<void> {
    await rm(join(this.#root, podUid), { recursive: true, force: true });
  }

  /** removeContainer forgets one container on disk. */
  async removeContainer(podUid: string, container: string): Promise<void> {
    await rm(join(this.#root, podUid, container), { recursive: true, force: true });
  }

  /** path is where a pod's (or one container's) files are, without making the directory. */
  path(podUid: string, container?: string): string {
    return container === undefined ? join(this.#root, podUid) : join(this.#root, podUid, container);
  }

  /** pods lists the pods that have a directory here. */
  pods(): string[] {
    return readdirSync(this.#root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  }
}
