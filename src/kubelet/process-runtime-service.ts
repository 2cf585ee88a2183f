import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { createCgroups, removeCgroups } from '../sys/cgroups.ts';
import { HostCommandError, run } from '../sys/run.ts';
import { compileSeccomp, parseSeccompJson } from '../sys/seccomp.ts';
import { ensureLayer, prepareWritable, type SandboxMount, type SandboxSpec } from './sandbox.ts';
import { runtimeDefaultProfile } from './seccomp-default.ts';
import { capabilityMask, type ContainerSecurity } from './security-context.ts';
import type { PodNetwork } from './pod-network.ts';
import { resolvConfText } from './resolv-conf.ts';
import type { ProcessRuntime } from './process-runtime.ts';
import type {
  ContainerConfig,
  ContainerStatus,
  ExecCommand,
  PodSandboxConfig,
  RuntimeService,
} from './runtime-service.ts';

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

  #layers: string;
  #filters: string;
  #profiles: string;

  /** rootDir holds image layers and compiled seccomp filters; Localhost seccomp profiles are read from rootDir/seccomp. */
  constructor(network: PodNetwork, processes: ProcessRuntime, rootDir: string) {
    this.#network = network;
    this.#processes = processes;
    this.#layers = join(rootDir, 'layers');
    this.#filters = join(rootDir, 'seccomp-bpf');
    this.#profiles = join(rootDir, 'seccomp');
  }

  async runPodSandbox(sandbox: PodSandboxConfig): Promise<string> {
    if (sandbox.hostNetwork) return sandbox.hostIP ?? '';
    return this.#network.setUp(sandbox.uid, sandbox.netns);
  }

  async stopPodSandbox(sandbox: PodSandboxConfig, containers: readonly string[], graceSeconds: number): Promise<void> {
    await Promise.all(containers.map((name) => this.stopContainer(sandbox, name, graceSeconds)));
  }

  async removePodSandbox(sandbox: PodSandboxConfig, containers: readonly string[]): Promise<void> {
    if (!sandbox.hostNetwork) await this.#network.tearDown(sandbox.uid, sandbox.netns);
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
    const { sandbox, podIP, config } = pending;
    const dir = this.#processes.dir(sandbox.uid, config.name);
    const podDir = this.#processes.podDir(sandbox.uid);
    const files = podFiles(podDir, sandbox, podIP);
    const spec: SandboxSpec = {
      layer: ensureLayer(this.#layers, config.files, config.links),
      upper: join(dir, 'upper'),
      work: join(dir, 'work'),
      root: join(dir, 'root'),
      files: config.files,
      mounts: [...files, ...config.mounts],
      shm: join(podDir, 'shm'),
      sysfs: join(dir, 'sys'),
      security: config.security,
      workingDir: config.workingDir,
    };
    prepareWritable(spec);
    mkdirSync(spec.shm, { recursive: true, mode: 0o1777 });
    let argv = config.prepare ? config.prepare(spec.upper, config.argv) : config.argv;
    if (argv.length === 0) argv = ['/bin/busybox', 'sleep', '2147483647'];
    // As container runtimes do: PATH and HOME unless the image or the pod set them.
    const env = { PATH: DEFAULT_PATH, HOME: config.security.uid === 0 ? '/root' : '/', ...config.env };
    this.#env.set(containerId, env);
    const cgroupProcs = createCgroups(sandbox.uid, config.name, config.limits);
    this.#processes.start(sandbox.uid, config.name, {
      netns: sandbox.hostNetwork ? undefined : sandbox.netns,
      hostname: sandbox.hostNetwork ? undefined : sandbox.hostname,
      hostPID: sandbox.hostPID === true,
      hostIPC: sandbox.hostIPC === true,
      argv,
      env,
      cgroupProcs,
      sandbox: spec,
      seccompFile: this.#seccompFile(config.security),
    });
    return this.containerStatus(sandbox, config.name);
  }

  /** #seccompFile compiles (once per capability set) the filter a container's profile asks for. */
  #seccompFile(security: ContainerSecurity): string | undefined {
    const choice = security.seccomp;
    if (choice.type === 'Unconfined') return undefined;
    mkdirSync(this.#filters, { recursive: true, mode: 0o700 });
    if (choice.type === 'Localhost') {
      const source = join(this.#profiles, choice.profile);
      const file = join(
        this.#filters,
        `localhost-${createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16)}.bpf`,
      );
      if (!existsSync(file)) compileSeccomp(parseSeccompJson(readFileSync(source, 'utf8')), file);
      return file;
    }
    const file = join(this.#filters, `runtime-default-${capabilityMask(security.capabilities)}.bpf`);
    if (!existsSync(file)) compileSeccomp(runtimeDefaultProfile(security.capabilities), file);
    return file;
  }

  async stopContainer(sandbox: PodSandboxConfig, name: string, graceSeconds: number): Promise<void> {
    await this.#processes.stop(this.#processes.state(sandbox.uid, name), graceSeconds);
  }

  async execSync(
    sandbox: PodSandboxConfig,
    name: string,
    command: readonly string[],
    timeoutMs: number,
  ): Promise<{ exitCode: number; output: string }> {
    const enter = this.execCommand(sandbox, name, command);
    if (!enter) return { exitCode: -1, output: `container ${name} is not running` };
    const fd = enter.seccompFile ? openSync(enter.seccompFile, 'r') : undefined;
    try {
      const { stdout, stderr } = await run(enter.argv, {
        timeoutMs,
        env: enter.env,
        exactEnv: true,
        extraFds: fd === undefined ? [] : [fd],
      });
      return { exitCode: 0, output: stdout + stderr };
    } catch (error) {
      if (!(error instanceof HostCommandError)) throw error;
      if (error.signal !== null) return { exitCode: -1, output: `command ${JSON.stringify(command)} timed out` };
      return { exitCode: error.exitCode ?? -1, output: error.stdout + error.stderr };
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  execCommand(sandbox: PodSandboxConfig, name: string, command: readonly string[]): ExecCommand | undefined {
    return this.#processes.enterCommand(this.#processes.state(sandbox.uid, name), command);
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

/** podFiles writes the pod's /etc/hosts, /etc/resolv.conf and /etc/hostname (shared by its containers). */
function podFiles(podDir: string, sandbox: PodSandboxConfig, podIP: string): SandboxMount[] {
  const hosts = join(podDir, 'hosts');
  const resolv = join(podDir, 'resolv.conf');
  const hostname = join(podDir, 'hostname');
  if (sandbox.hostNetwork) {
    // As upstream: a hostNetwork pod sees the node's names.
    copyFileSync('/etc/hosts', hosts);
    writeFileSync(hostname, `${osHostname()}\n`);
  } else {
    writeFileSync(
      hosts,
      `# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${podIP}\t${sandbox.hostname}\n`,
    );
    writeFileSync(hostname, `${sandbox.hostname}\n`);
  }
  writeFileSync(resolv, resolvConfText(sandbox.dnsConfig ?? { servers: [], searches: [], options: [] }));
  return [
    { source: hosts, target: '/etc/hosts', readOnly: false },
    { source: resolv, target: '/etc/resolv.conf', readOnly: false },
    { source: hostname, target: '/etc/hostname', readOnly: false },
  ];
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** initOf is the container's PID 1: `unshare`, the recorded process, stays outside; its child is the init. */
function initOf(unsharePid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim().split(' ')[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}
