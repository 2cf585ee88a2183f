import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, signalGroup } from '../sys/process.ts';

/**
 * ProcessRuntime runs a container as a host program inside the pod's network namespace, with its own PID and
 * mount namespaces and tini as PID 1 (so TERM reaches the program and zombies are reaped), detached from the
 * kubelet so a kubelet restart leaves it running; stdout and stderr go to the container's log file. It records
 * each container's PID on disk, so a restarted kubelet adopts what it finds alive.
 */
export interface ContainerState {
  pid: number;
  startedAt: string;
  logPath: string;
}

export class ProcessRuntime {
  #root: string;

  constructor(rootDir: string) {
    this.#root = join(rootDir, 'containers');
    mkdirSync(this.#root, { recursive: true });
  }

  /** dir is a container's own directory (config files, log, state). */
  dir(podUid: string, container: string): string {
    const d = join(this.#root, podUid, container);
    mkdirSync(d, { recursive: true });
    return d;
  }

  /**
   * start runs argv in the pod's network namespace, in new UTS, IPC, PID and mount namespaces: the hostname is the
   * pod's name, and /etc/hosts and /etc/resolv.conf are the pod's own (bind-mounted), as the kubelet writes them.
   */
  start(podUid: string, container: string, netns: string, argv: string[], env: Record<string, string>, pod: { hostname: string; namespace: string; ip: string; cgroupProcs: string[]; resolvConf: string }): ContainerState {
    const dir = this.dir(podUid, container);
    const hosts = join(dir, 'hosts');
    writeFileSync(hosts, `# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${pod.ip}\t${pod.hostname}\n`);
    const resolv = join(dir, 'resolv.conf');
    writeFileSync(resolv, pod.resolvConf);
    const logPath = join(dir, 'container.log');
    if (existsSync(join(dir, 'exit-code'))) writeFileSync(join(dir, 'exit-code'), '');
    if (existsSync(logPath)) writeFileSync(join(dir, 'previous.log'), readFileSync(logPath));
    const log = openSync(logPath, 'w');
    // The launcher joins the container's cgroups first, so every process of the container is counted and limited.
    const launcher = 'for f in $TSKUBE_CGROUPS; do echo $$ > "$f"; done; unset TSKUBE_CGROUPS; hostname "$1" && mount --bind "$2" /etc/hosts && mount --bind "$3" /etc/resolv.conf && shift 3 && exec "$@"';
    const child = spawn('nsenter', [`--net=/run/netns/${netns}`, '--', 'unshare', '--uts', '--ipc', '--fork', '--kill-child', '--pid', '--mount-proc', '--', '/bin/busybox', 'sh', '-c', launcher, 'launcher', pod.hostname, hosts, resolv, '/usr/bin/tini', '-s', '-g', '--', ...argv], {
      detached: true,
      stdio: ['ignore', log, log],
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', ...env, TSKUBE_CGROUPS: pod.cgroupProcs.join(' ') },
      cwd: '/',
    });
    closeSync(log);
    // While this kubelet lives it learns the exit code; after a restart, adopted processes report none.
    child.on('exit', (code, signal) => writeFileSync(join(dir, 'exit-code'), String(code ?? (signal ? 128 + 9 : 0))));
    child.unref();
    const state = { pid: child.pid!, startedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), logPath };
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
    return state;
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
    while (Date.now() < deadline && this.running(state)) await new Promise((r) => setTimeout(r, 50));
    if (this.running(state)) signalGroup(pid, 'SIGKILL');
  }

  /** remove forgets a pod's containers on disk. */
  async remove(podUid: string): Promise<void> {
    const { rm } = await import('node:fs/promises');
    await rm(join(this.#root, podUid), { recursive: true, force: true });
  }
}
