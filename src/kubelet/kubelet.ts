import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isStatusError } from '../api/status.ts';
import { microTimestamp, timestamp } from '../api/time.ts';
import { formatCidr, parseCidr } from '../net/ipv4.ts';
import { ipAddresses } from '../sys/ip.ts';
import { parseCpu, parseMemory } from '../api/quantity.ts';
import { Informer, type RestClient } from '../client/client.ts';
import type { Logger } from '../log/klog.ts';
import { EventRecorder } from '../client/event-recorder.ts';
import {
  DEFAULT_IMAGES,
  containerArgv,
  imageFileList,
  lookupImage,
  parseImageMap,
  type ImageProgram,
  type ImageTable,
} from './image-map.ts';
import type { SandboxMount } from './sandbox.ts';
import { containerSecurity, type ContainerSecurity } from './security-context.ts';
import { ServiceAccountTokenManager } from './service-account-tokens.ts';
import { volumeContents, volumeMounts, type VolumeContents } from './volumes.ts';
import { containerEnv, expand } from './container-env.ts';
import { nodeObject } from './node-status.ts';
import { PodNetwork } from './pod-network.ts';
import { ProcessRuntime } from './process-runtime.ts';
import { ProcessRuntimeService } from './process-runtime-service.ts';
import type { ContainerStatus, ExecCommand, PodSandboxConfig, RuntimeService } from './runtime-service.ts';
import { runProbe } from './probes.ts';
import { podDnsConfig, type DnsConfig } from './resolv-conf.ts';
import { ProbeManager } from './prober.ts';
import { serviceEnvironment } from './service-env.ts';

export interface KubeletOptions {
  client: RestClient;
  logger: Logger;
  nodeName: string;
  nodeIP: string;
  port: number;
  rootDir: string;
  bridge: string;
  /** --pod-cidr; otherwise the Node's spec.podCIDR (node IPAM) or the pod bridge's existing address is used. */
  podCidr?: string;
  /** Prefix of pod network namespace names (unique per machine when several kubelets share it). */
  netnsPrefix: string;
  images: ImageTable;
  /** --cluster-dns / clusterDNS, --cluster-domain / clusterDomain, and the node's resolv.conf (--resolv-conf). */
  clusterDNS?: string[];
  clusterDomain?: string;
  hostDns?: DnsConfig;
  /** --non-masquerade-cidr: pod traffic to anything outside it is masqueraded on the node; unset adds no rule. */
  nonMasqueradeCidr?: string;
}

interface PodRuntimeState {
  restarts: Record<string, number>;
  lastStart: Record<string, number>;
  lastTermination: Record<string, any>;
  /** The last reason a container could not start (to record each as one Event). */
  lastError?: Record<string, string>;
}

const HEARTBEAT_MS = 10_000;
/** How often projected ServiceAccount tokens are checked for renewal. */
const TOKEN_REFRESH_MS = 60_000;

/**
 * Kubelet registers its Node, keeps its Lease and status fresh, and runs the pods bound to it with the process
 * runtime: network first, then containers (restarted per restartPolicy with back-off), probes, status, and graceful
 * termination ending with the pod's final deletion. State on disk lets a restarted kubelet adopt running pods.
 */
export class Kubelet {
  #o: KubeletOptions;
  #pods: Informer;
  /** Every Service, for the containers' service environment variables. */
  #services: Informer;
  #processes: ProcessRuntime;
  /** The runtime, once the pod network (and so the node's pod CIDR) is known. */
  #runtime: RuntimeService | undefined;
  #events: EventRecorder;
  #tokens: ServiceAccountTokenManager;
  #states = new Map<string, PodRuntimeState>();
  #busy = new Set<string>();
  /** Pods gone from the API server whose sandbox is still here (force-deleted, or terminal pods deleted at once). */
  #gone = new Map<string, any>();
  #timers: NodeJS.Timeout[] = [];
  #prober: ProbeManager;

  constructor(options: KubeletOptions) {
    this.#o = options;
    this.#processes = new ProcessRuntime(options.rootDir);
    this.#events = new EventRecorder(options.client, 'kubelet', options.logger);
    this.#tokens = new ServiceAccountTokenManager(options.client);
    this.#prober = new ProbeManager({
      logger: options.logger,
      onChange: () => this.#syncAll(),
      onFailure: (podUid, container, type, output) => {
        const pod = this.#pods.list().find((p) => p.metadata.uid === podUid);
        const kind = type[0]!.toUpperCase() + type.slice(1);
        if (pod) this.#events.event(pod, 'Warning', 'Unhealthy', `${kind} probe failed: ${output}`.trim());
        this.#o.logger.v(1).info('Probe failed', {
          probeType: kind,
          pod: pod ? `${pod.metadata.namespace}/${pod.metadata.name}` : podUid,
          containerName: container,
          probeResult: 'failure',
          output,
        });
      },
    });
    this.#services = new Informer(options.client, options.client.resource('services'), {}, { logger: options.logger });
    this.#pods = new Informer(
      options.client,
      options.client.resource('pods'),
      {
        onDelete: (pod: any) => {
          if (this.#states.has(pod.metadata.uid)) this.#gone.set(pod.metadata.uid, pod);
        },
        onChange: () => this.#syncAll(),
      },
      { fieldSelector: `spec.nodeName=${options.nodeName}`, logger: options.logger },
    );
  }

  async start(): Promise<void> {
    const log = this.#o.logger;
    await this.#register();
    this.#timers.push(
      setInterval(
        () => void this.#heartbeat().catch((error) => log.warning('Heartbeat failed', { error })),
        HEARTBEAT_MS,
      ),
    );
    // As upstream, pods start only once the Services are known, so their environment variables are complete.
    this.#services.start();
    this.#pods.start();
    await Promise.all([this.#services.waitForSync(), this.#pods.waitForSync()]);
    log.info('Reconciler: start to sync state');
    this.#timers.push(setInterval(() => this.#syncAll(), 1000));
    this.#timers.push(
      setInterval(
        () =>
          void this.#refreshTokens().catch((error) => log.warning('Cannot refresh ServiceAccount tokens', { error })),
        TOKEN_REFRESH_MS,
      ),
    );
    this.#syncAll();
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#prober.stop();
    await Promise.all([this.#pods.stop(), this.#services.stop()]);
  }

  /** podLogPath returns the log of a container for the kubelet server (`kubectl logs`). */
  podLogPath(namespace: string, name: string, container: string, previous: boolean): string | undefined {
    const pod = this.#pods.get(`${namespace}/${name}`);
    const logPath =
      pod && this.#runtime ? this.#runtime.containerStatus(this.#sandbox(pod), container).logPath : undefined;
    if (!logPath) return undefined;
    return previous ? logPath.replace(/container\.log$/, 'previous.log') : logPath;
  }

  /** execCommand is how to run a command in a running container (kubectl exec), or undefined. */
  execCommand(namespace: string, name: string, container: string, command: readonly string[]): ExecCommand | undefined {
    const pod = this.#pods.get(`${namespace}/${name}`);
    return pod && this.#runtime ? this.#runtime.execCommand(this.#sandbox(pod), container, command) : undefined;
  }

  /**
   * #containerSetup resolves a container's security settings and volume binds, or the waiting reason that keeps it
   * from starting (CreateContainerConfigError as upstream, e.g. runAsNonRoot with a root user; a volume not ready).
   */
  async #containerSetup(
    pod: any,
    c: any,
    program: ImageProgram,
    base: Record<string, string>,
    podIP: string,
  ): Promise<
    | { security: ContainerSecurity; mounts: SandboxMount[]; env: Record<string, string> }
    | { reason: string; message: string }
  > {
    const security = containerSecurity(pod, c, program.user);
    if ('error' in security) return { reason: 'CreateContainerConfigError', message: security.error };
    const resolved = await containerEnv(
      pod,
      c,
      base,
      (resource, name) => this.#getObject(resource, pod.metadata.namespace, name),
      podIP,
    );
    if ('error' in resolved) return { reason: 'CreateContainerConfigError', message: resolved.error };
    const token = (source: { audience?: string; expirationSeconds?: number; path: string }) =>
      this.#tokens.token(pod, source).catch((error) => {
        this.#o.logger.warning('Cannot get the ServiceAccount token of a pod', {
          pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
          error,
        });
        return undefined;
      });
    const contents = await volumeContents(
      pod,
      (resource, name) => this.#getObject(resource, pod.metadata.namespace, name),
      token,
    );
    if ('error' in contents && typeof contents.error === 'string')
      return { reason: 'ContainerCreating', message: contents.error };
    const mounts = volumeMounts(pod, c, join(this.#o.rootDir, 'pods', pod.metadata.uid), contents as VolumeContents);
    if (!Array.isArray(mounts)) return { reason: 'ContainerCreating', message: mounts.error };
    return { security, mounts, env: resolved.env };
  }

  /**
   * #refreshTokens rewrites the token file of every projected ServiceAccount volume already set up on this node
   * when the token manager issues a new one (after 80% of the old one's life), as upstream's kubelet does.
   */
  async #refreshTokens(): Promise<void> {
    for (const pod of this.#pods.list()) {
      for (const v of pod.spec?.volumes ?? []) {
        for (const src of v.projected?.sources ?? []) {
          if (!src.serviceAccountToken) continue;
          const dir = join(this.#o.rootDir, 'pods', pod.metadata.uid, 'volumes', 'kubernetes.io~projected', v.name);
          const file = join(dir, src.serviceAccountToken.path);
          if (!existsSync(file)) continue;
          const token = await this.#tokens.token(pod, src.serviceAccountToken);
          if (readFileSync(file, 'utf8') === token) continue;
          writeFileSync(`${file}.new`, token, { mode: v.projected.defaultMode ?? 0o644 });
          renameSync(`${file}.new`, file);
        }
      }
    }
  }

  /** #getObject reads a ConfigMap or Secret for a pod's volumes; undefined when it does not exist. */
  async #getObject(resource: 'configmaps' | 'secrets', namespace: string, name: string): Promise<any> {
    const { client } = this.#o;
    return client
      .get(client.resource(resource), namespace, name)
      .catch((error) => (isStatusError(error, 404) ? undefined : Promise.reject(error)));
  }

  /** podSandbox tells port-forward where a running pod's network is (its netns), with its uid. */
  podSandbox(namespace: string, name: string): { netns: string; uid: string } | undefined {
    const pod = this.#pods.get(`${namespace}/${name}`);
    return pod && pod.status?.phase === 'Running'
      ? { netns: this.#sandbox(pod).netns, uid: pod.metadata.uid }
      : undefined;
  }

  async #register(): Promise<void> {
    const { client, nodeName, logger } = this.#o;
    const nodes = client.resource('nodes');
    let node = await client
      .get(nodes, undefined, nodeName)
      .catch((e) => (isStatusError(e, 404) ? undefined : Promise.reject(e)));
    // Like the lab's Docker, an address already on the pod bridge (its `bip`) wins over the Node's podCIDR.
    const podCidr = this.#o.podCidr ?? (await this.#bridgeCidr()) ?? node?.spec?.podCIDR;
    const body = nodeObject({
      name: nodeName,
      nodeIP: this.#o.nodeIP,
      port: this.#o.port,
      podCidr: this.#o.podCidr,
      ready: podCidr !== undefined,
      lastHeartbeat: timestamp(),
    });
    const created = !node;
    if (!node) {
      node = await client.create(nodes, undefined, body);
      logger.info('Successfully registered node', { node: nodeName });
    } else {
      logger.info('Node was previously registered', { node: nodeName });
      if (this.#o.podCidr && !node.spec?.podCIDR)
        await client.patch(
          nodes,
          undefined,
          nodeName,
          { spec: { podCIDR: this.#o.podCidr, podCIDRs: [this.#o.podCidr] } },
          'merge',
        );
    }
    // The pod network first, so a restarted kubelet's first status already says Ready (not one heartbeat later).
    if (podCidr) await this.#useCidr(podCidr);
    if (!created) await this.#heartbeat();
  }

  /** #bridgeCidr reads an address already on the pod bridge, as the lab's Docker `bip` sets it. */
  async #bridgeCidr(): Promise<string | undefined> {
    const info = await ipAddresses(this.#o.bridge).catch(() => []);
    const addr = info[0]?.addr_info?.find((a) => a.family === 'inet');
    if (!addr) return undefined;
    return formatCidr(parseCidr(`${addr.local}/${addr.prefixlen}`));
  }

  async #useCidr(cidr: string): Promise<void> {
    if (this.#runtime) return;
    const network = new PodNetwork({
      bridge: this.#o.bridge,
      podCidr: cidr,
      rootDir: this.#o.rootDir,
      onWarning: (message) => this.#o.logger.warning(message),
    });
    await network.ensureBridge();
    if (this.#o.nonMasqueradeCidr) await network.ensureMasquerade(this.#o.nonMasqueradeCidr);
    this.#runtime = new ProcessRuntimeService(network, this.#processes, this.#o.rootDir);
    this.#o.logger.info('Pod network ready', { podCIDR: cidr, bridge: this.#o.bridge });
  }

  async #heartbeat(): Promise<void> {
    const { client, nodeName } = this.#o;
    const nodes = client.resource('nodes');
    const node = await client.get(nodes, undefined, nodeName);
    if (!this.#runtime && node.spec?.podCIDR) await this.#useCidr(node.spec.podCIDR);
    const fresh = nodeObject({
      name: nodeName,
      nodeIP: this.#o.nodeIP,
      port: this.#o.port,
      ready: this.#runtime !== undefined,
      lastHeartbeat: timestamp(),
    });
    const previous: any[] = node.status?.conditions ?? [];
    fresh.status.conditions = fresh.status.conditions.map((c: any) => {
      const old = previous.find((p) => p.type === c.type);
      return old && old.status === c.status ? { ...c, lastTransitionTime: old.lastTransitionTime } : c;
    });
    await client.update(nodes, { ...node, status: { ...node.status, ...fresh.status } }, { subresource: 'status' });
    const leases = client.resource('leases');
    const now = microTimestamp();
    try {
      const lease = await client.get(leases, 'kube-node-lease', nodeName);
      await client.update(leases, {
        ...lease,
        spec: { ...lease.spec, holderIdentity: nodeName, leaseDurationSeconds: 40, renewTime: now },
      });
    } catch (error) {
      if (!isStatusError(error, 404)) throw error;
      await client.create(leases, 'kube-node-lease', {
        metadata: {
          name: nodeName,
          ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: node.metadata.uid }],
        },
        spec: { holderIdentity: nodeName, leaseDurationSeconds: 40, renewTime: now },
      });
    }
  }

  #syncAll(): void {
    if (!this.#runtime) {
      void this.#heartbeat().catch((error) => this.#o.logger.v(2).info('Waiting for the pod network', { error }));
      return;
    }
    for (const [uid, pod] of this.#gone) {
      if (this.#busy.has(uid)) continue;
      this.#busy.add(uid);
      this.#gone.delete(uid);
      void this.#removeGone(pod)
        .catch((error) =>
          this.#o.logger.error('Error removing a deleted pod', {
            pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
            error,
          }),
        )
        .finally(() => this.#busy.delete(uid));
    }
    for (const pod of this.#pods.list()) {
      const key = pod.metadata.uid;
      if (this.#busy.has(key)) continue;
      this.#busy.add(key);
      void this.#syncPod(pod)
        .catch((error) =>
          this.#o.logger.error('Error syncing pod', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, error }),
        )
        .finally(() => this.#busy.delete(key));
    }
  }

  #sandbox(pod: any): PodSandboxConfig {
    const { config } = this.#dns(pod);
    const spec = pod.spec ?? {};
    return {
      uid: pod.metadata.uid,
      netns: `${this.#o.netnsPrefix}-${pod.metadata.uid.replace(/-/g, '').slice(0, 12)}`,
      hostname: spec.hostname ?? pod.metadata.name,
      namespace: pod.metadata.namespace,
      dnsConfig: config,
      hostNetwork: spec.hostNetwork === true,
      hostPID: spec.hostPID === true,
      hostIPC: spec.hostIPC === true,
      hostIP: this.#o.nodeIP,
    };
  }

  #dns(pod: any): ReturnType<typeof podDnsConfig> {
    return podDnsConfig(pod, {
      clusterDNS: this.#o.clusterDNS ?? [],
      clusterDomain: this.#o.clusterDomain ?? '',
      host: this.#o.hostDns ?? { servers: [], searches: [], options: [] },
    });
  }

  async #syncPod(pod: any): Promise<void> {
    const runtime = this.#runtime!;
    const uid = pod.metadata.uid;
    const sandbox = this.#sandbox(pod);
    const state = this.#states.get(uid) ?? { restarts: {}, lastStart: {}, lastTermination: {} };
    this.#states.set(uid, state);
    if (pod.metadata.deletionTimestamp) return this.#terminate(pod, sandbox);
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const podIP = await runtime.runPodSandbox(sandbox);
    const statuses: any[] = [];
    const now = Date.now();
    for (const c of pod.spec.containers ?? []) {
      const program = lookupImage(c.image, this.#o.images);
      if (!program) {
        statuses.push({
          name: c.name,
          image: c.image,
          imageID: '',
          ready: false,
          restartCount: 0,
          started: false,
          state: {
            waiting: {
              reason: 'ErrImagePull',
              message: `tskube's process runtime has no program for image "${c.image}": map it in the kubelet's --image-map file (JSON: {"<image regexp>": {"entrypoint": [...], "cmd": [...]}})`,
            },
          },
        });
        continue;
      }
      let cs: ContainerStatus = runtime.containerStatus(sandbox, c.name);
      const restarts = state.restarts[c.name] ?? 0;
      if (!cs.running && cs.created) {
        const exitCode = cs.exitCode ?? 0;
        state.lastTermination[c.name] ??= {
          terminated: {
            exitCode,
            reason: exitCode === 0 ? 'Completed' : 'Error',
            startedAt: cs.startedAt,
            finishedAt: timestamp(),
          },
        };
        const policy = pod.spec.restartPolicy ?? 'Always';
        const restart = policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
        if (!restart) {
          statuses.push({
            name: c.name,
            image: c.image,
            imageID: '',
            ready: false,
            restartCount: restarts,
            started: false,
            state: state.lastTermination[c.name],
          });
          continue;
        }
        const backoff = Math.min(10_000 * 2 ** Math.max(0, restarts - 1), 300_000);
        if (restarts > 0 && now - (state.lastStart[c.name] ?? 0) < backoff) {
          statuses.push({
            name: c.name,
            image: c.image,
            imageID: '',
            ready: false,
            restartCount: restarts,
            started: false,
            state: {
              waiting: {
                reason: 'CrashLoopBackOff',
                message: `back-off ${backoff / 1000}s restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${uid})`,
              },
            },
            lastState: state.lastTermination[c.name],
          });
          continue;
        }
        state.restarts[c.name] = restarts + 1;
      }
      if (!cs.running) {
        const base: Record<string, string> = {
          ...(program.env ?? {}),
          HOSTNAME: pod.spec.hostNetwork ? hostname() : pod.metadata.name,
          ...serviceEnvironment(this.#services.list(), pod.metadata.namespace, pod.spec.enableServiceLinks),
        };
        const limits = c.resources?.limits ?? {};
        const setup = await this.#containerSetup(pod, c, program, base, podIP);
        if ('reason' in setup) {
          if (state.lastError?.[c.name] !== setup.message)
            this.#events.event(
              pod,
              'Warning',
              setup.reason === 'CreateContainerConfigError' ? 'Failed' : 'FailedMount',
              setup.reason === 'CreateContainerConfigError' ? `Error: ${setup.message}` : setup.message,
            );
          (state.lastError ??= {})[c.name] = setup.message;
          statuses.push({
            name: c.name,
            image: c.image,
            imageID: '',
            ready: false,
            restartCount: state.restarts[c.name] ?? 0,
            started: false,
            state: { waiting: { reason: setup.reason, message: setup.message } },
          });
          continue;
        }
        const { security, mounts, env } = setup;
        const id = runtime.createContainer(sandbox, podIP, {
          name: c.name,
          argv: containerArgv(program, c.command, c.args).map((a) => expand(a, env)),
          env,
          prepare: program.prepare,
          limits: {
            memoryBytes: limits.memory ? parseMemory(limits.memory) : 0,
            cpuMillis: limits.cpu ? parseCpu(limits.cpu) : 0,
          },
          files: imageFileList(program),
          links: program.links ?? {},
          mounts,
          security,
          workingDir: c.workingDir ?? program.workingDir,
        });
        cs = runtime.startContainer(id);
        state.lastStart[c.name] = now;
        delete state.lastTermination[c.name];
        this.#events.event(pod, 'Normal', 'Started', `Started container ${c.name}`);
        const dnsWarning = this.#dns(pod).warning;
        if (dnsWarning) this.#events.event(pod, 'Warning', dnsWarning.reason, dnsWarning.message);
      }
      const { ready, started } = await this.#probeContainer(pod, c, sandbox, podIP, state);
      statuses.push({
        name: c.name,
        image: c.image,
        imageID: `tskube-process://${c.image}`,
        containerID: `tskube://${uid}/${c.name}`,
        ready,
        restartCount: state.restarts[c.name] ?? 0,
        started,
        state: { running: { startedAt: cs.startedAt } },
        ...(state.lastTermination[c.name] ? { lastState: state.lastTermination[c.name] } : {}),
      });
    }
    await this.#report(pod, podIP, statuses);
  }

  /**
   * #probeContainer starts the container's probe workers (once) and reads their results for this run of the
   * container: a failed startup or liveness probe stops it (it is then restarted per restartPolicy); it is ready
   * once started and its readiness probe (if any) has succeeded.
   */
  async #probeContainer(
    pod: any,
    c: any,
    sandbox: PodSandboxConfig,
    podIP: string,
    state: PodRuntimeState,
  ): Promise<{ ready: boolean; started: boolean }> {
    const uid = pod.metadata.uid;
    const runtime = this.#runtime!;
    const instance = (): string =>
      String(state.lastStart[c.name] ?? runtime.containerStatus(sandbox, c.name).startedAt);
    const target = () => {
      if (this.#states.get(uid) !== state) return undefined;
      const cs = runtime.containerStatus(sandbox, c.name);
      const run = instance();
      return {
        running: cs.running,
        instance: run,
        startedAtMs: state.lastStart[c.name] ?? Date.parse(cs.startedAt ?? ''),
        started: !c.startupProbe || this.#prober.result(uid, c.name, 'startup', run) === 'success',
      };
    };
    const context = {
      netns: sandbox.hostNetwork ? undefined : sandbox.netns,
      podIP,
      ports: c.ports ?? [],
      exec: async (command: string[], timeoutMs: number) => {
        const { exitCode, output } = await runtime.execSync(sandbox, c.name, command, timeoutMs);
        return { ok: exitCode === 0, output };
      },
    };
    const run = instance();
    for (const type of ['startup', 'liveness', 'readiness'] as const) {
      const probe = c[`${type}Probe`];
      if (probe)
        this.#prober.track(
          { podUid: uid, container: c.name, type, probe, target, check: () => runProbe(probe, context) },
          run,
        );
    }
    const started = !c.startupProbe || this.#prober.result(uid, c.name, 'startup', run) === 'success';
    for (const type of ['startup', 'liveness'] as const) {
      if (!c[`${type}Probe`] || this.#prober.result(uid, c.name, type, run) !== 'failure') continue;
      this.#events.event(pod, 'Normal', 'Killing', `Container ${c.name} failed ${type} probe, will be restarted`);
      await runtime.stopContainer(sandbox, c.name, pod.spec.terminationGracePeriodSeconds ?? 30);
      return { ready: false, started };
    }
    return {
      ready: started && (!c.readinessProbe || this.#prober.result(uid, c.name, 'readiness', run) === 'success'),
      started,
    };
  }

  async #report(pod: any, podIP: string, statuses: any[]): Promise<void> {
    const allRunning = statuses.length > 0 && statuses.every((s) => s.state.running);
    const ready = allRunning && statuses.every((s) => s.ready);
    const done = statuses.length > 0 && statuses.every((s) => s.state.terminated);
    const phase = done
      ? statuses.every((s) => s.state.terminated.exitCode === 0)
        ? 'Succeeded'
        : 'Failed'
      : statuses.some((s) => s.state.running)
        ? 'Running'
        : 'Pending';
    const previous: any[] = pod.status?.conditions ?? [];
    const condition = (type: string, ok: boolean) => {
      const status = ok ? 'True' : 'False';
      const old = previous.find((c) => c.type === type);
      return {
        type,
        status,
        lastProbeTime: null,
        lastTransitionTime: old?.status === status ? old.lastTransitionTime : timestamp(),
      };
    };
    const status = {
      ...pod.status,
      phase,
      hostIP: this.#o.nodeIP,
      hostIPs: [{ ip: this.#o.nodeIP }],
      podIP,
      podIPs: [{ ip: podIP }],
      startTime: pod.status?.startTime ?? timestamp(),
      conditions: [
        condition('PodReadyToStartContainers', true),
        condition('Initialized', true),
        condition('Ready', ready),
        condition('ContainersReady', ready),
        condition('PodScheduled', true),
      ],
      containerStatuses: statuses,
    };
    const strip = (s: any) =>
      JSON.stringify({ ...s, conditions: (s?.conditions ?? []).map((c: any) => [c.type, c.status]) });
    if (strip(status) === strip(pod.status)) return;
    await this.#o.client
      .update(this.#o.client.resource('pods'), { ...pod, status }, { subresource: 'status' })
      .catch((error) => {
        if (!isStatusError(error, 409) && !isStatusError(error, 404)) throw error;
      });
  }

  /**
   * #removeGone stops and removes the sandbox of a pod deleted from the API server without this kubelet terminating
   * it first: a terminal pod (deleted at once) or a force-deleted one. Its containers get a 1 s grace period, as
   * upstream's kubelet gives orphaned pods.
   */
  async #removeGone(pod: any): Promise<void> {
    const uid = pod.metadata.uid;
    if (!this.#states.has(uid) || this.#pods.list().some((p) => p.metadata.uid === uid)) return;
    const sandbox = this.#sandbox(pod);
    const names = (pod.spec.containers ?? []).map((c: any) => c.name);
    await this.#runtime!.stopPodSandbox(sandbox, names, 1);
    await this.#runtime!.removePodSandbox(sandbox, names);
    rmSync(join(this.#o.rootDir, 'pods', uid), { recursive: true, force: true });
    this.#states.delete(uid);
    this.#prober.removePod(uid);
    this.#o.logger.info('Removed the sandbox of a deleted pod', {
      pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
      podUID: uid,
    });
  }

  async #terminate(pod: any, sandbox: PodSandboxConfig): Promise<void> {
    const uid = pod.metadata.uid;
    const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    const names = (pod.spec.containers ?? []).map((c: any) => c.name);
    await this.#runtime!.stopPodSandbox(sandbox, names, grace);
    await this.#runtime!.removePodSandbox(sandbox, names);
    rmSync(join(this.#o.rootDir, 'pods', uid), { recursive: true, force: true });
    this.#states.delete(uid);
    this.#tokens.forget(uid);
    this.#prober.removePod(uid);
    await this.#o.client
      .delete(this.#o.client.resource('pods'), pod.metadata.namespace, pod.metadata.name, {
        gracePeriodSeconds: 0,
        preconditions: { uid },
      })
      .catch((error) => {
        if (!isStatusError(error, 404) && !isStatusError(error, 409)) throw error;
      });
  }
}

/** imageTable is the default table extended by an admin's --image-map file. */
export function imageTable(file: string | undefined): ImageTable {
  if (!file) return DEFAULT_IMAGES;
  return [...parseImageMap(readFileSync(file, 'utf8')), ...DEFAULT_IMAGES];
}
