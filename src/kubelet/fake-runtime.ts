import { PassThrough } from 'node:stream';
import { type Clock, realClock } from '../util/clock.ts';
import type {
  ContainerConfig,
  ContainerStatus,
  ExecSession,
  ExecSyncResult,
  PodSandboxConfig,
  PodSandboxStatus,
  RuntimeService,
} from './runtime-service.ts';

/** plainContainer is the smallest ContainerConfig: no program, no files, the default security context (for tests). */
export function plainContainer(name: string, attempt = 0): ContainerConfig {
  return {
    metadata: { name, attempt },
    argv: [],
    env: {},
    limits: { memoryBytes: 0, cpuMillis: 0 },
    files: [],
    links: {},
    mounts: [],
    security: {
      privileged: false,
      capabilities: [],
      uid: 0,
      gid: 0,
      groups: [],
      readOnlyRootFilesystem: false,
      noNewPrivileges: false,
      seccomp: { type: 'RuntimeDefault' },
    },
  };
}

/** What a fake container does once started: run until told (default), or exit by itself after runMs. */
export interface FakeProgram {
  /** Exit by itself after this long (on the clock) with exitCode. */
  runMs?: number;
  exitCode?: number;
  /** Ignore TERM: stopContainer then waits the whole timeout and KILLs it (exit 137). */
  ignoreTerm?: boolean;
}

interface FakeContainer {
  status: ContainerStatus;
  config: ContainerConfig;
  cancel?: () => void;
}

/**
 * FakeRuntime is an in-memory RuntimeService for unit tests of the kubelet: sandboxes get IPs from 10.88.0.0/16,
 * containers run (no process) until a test makes them exit (exit), or exit by themselves as their program says
 * (program, by container name), on the clock given; exec commands answer what execHandler says. Every call is
 * recorded in `calls` (`verb id`), to assert on what the kubelet asked for.
 */
export class FakeRuntime implements RuntimeService {
  readonly calls: string[] = [];
  /** Each container name's program (what a started container of that name does). */
  readonly programs = new Map<string, FakeProgram>();
  /** What exec commands answer (default: exit 0, no output). */
  execHandler: (container: ContainerStatus, command: readonly string[]) => ExecSyncResult = () => ({
    exitCode: 0,
    stdout: '',
    stderr: '',
  });

  /** What a port of a pod answers to each chunk sent to it; undefined: nothing listens (default: every port echoes). */
  portHandler: (port: number) => ((data: Buffer) => Buffer) | undefined = () => (data) => data;

  #clock: Clock;
  #sandboxes = new Map<string, { config: PodSandboxConfig; status: PodSandboxStatus }>();
  #containers = new Map<string, FakeContainer>();
  #nextIP = 2;
  #nextId = 1;

  constructor(clock: Clock = realClock) {
    this.#clock = clock;
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const id = `sandbox-${config.metadata.uid}`;
    this.calls.push(`runPodSandbox ${id}`);
    if (!this.#sandboxes.has(id)) {
      const n = this.#nextIP++;
      const ip = config.hostNetwork ? (config.hostIP ?? '') : `10.88.${n >> 8}.${n & 255}`;
      const status: PodSandboxStatus = {
        id,
        metadata: config.metadata,
        state: 'SANDBOX_READY',
        ip,
        netns: config.netns,
        hostNetwork: config.hostNetwork === true,
      };
      this.#sandboxes.set(id, { config, status });
    }
    return id;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    this.calls.push(`stopPodSandbox ${podSandboxId}`);
    for (const c of this.#containers.values())
      if (c.status.podSandboxId === podSandboxId && c.status.state === 'CONTAINER_RUNNING') this.#exit(c, 137);
    const sandbox = this.#sandboxes.get(podSandboxId);
    if (sandbox) sandbox.status = { ...sandbox.status, state: 'SANDBOX_NOTREADY' };
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    this.calls.push(`removePodSandbox ${podSandboxId}`);
    for (const [id, c] of this.#containers)
      if (c.status.podSandboxId === podSandboxId) {
        if (c.status.state === 'CONTAINER_RUNNING') this.#exit(c, 137);
        this.#containers.delete(id);
      }
    this.#sandboxes.delete(podSandboxId);
  }

  async podSandboxStatus(podSandboxId: string): Promise<PodSandboxStatus | undefined> {
    return this.#sandboxes.get(podSandboxId)?.status;
  }

  async listPodSandbox(filter: { uid?: string } = {}): Promise<PodSandboxStatus[]> {
    return [...this.#sandboxes.values()]
      .map((s) => s.status)
      .filter((s) => filter.uid === undefined || s.metadata.uid === filter.uid);
  }

  async createContainer(
    podSandboxId: string,
    config: ContainerConfig,
    _sandboxConfig?: PodSandboxConfig,
  ): Promise<string> {
    if (!this.#sandboxes.has(podSandboxId)) throw new Error(`no sandbox ${podSandboxId}`);
    const id = `container-${this.#nextId++}`;
    this.calls.push(`createContainer ${id} ${config.metadata.name}#${config.metadata.attempt}`);
    this.#containers.set(id, {
      config,
      status: {
        id,
        podSandboxId,
        metadata: { ...config.metadata },
        state: 'CONTAINER_CREATED',
        createdAt: this.#clock.now(),
        logPath: `/fake/${id}.log`,
      },
    });
    return id;
  }

  async startContainer(containerId: string): Promise<void> {
    this.calls.push(`startContainer ${containerId}`);
    const c = this.#get(containerId);
    if (c.status.state !== 'CONTAINER_CREATED') throw new Error(`container ${containerId} is not in the created state`);
    c.status = { ...c.status, state: 'CONTAINER_RUNNING', startedAt: this.#clock.now() };
    const program = this.programs.get(c.status.metadata.name) ?? {};
    if (program.runMs !== undefined)
      c.cancel = this.#clock.setTimer(() => this.#exit(c, program.exitCode ?? 0), program.runMs);
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    this.calls.push(`stopContainer ${containerId} ${timeoutSeconds}`);
    const c = this.#containers.get(containerId);
    if (!c || c.status.state !== 'CONTAINER_RUNNING') return;
    if (!this.programs.get(c.status.metadata.name)?.ignoreTerm) return this.#exit(c, 143);
    await new Promise<void>((resolve) => this.#clock.setTimer(resolve, timeoutSeconds * 1000));
    if (c.status.state === 'CONTAINER_RUNNING') this.#exit(c, 137);
  }

  async removeContainer(containerId: string): Promise<void> {
    this.calls.push(`removeContainer ${containerId}`);
    const c = this.#containers.get(containerId);
    if (c?.status.state === 'CONTAINER_RUNNING') this.#exit(c, 137);
    this.#containers.delete(containerId);
  }

  async listContainers(filter: { podSandboxId?: string } = {}): Promise<ContainerStatus[]> {
    return [...this.#containers.values()]
      .map((c) => c.status)
      .filter((s) => filter.podSandboxId === undefined || s.podSandboxId === filter.podSandboxId)
      .sort((a, b) => a.metadata.attempt - b.metadata.attempt);
  }

  async containerStatus(containerId: string): Promise<ContainerStatus | undefined> {
    return this.#containers.get(containerId)?.status;
  }

  async execSync(containerId: string, command: readonly string[]): Promise<ExecSyncResult> {
    this.calls.push(`execSync ${containerId} ${command.join(' ')}`);
    const c = this.#containers.get(containerId);
    if (c?.status.state !== 'CONTAINER_RUNNING')
      return { exitCode: -1, stdout: '', stderr: 'container is not running' };
    return this.execHandler(c.status, command);
  }

  async exec(containerId: string, command: readonly string[]): Promise<ExecSession | undefined> {
    this.calls.push(`exec ${containerId} ${command.join(' ')}`);
    const c = this.#containers.get(containerId);
    if (c?.status.state !== 'CONTAINER_RUNNING') return undefined;
    const result = this.execHandler(c.status, command);
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.end(result.stdout);
    stderr.end(result.stderr);
    return { stdin, stdout, stderr, exit: later(result.exitCode), kill: () => undefined };
  }

  async portForward(podSandboxId: string, port: number): Promise<ExecSession> {
    this.calls.push(`portForward ${podSandboxId} ${port}`);
    if (!this.#sandboxes.has(podSandboxId)) throw new Error(`no sandbox ${podSandboxId}`);
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const answer = this.portHandler(port);
    if (!answer) {
      stdout.end();
      stderr.end("nc: can't connect to remote host (127.0.0.1): Connection refused\n");
      return { stdin, stdout, stderr, exit: later(1), kill: () => undefined };
    }
    let done: (code: number) => void = () => undefined;
    const exit = new Promise<number>((resolve) => (done = resolve));
    const finish = () => {
      stdout.end();
      stderr.end();
      void later(0).then(done);
    };
    stdin.on('data', (d: Buffer) => stdout.write(answer(d)));
    stdin.on('end', finish);
    return { stdin, stdout, stderr, exit, kill: finish };
  }

  /** exit makes a running container (by name, in the pod with uid) end now with exitCode. */
  exit(podUid: string, name: string, exitCode: number): void {
    const c = this.#latest(podUid, name);
    if (c?.status.state !== 'CONTAINER_RUNNING') throw new Error(`container ${name} of pod ${podUid} is not running`);
    this.#exit(c, exitCode);
  }

  /** container is the latest container of a name in a pod's sandbox. */
  container(podUid: string, name: string): ContainerStatus | undefined {
    return this.#latest(podUid, name)?.status;
  }

  /** sandbox is a pod's sandbox, if it has one. */
  sandbox(podUid: string): PodSandboxStatus | undefined {
    return this.#sandboxes.get(`sandbox-${podUid}`)?.status;
  }

  #latest(podUid: string, name: string): FakeContainer | undefined {
    let latest: FakeContainer | undefined;
    for (const c of this.#containers.values())
      if (c.status.podSandboxId === `sandbox-${podUid}` && c.status.metadata.name === name) latest = c;
    return latest;
  }

  #exit(c: FakeContainer, exitCode: number): void {
    c.cancel?.();
    c.status = { ...c.status, state: 'CONTAINER_EXITED', exitCode, finishedAt: this.#clock.now() };
  }

  #get(containerId: string): FakeContainer {
    const c = this.#containers.get(containerId);
    if (!c) throw new Error(`no container ${containerId}`);
    return c;
  }
}

/** later resolves with value after the output already written has been read (as a program's exit comes last). */
function later<T>(value: T): Promise<T> {
  return new Promise((resolve) => setImmediate(() => resolve(value)));
}
