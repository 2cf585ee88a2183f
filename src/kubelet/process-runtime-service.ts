import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { createCgroups, removeCgroups } from '../sys/cgroups.ts';
import { HostCommandError, run, spawnPiped } from '../sys/run.ts';
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
  ExecSession,
  ExecSyncResult,
  PodSandboxConfig,
  PodSandboxStatus,
  RuntimeService,
} from './runtime-service.ts';

/** The pod network as the runtime uses it (PodNetwork; a fake in unit tests): set up returns the pod's IP. */
export type SandboxNetwork = Pick<PodNetwork, 'setUp' | 'tearDown'>;

/** What the runtime keeps on disk of a sandbox, so a restarted kubelet can still stop and remove it. */
interface SandboxRecord {
  config: PodSandboxConfig;
  ip: string;
}

/** What it keeps of a created container: which attempt it is and when it was created. */
interface ContainerRecord {
  attempt: number;
  createdAt: number;
}

/**
 * ProcessRuntimeService is the embedded runtime behind the CRI-shaped interface: the sandbox is the pod's network
 * namespace and veth (PodNetwork), a container is a host program in its own namespaces and cgroups (ProcessRuntime).
 * A sandbox's id is the pod's uid and a container's is `<pod uid>/<name>`: a restarted container replaces the
 * previous one of its name (whose log stays as previous.log). Sandboxes and containers are recorded on disk.
 */
export class ProcessRuntimeService implements RuntimeService {
  #network: SandboxNetwork;
  #processes: ProcessRuntime;
  #pending = new Map<string, { podSandboxId: string; config: ContainerConfig }>();

  #layers: string;
  #filters: string;
  #profiles: string;

  /** rootDir holds image layers and compiled seccomp filters; Localhost seccomp profiles are read from rootDir/seccomp. */
  constructor(network: SandboxNetwork, processes: ProcessRuntime, rootDir: string) {
    this.#network = network;
    this.#processes = processes;
    this.#layers = join(rootDir, 'layers');
    this.#filters = join(rootDir, 'seccomp-bpf');
    this.#profiles = join(rootDir, 'seccomp');
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const uid = config.metadata.uid;
    const ip = config.hostNetwork ? (config.hostIP ?? '') : await this.#network.setUp(uid, config.netns);
    const file = join(this.#processes.podDir(uid), 'sandbox.json');
    const record: SandboxRecord = { config, ip };
    const text = JSON.stringify(record);
    if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
    return uid;
  }

  async podSandboxStatus(podSandboxId: string): Promise<PodSandboxStatus | undefined> {
    const record = this.#sandbox(podSandboxId);
    if (!record) return undefined;
    return {
      id: podSandboxId,
      metadata: record.config.metadata,
      state: 'SANDBOX_READY',
      ip: record.ip,
      netns: record.config.netns,
      hostNetwork: record.config.hostNetwork === true,
    };
  }

  async listPodSandbox(filter: { uid?: string } = {}): Promise<PodSandboxStatus[]> {
    const ids = filter.uid !== undefined ? [filter.uid] : this.#processes.pods();
    const out: PodSandboxStatus[] = [];
    for (const id of ids) {
      const status = await this.podSandboxStatus(id);
      if (status) out.push(status);
    }
    return out;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    await Promise.all(
      this.#containerNames(podSandboxId).map((name) => this.stopContainer(`${podSandboxId}/${name}`, 0)),
    );
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    const record = this.#sandbox(podSandboxId);
    const names = this.#containerNames(podSandboxId);
    await Promise.all(names.map((name) => this.stopContainer(`${podSandboxId}/${name}`, 0)));
    if (record && !record.config.hostNetwork) await this.#network.tearDown(podSandboxId, record.config.netns);
    removeCgroups(podSandboxId, names);
    await this.#processes.remove(podSandboxId);
    for (const name of names) this.#pending.delete(`${podSandboxId}/${name}`);
  }

  /** createContainer records the container; the sandbox's own record (not sandboxConfig) says how it runs. */
  async createContainer(
    podSandboxId: string,
    config: ContainerConfig,
    _sandboxConfig?: PodSandboxConfig,
  ): Promise<string> {
    const id = `${podSandboxId}/${config.metadata.name}`;
    if (!this.#sandbox(podSandboxId)) throw new Error(`Cannot create container ${id}: no sandbox ${podSandboxId}`);
    const record: ContainerRecord = { attempt: config.metadata.attempt, createdAt: Date.now() };
    writeFileSync(
      join(this.#processes.dir(podSandboxId, config.metadata.name), 'created.json'),
      JSON.stringify(record),
    );
    this.#pending.set(id, { podSandboxId, config });
    return id;
  }

  async startContainer(containerId: string): Promise<void> {
    const pending = this.#pending.get(containerId);
    if (!pending) throw new Error(`Cannot start container ${containerId}: it was not created`);
    this.#pending.delete(containerId);
    const { podSandboxId, config } = pending;
    const sandbox = this.#sandbox(podSandboxId);
    if (!sandbox) throw new Error(`Cannot start container ${containerId}: its sandbox is gone`);
    const name = config.metadata.name;
    const dir = this.#processes.dir(podSandboxId, name);
    const podDir = this.#processes.podDir(podSandboxId);
    const files = podFiles(podDir, sandbox.config, sandbox.ip);
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
    const cgroupProcs = createCgroups(podSandboxId, name, config.limits);
    const hostNetwork = sandbox.config.hostNetwork === true;
    this.#processes.start(podSandboxId, name, {
      netns: hostNetwork ? undefined : sandbox.config.netns,
      hostname: hostNetwork ? undefined : sandbox.config.hostname,
      hostPID: sandbox.config.hostPID === true,
      hostIPC: sandbox.config.hostIPC === true,
      argv,
      env,
      cgroupProcs,
      sandbox: spec,
      seccompFile: this.#seccompFile(config.security),
    });
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

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    const [uid, name] = splitId(containerId);
    await this.#processes.stop(this.#processes.state(uid, name), timeoutSeconds);
  }

  async removeContainer(containerId: string): Promise<void> {
    const [uid, name] = splitId(containerId);
    await this.stopContainer(containerId, 0);
    this.#pending.delete(containerId);
    removeCgroups(uid, [name]);
    await this.#processes.removeContainer(uid, name);
  }

  async listContainers(filter: { podSandboxId?: string } = {}): Promise<ContainerStatus[]> {
    const pods = filter.podSandboxId !== undefined ? [filter.podSandboxId] : this.#processes.pods();
    const out: ContainerStatus[] = [];
    for (const uid of pods)
      for (const name of this.#containerNames(uid)) {
        const status = await this.containerStatus(`${uid}/${name}`);
        if (status) out.push(status);
      }
    return out;
  }

  async containerStatus(containerId: string): Promise<ContainerStatus | undefined> {
    const [uid, name] = splitId(containerId);
    const dir = this.#processes.path(uid, name);
    const record = readJson<ContainerRecord>(join(dir, 'created.json'));
    const state = this.#processes.state(uid, name);
    if (!record && !state) return undefined;
    const base = {
      id: containerId,
      podSandboxId: uid,
      metadata: { name, attempt: record?.attempt ?? 0 },
      createdAt: record?.createdAt ?? Date.parse(state?.startedAt ?? ''),
      logPath: state?.logPath ?? join(dir, 'container.log'),
    };
    if (this.#pending.has(containerId) || !state) return { ...base, state: 'CONTAINER_CREATED' };
    const startedAt = Date.parse(state.startedAt);
    if (this.#processes.running(state)) return { ...base, state: 'CONTAINER_RUNNING', startedAt };
    const exitCode = this.#processes.exitCode(uid, name);
    const finishedAt = exitCode === undefined ? undefined : statSync(join(dir, 'exit-code')).mtimeMs;
    return { ...base, state: 'CONTAINER_EXITED', startedAt, finishedAt, exitCode };
  }

  async execSync(containerId: string, command: readonly string[], timeoutMs: number): Promise<ExecSyncResult> {
    const enter = this.#enter(containerId, command);
    if (!enter) return { exitCode: -1, stdout: '', stderr: `container ${splitId(containerId)[1]} is not running` };
    const fd = enter.seccompFile ? openSync(enter.seccompFile, 'r') : undefined;
    try {
      const { stdout, stderr } = await run(enter.argv, {
        timeoutMs,
        env: enter.env,
        exactEnv: true,
        extraFds: fd === undefined ? [] : [fd],
      });
      return { exitCode: 0, stdout, stderr };
    } catch (error) {
      if (!(error instanceof HostCommandError)) throw error;
      if (error.signal !== null)
        return { exitCode: -1, stdout: '', stderr: `command ${JSON.stringify(command)} timed out` };
      return { exitCode: error.exitCode ?? -1, stdout: error.stdout, stderr: error.stderr };
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  async exec(containerId: string, command: readonly string[]): Promise<ExecSession | undefined> {
    const enter = this.#enter(containerId, command);
    if (!enter) return undefined;
    // The command runs inside the container's sandbox (root, user, capabilities, seccomp, environment).
    const fd = enter.seccompFile ? openSync(enter.seccompFile, 'r') : undefined;
    try {
      return spawnPiped(enter.argv, { env: enter.env, extraFds: fd === undefined ? [] : [fd] });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** portForward connects to localhost:port in the sandbox's network (busybox nc, inside its netns). */
  async portForward(podSandboxId: string, port: number): Promise<ExecSession> {
    const record = this.#sandbox(podSandboxId);
    if (!record) throw new Error(`no sandbox ${podSandboxId}`);
    const nc = ['/bin/busybox', 'nc', '127.0.0.1', String(port)];
    return spawnPiped(
      record.config.hostNetwork ? nc : ['nsenter', `--net=/run/netns/${record.config.netns}`, '--', ...nc],
    );
  }

  #enter(containerId: string, command: readonly string[]) {
    const [uid, name] = splitId(containerId);
    return this.#processes.enterCommand(this.#processes.state(uid, name), command);
  }

  #sandbox(podSandboxId: string): SandboxRecord | undefined {
    return readJson<SandboxRecord>(join(this.#processes.path(podSandboxId), 'sandbox.json'));
  }

  /** #containerNames lists the containers ever created in a sandbox (their directories). */
  #containerNames(podSandboxId: string): string[] {
    const dir = this.#processes.path(podSandboxId);
    if (!existsSync(dir)) return [];
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== 'shm')
      .filter((e) => existsSync(join(dir, e.name, 'created.json')) || existsSync(join(dir, e.name, 'state.json')))
      .map((e) => e.name);
  }
}

function splitId(containerId: string): [string, string] {
  const at = containerId.indexOf('/');
  return [containerId.slice(0, at), containerId.slice(at + 1)];
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
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
