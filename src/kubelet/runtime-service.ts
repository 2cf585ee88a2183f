import type { CgroupLimits } from '../sys/cgroups.ts';
import type { PipedProcess } from '../sys/run.ts';
import type { DnsConfig } from './resolv-conf.ts';
import type { ImageFile, SandboxMount } from './sandbox.ts';
import type { ContainerSecurity } from './security-context.ts';

/**
 * RuntimeService is the container runtime as the kubelet uses it, shaped like CRI's RuntimeService so that a CRI
 * client to containerd can stand beside the process runtime without touching the kubelet: the same verbs
 * (RunPodSandbox ... ExecSync, Exec), all asynchronous, with sandbox and container ids crossing the seam.
 * Differences from CRI, each small: the kubelet names the pod's network namespace (`netns`, so tests and
 * port-forward find it); RunPodSandbox is idempotent per pod uid (it returns, and repairs, the pod's existing
 * sandbox; a CRI client looks the sandbox up by its uid label first); times are milliseconds since the epoch; and
 * Exec returns the running command's streams instead of a URL of a streaming server.
 */
export interface RuntimeService {
  /** runPodSandbox sets up the pod's sandbox (network namespace, IP) and returns its id. */
  runPodSandbox(config: PodSandboxConfig): Promise<string>;
  /** stopPodSandbox kills whatever still runs in the sandbox (the kubelet stops containers gracefully first). */
  stopPodSandbox(podSandboxId: string): Promise<void>;
  /** removePodSandbox removes the sandbox: its network, containers, cgroups and files. */
  removePodSandbox(podSandboxId: string): Promise<void>;
  /** podSandboxStatus is the sandbox's state and IP, or undefined when there is no such sandbox. */
  podSandboxStatus(podSandboxId: string): Promise<PodSandboxStatus | undefined>;
  /** listPodSandbox lists the sandboxes (of one pod, with a filter). */
  listPodSandbox(filter?: { uid?: string }): Promise<PodSandboxStatus[]>;
  /** createContainer prepares a container in a sandbox and returns its id; startContainer runs it. */
  createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string>;
  startContainer(containerId: string): Promise<void>;
  /** stopContainer sends TERM, waits up to timeoutSeconds for the container to exit, then KILL. */
  stopContainer(containerId: string, timeoutSeconds: number): Promise<void>;
  removeContainer(containerId: string): Promise<void>;
  /** listContainers lists the containers (of one sandbox, with a filter), newest attempt last. */
  listContainers(filter?: { podSandboxId?: string }): Promise<ContainerStatus[]>;
  /** containerStatus is a container's state, or undefined when there is no such container. */
  containerStatus(containerId: string): Promise<ContainerStatus | undefined>;
  /**
   * execSync runs a command in a running container and returns its exit code and output (exec probes); a container
   * that is not running gives exit code -1. The timeout kills the command.
   */
  execSync(containerId: string, command: readonly string[], timeoutMs: number): Promise<ExecSyncResult>;
  /** exec starts a command in a running container with its stdio as streams (kubectl exec); undefined if not running. */
  exec(containerId: string, command: readonly string[]): Promise<ExecSession | undefined>;
  /**
   * portForward connects to localhost:port in the sandbox's network (kubectl port-forward): stdin goes to the port,
   * stdout is what it answers; a connection that fails ends with a non-zero status and the reason on stderr.
   */
  portForward(podSandboxId: string, port: number): Promise<ExecSession>;
}

/** PodSandboxConfig is CRI's PodSandboxConfig, reduced to what tskube's pods use. */
export interface PodSandboxConfig {
  metadata: { name: string; namespace: string; uid: string };
  /** The pod's network namespace name (chosen by the kubelet, see RuntimeService). */
  netns: string;
  hostname: string;
  /** CRI's dns_config: the pod's /etc/resolv.conf, decided by the kubelet from dnsPolicy (resolv-conf.ts). */
  dnsConfig?: DnsConfig;
  /** Share the node's network (and UTS) namespace; the pod's IP is then hostIP. */
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  hostIP?: string;
}

export interface PodSandboxStatus {
  id: string;
  metadata: { name: string; namespace: string; uid: string };
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
  /** The pod's IP. */
  ip: string;
  netns: string;
  hostNetwork: boolean;
}

/** ContainerConfig is CRI's ContainerConfig for tskube's images (programs of the host, see image-map.ts). */
export interface ContainerConfig {
  metadata: { name: string; attempt: number };
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

export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

/** ContainerStatus is CRI's ContainerStatus (times in milliseconds since the epoch). */
export interface ContainerStatus {
  id: string;
  podSandboxId: string;
  metadata: { name: string; attempt: number };
  state: ContainerState;
  createdAt: number;
  startedAt?: number;
  /** When it exited, if the runtime knows (a runtime that adopted a running container may not). */
  finishedAt?: number;
  /** How it exited, if the runtime knows. */
  exitCode?: number;
  reason?: string;
  logPath?: string;
}

export interface ExecSyncResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** ExecSession is a command running in a container (or a port-forward connection): its stdio, how it ended, a kill. */
export type ExecSession = PipedProcess;
