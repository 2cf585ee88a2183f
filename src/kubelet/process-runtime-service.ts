import { readFileSync } from 'node:fs';
import { createCgroups, removeCgroups } from '../sys/cgroups.ts';
import { runInProcessNamespaces } from '../sys/netns.ts';
import { HostCommandError } from '../sys/run.ts';
import type { PodNetwork } from './pod-network.ts';
import { resolvConfText } from './resolv-conf.ts';
import type { ProcessRuntime } from './process-runtime.ts';
import type { ContainerConfig, ContainerStatus, PodSandboxConfig, RuntimeService } from './runtime-service.ts';

/**
 * ProcessRuntimeService is the embedded runtime behind the CRI-shaped interface: the sandbox is the pod's network
 * namespace and veth (PodNetwork), a container is a host program in its own namespaces and cgroups (ProcessRuntime).
 */
export class ProcessRuntimeService implements RuntimeService {
  #network: PodNetwork;
  #processes: ProcessRuntime;
  #pending = new Map<string, { sandbox: PodSandboxConfig; podIP: string; config: ContainerConfig }>();
  /** Each started container's environment, for commands run in it. */
  #env = new Map<string, Record<string, string>>();

  constructor(network: PodNetwork, processes: ProcessRuntime) {
    this.#network = network;
    this.#processes = processes;
  }

  runPodSandbox(sandbox: PodSandboxConfig): Promise<string> {
    return this.#network.setUp(sandbox.uid, sandbox.netns);
  }

  async stopPodSandbox(sandbox: PodSandboxConfig, containers: readonly string[], graceSeconds: number): Promise<void> {
    await Promise.all(containers.map((name) => this.stopContainer(sandbox, name, graceSeconds)));
  }

  async removePodSandbox(sandbox: PodSandboxConfig, containers: readonly string[]): Promise<void> {
    await this.#network.tearDown(sandbox.uid, sandbox.netns);
    removeCgroups(sandbox.uid, containers);
    await this.#processes.remove(sandbox.uid);
    for (const name of containers) this.#env.delete(`${sandbox.uid}/${name}`);
  }

  createContainer(sandbox: PodSandboxConfig, podIP: string, config: ContainerConfig): string {
    const id = `${sandbox.uid}/${config.name}`;
    this.#pending.set(id, { sandbox, podIP, config });
    return id;
  }

  startContainer(containerId: string): ContainerStatus {
    const pending = this.#pending.get(containerId);
    if (!pending) throw new Error(`Cannot start container ${containerId}: it was not created`);
    this.#pending.delete(containerId);
    this.#env.set(containerId, pending.config.env);
    const { sandbox, podIP, config } = pending;
    const dir = this.#processes.dir(sandbox.uid, config.name);
    let argv = config.prepare ? config.prepare(dir, config.argv) : config.argv;
    if (argv.length === 0) argv = ['/bin/busybox', 'sleep', '2147483647'];
    const cgroupProcs = createCgroups(sandbox.uid, config.name, config.limits);
    this.#processes.start(sandbox.uid, config.name, sandbox.netns, argv, config.env, { hostname: sandbox.hostname, namespace: sandbox.namespace, ip: podIP, cgroupProcs, resolvConf: resolvConfText(sandbox.dnsConfig ?? { servers: [], searches: [], options: [] }) });
    return this.containerStatus(sandbox, config.name);
  }

  async stopContainer(sandbox: PodSandboxConfig, name: string, graceSeconds: number): Promise<void> {
    await this.#processes.stop(this.#processes.state(sandbox.uid, name), graceSeconds);
  }

  async execSync(sandbox: PodSandboxConfig, name: string, command: readonly string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const { pid } = this.containerStatus(sandbox, name);
    if (pid === undefined) return { exitCode: -1, output: `container ${name} is not running` };
    try {
      const { stdout, stderr } = await runInProcessNamespaces(pid, command, { timeoutMs, env: this.#env.get(`${sandbox.uid}/${name}`) });
      return { exitCode: 0, output: stdout + stderr };
    } catch (error) {
      if (!(error instanceof HostCommandError)) throw error;
      if (error.signal !== null) return { exitCode: -1, output: `command ${JSON.stringify(command)} timed out` };
      return { exitCode: error.exitCode ?? -1, output: error.stdout + error.stderr };
    }
  }

  containerStatus(sandbox: PodSandboxConfig, name: string): ContainerStatus {
    const state = this.#processes.state(sandbox.uid, name);
    if (!state) return { running: false, created: false };
    const running = this.#processes.running(state);
    return {
      running,
      created: true,
      pid: running ? initOf(state.pid) : undefined,
      startedAt: state.startedAt,
      exitCode: running ? undefined : this.#processes.exitCode(sandbox.uid, name),
      logPath: state.logPath,
    };
  }
}

/** initOf is the container's PID 1: `unshare`, the recorded process, stays outside; its child is the init. */
function initOf(unsharePid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim().split(' ')[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}
