import type { CgroupLimits } from '../sys/cgroups.ts';
import type { DnsConfig } from './resolv-conf.ts';
import type { ImageFile, SandboxMount } from './sandbox.ts';
import type { ContainerSecurity } from './security-context.ts';

/**
 * RuntimeService is the container runtime as the kubelet uses it, shaped like CRI's RuntimeService (sandbox and
 * container verbs), so a CRI client to containerd can stand beside the process runtime without touching the rest.
 */
export interface PodSandboxConfig {
  uid: string;
  /** The pod's network namespace name. */
  netns: string;
  hostname: string;
  namespace: string;
  /** CRI's dns_config: the pod's /etc/resolv.conf, decided by the kubelet from dnsPolicy (resolv-conf.ts). */
  dnsConfig?: DnsConfig;
  /** Share the node's network (and UTS) namespace; the pod's IP is then hostIP. */
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  hostIP?: string;
}

export interface ContainerConfig {
  name: string;
  argv: string[];
  env: Record<string, string>;
  limits: CgroupLimits;
  /** Writes what the program needs into the container's writable layer (its `/`) and returns the final argv. */
  prepare?: (root: string, argv: string[]) => string[];
  /** The image's files (host path → container path, read-only) and symbolic links. */
  files: ImageFile[];
  links: Record<string, string>;
  /** Volumes and other binds (the ServiceAccount files), besides /etc/hosts, resolv.conf and hostname. */
  mounts: SandboxMount[];
  security: ContainerSecurity;
  workingDir?: string;
}

export interface ContainerStatus {
  running: boolean;
  /** Whether the container was ever started (a stopped one has exited). */
  created: boolean;
  /** The container's init, inside its PID namespace's view from the host (for exec and probes). */
  pid?: number;
  startedAt?: string;
  exitCode?: number;
  logPath?: string;
}

export interface RuntimeService {
  /** runPodSandbox sets up the pod's network and returns its IP (idempotent). */
  runPodSandbox(sandbox: PodSandboxConfig): Promise<string>;
  /** stopPodSandbox stops every container of the pod (TERM, grace, KILL). */
  stopPodSandbox(sandbox: PodSandboxConfig, containers: readonly string[], graceSeconds: number): Promise<void>;
  /** removePodSandbox removes the pod's network, cgroups and files. */
  removePodSandbox(sandbox: PodSandboxConfig, containers: readonly string[]): Promise<void>;
  /** createContainer and startContainer run a container in a sandbox (the process runtime does both at start). */
  createContainer(sandbox: PodSandboxConfig, podIP: string, config: ContainerConfig): string;
  startContainer(containerId: string): ContainerStatus;
  stopContainer(sandbox: PodSandboxConfig, name: string, graceSeconds: number): Promise<void>;
  containerStatus(sandbox: PodSandboxConfig, name: string): ContainerStatus;
  /**
   * execSync runs a command in a running container and returns its exit code and output (CRI's ExecSync, used by
   * exec probes); a container that is not running gives exit code -1. The timeout kills the command.
   */
  execSync(
    sandbox: PodSandboxConfig,
    name: string,
    command: readonly string[],
    timeoutMs: number,
  ): Promise<{ exitCode: number; output: string }>;
  /** execCommand is the command to spawn for a streaming exec into a running container (kubectl exec), or undefined. */
  execCommand(sandbox: PodSandboxConfig, name: string, command: readonly string[]): ExecCommand | undefined;
}

/** ExecCommand: spawn argv with exactly env, and the file seccompFile (if any) opened as fd 3. */
export interface ExecCommand {
  argv: string[];
  env: Record<string, string>;
  seccompFile?: string;
}
