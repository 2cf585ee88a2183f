import type { CgroupLimits } from '../sys/cgroups.ts';
import type { DnsConfig } from './resolv-conf.ts';

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
}

export interface ContainerConfig {
  name: string;
  argv: string[];
  env: Record<string, string>;
  limits: CgroupLimits;
  /** Writes what the program needs into the container's directory and returns the final argv. */
  prepare?: (dir: string, argv: string[]) => string[];
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
  execSync(sandbox: PodSandboxConfig, name: string, command: readonly string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
}
