import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type {
  ConfigMap,
  Container,
  ContainerState as ApiContainerState,
  ContainerStatus as ApiContainerStatus,
  Pod,
  PodCondition,
  Secret,
  Service,
} from 'kubernetes-types/core/v1.js';
import type { Stored } from '../api/objects.ts';
import { isStatusError } from '../api/status.ts';
import { microTimestamp, timestamp } from '../api/time.ts';
import { formatCidr, parseCidr } from '../net/ipv4.ts';
import { ipAddresses } from '../sys/ip.ts';
import { parseCpu, parseMemory } from '../api/quantity.ts';
import { Informer, keyOf, type RestClient } from '../client/client.ts';
import type { Logger } from '../log/klog.ts';
import { EventRecorder } from '../client/event-recorder.ts';
import { type Clock, realClock } from '../util/clock.ts';
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
import { volumeContents, volumeMounts } from './volumes.ts';
import { containerEnv, expand } from './container-env.ts';
import { nodeObject } from './node-status.ts';
import { PodNetwork } from './pod-network.ts';
import { ProcessRuntime } from './process-runtime.ts';
import { ProcessRuntimeService } from './process-runtime-service.ts';
import type { ContainerStatus, ExecSession, PodSandboxConfig, RuntimeService } from './runtime-service.ts';
import { runProbe } from './probes.ts';
import { podDnsConfig, type DnsConfig } from './resolv-conf.ts';
import { ProbeManager, type ProbeTarget } from './prober.ts';
import {
  apiContainerStatus,
  type BackOff,
  decideContainer,
  type Observed,
  podPhase,
  type RestartPolicy,
  terminatedState,
} from './restart.ts';
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
  /** Time for the loop's timers, the restart back-off and the probes (a FakeClock in unit tests). */
  clock?: Clock;
  /**
   * startRuntime sets up the pod network for the node's pod CIDR and returns the container runtime; by default the
   * pod bridge, PodNetwork and the process runtime (unit tests pass a FakeRuntime).
   */
  startRuntime?: (podCidr: string) => Promise<RuntimeService>;
}

type PodObject = Stored<Pod>;

interface PodRuntimeState {
  /** The pod's sandbox, once run (or found). */
  sandboxId?: string;
  /** Each container's crash-loop back-off entry. */
  backOff: Record<string, BackOff>;
  /** Each container's last termination (its lastState while it runs again or waits). */
  lastTermination: Record<string, ApiContainerState>;
  /** When the kubelet first saw an exited container whose end the runtime does not know (by container and attempt). */
  firstSeenExited: Record<string, number>;
  /** The last reason a container could not start (to record each as one Event). */
  lastError: Record<string, string>;
  /** The exited run of each container a BackOff Event was recorded for. */
  backOffEvent: Record<string, string>;
}

const HEARTBEAT_MS = 10_000;
/** How often every pod is synced besides on changes. */
const RESYNC_MS = 1000;
/** How often projected ServiceAccount tokens are checked for renewal. */
const TOKEN_REFRESH_MS = 60_000;

/**
 * Kubelet registers its Node, keeps its Lease and status fresh, and runs the pods bound to it through a
 * RuntimeService: sandbox first, then containers (restarted per restartPolicy with back-off, see restart.ts),
 * probes, status, and graceful termination ending with the pod's final deletion. The runtime's records let a
 * restarted kubelet adopt running pods.
 */
export class Kubelet {
  #o: KubeletOptions;
  #clock: Clock;
  #pods: Informer<PodObject>;
  /** Every Service, for the containers' service environment variables. */
  #services: Informer<Stored<Service>>;
  /** The runtime, once the pod network (and so the node's pod CIDR) is known. */
  #runtime: RuntimeService | undefined;
  #starting: Promise<void> | undefined;
  #events: EventRecorder;
  #tokens: ServiceAccountTokenManager;
  #states = new Map<string, PodRuntimeState>();
  #busy = new Set<string>();
  /** Pods gone from the API server whose sandbox is still here (force-deleted, or terminal pods deleted at once). */
  #gone = new Map<string, PodObject>();
  #cancels: (() => void)[] = [];
  #stopped = false;
  #prober: ProbeManager;

  constructor(options: KubeletOptions) {
    this.#o = options;
    this.#clock = options.clock ?? realClock;
    this.#events = new EventRecorder(options.client, 'kubelet', options.logger);
    this.#tokens = new ServiceAccountTokenManager(options.client);
    this.#prober = new ProbeManager({
      logger: options.logger,
      clock: this.#clock,
      onChange: () => this.#syncAll(),
      onFailure: (podUid, container, type, output) => {
        const pod = this.#pods.list().find((p) => p.metadata.uid === podUid);
        const kind = type[0]!.toUpperCase() + type.slice(1);
        if (pod) this.#events.event(pod, 'Warning', 'Unhealthy', `${kind} probe failed: ${output}`.trim());
        this.#o.logger.v(1).info('Probe failed', {
          probeType: kind,
          pod: pod ? keyOf(pod) : podUid,
          containerName: container,
          probeResult: 'failure',
          output,
        });
      },
    });
    this.#services = new Informer(options.client, options.client.typed('services'), {}, { logger: options.logger });
    this.#pods = new Informer(
      options.client,
      options.client.typed('pods'),
      {
        onDelete: (pod) => {
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
    this.#every(HEARTBEAT_MS, () => this.#heartbeat().catch((error) => log.warning('Heartbeat failed', { error })));
    // As upstream, pods start only once the Services are known, so their environment variables are complete.
    this.#services.start();
    this.#pods.start();
    await Promise.all([this.#services.waitForSync(), this.#pods.waitForSync()]);
    log.info('Reconciler: start to sync state');
    this.#every(RESYNC_MS, () => this.#syncAll());
    this.#every(TOKEN_REFRESH_MS, () =>
      this.#refreshTokens().catch((error) => log.warning('Cannot refresh ServiceAccount tokens', { error })),
    );
    this.#syncAll();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const cancel of this.#cancels) cancel();
    this.#prober.stop();
    await Promise.all([this.#pods.stop(), this.#services.stop()]);
  }

  /** #every calls fn every ms on the clock until the kubelet stops. */
  #every(ms: number, fn: () => unknown): void {
    const tick = () => {
      if (this.#stopped) return;
      void fn();
      this.#cancels.push(this.#clock.setTimer(tick, ms));
    };
    this.#cancels.push(this.#clock.setTimer(tick, ms));
  }

  /** podLogPath returns the log of a container for the kubelet server (`kubectl logs`). */
  async podLogPath(namespace: string, name: string, container: string, previous: boolean): Promise<string | undefined> {
    const pod = this.#pods.get(`${namespace}/${name}`);
    const logPath = pod ? (await this.#container(pod, container))?.logPath : undefined;
    if (!logPath) return undefined;
    return previous ? logPath.replace(/container\.log$/, 'previous.log') : logPath;
  }

  /** exec runs a command in a running container with its stdio as streams (kubectl exec), or undefined. */
  async exec(
    namespace: string,
    name: string,
    container: string,
    command: readonly string[],
  ): Promise<ExecSession | undefined> {
    const pod = this.#pods.get(`${namespace}/${name}`);
    const found = pod ? await this.#container(pod, container) : undefined;
    return found && this.#runtime ? this.#runtime.exec(found.id, command) : undefined;
  }

  /** portForward connects to localhost:port in a pod's network (kubectl port-forward). */
  async portForward(namespace: string, name: string, port: number): Promise<ExecSession> {
    const pod = this.#pods.get(`${namespace}/${name}`);
    const sandboxId = pod ? await this.#sandboxId(pod.metadata.uid) : undefined;
    if (!this.#runtime || sandboxId === undefined) throw new Error(`pod ${namespace}/${name} has no sandbox here`);
    return this.#runtime.portForward(sandboxId, port);
  }

  /** podSandbox tells port-forward where a running pod's network is (its netns), with its uid. */
  podSandbox(namespace: string, name: string): { netns: string; uid: string } | undefined {
    const pod = this.#pods.get(`${namespace}/${name}`);
    return pod && pod.status?.phase === 'Running'
      ? { netns: this.#sandboxConfig(pod).netns, uid: pod.metadata.uid }
      : undefined;
  }

  /** #container is the runtime's latest container of a name in a pod, if any. */
  async #container(pod: PodObject, name: string): Promise<ContainerStatus | undefined> {
    const runtime = this.#runtime;
    if (!runtime) return undefined;
    const sandboxId = await this.#sandboxId(pod.metadata.uid);
    if (sandboxId === undefined) return undefined;
    return latestOf(await runtime.listContainers({ podSandboxId: sandboxId }), name);
  }

  /** #sandboxId is the pod's sandbox: the one this kubelet ran, or one the runtime still has (after a restart). */
  async #sandboxId(uid: string): Promise<string | undefined> {
    const known = this.#states.get(uid)?.sandboxId;
    if (known !== undefined) return known;
    return (await this.#runtime?.listPodSandbox({ uid }))?.[0]?.id;
  }

  /**
   * #containerSetup resolves a container's security settings and volume binds, or the waiting reason that keeps it
   * from starting (CreateContainerConfigError as upstream, e.g. runAsNonRoot with a root user; a volume not ready).
   */
  async #containerSetup(
    pod: PodObject,
    c: Container,
    program: ImageProgram,
    base: Record<string, string>,
    podIP: string,
  ): Promise<
    | { security: ContainerSecurity; mounts: SandboxMount[]; env: Record<string, string> }
    | { reason: string; message: string }
  > {
    const namespace = pod.metadata.namespace ?? 'default';
    const security = containerSecurity(pod, c, program.user);
    if ('error' in security) return { reason: 'CreateContainerConfigError', message: security.error };
    const resolved = await containerEnv(
      pod,
      c,
      base,
      (resource, name) => this.#getObject(resource, namespace, name),
      podIP,
    );
    if ('error' in resolved) return { reason: 'CreateContainerConfigError', message: resolved.error };
    const token = (source: { audience?: string; expirationSeconds?: number; path: string }) =>
      this.#tokens.token(pod, source).catch((error) => {
        this.#o.logger.warning('Cannot get the ServiceAccount token of a pod', {
          pod: `${namespace}/${pod.metadata.name}`,
          error,
        });
        return undefined;
      });
    const contents = await volumeContents(pod, (resource, name) => this.#getObject(resource, namespace, name), token);
    if ('error' in contents) return { reason: 'ContainerCreating', message: contents.error };
    const mounts = volumeMounts(pod, c, join(this.#o.rootDir, 'pods', pod.metadata.uid), contents.contents);
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
          writeFileSync(`${file}.new`, token, { mode: v.projected?.defaultMode ?? 0o644 });
          renameSync(`${file}.new`, file);
        }
      }
    }
  }

  /** #getObject reads a ConfigMap or Secret for a pod's volumes; undefined when it does not exist. */
  async #getObject(
    resource: 'configmaps' | 'secrets',
    namespace: string,
    name: string,
  ): Promise<ConfigMap | Secret | undefined> {
    const { client } = this.#o;
    return client
      .get(client.typed(resource), namespace, name)
      .catch((error) => (isStatusError(error, 404) ? undefined : Promise.reject(error)));
  }

  async #register(): Promise<void> {
    const { client, nodeName, logger } = this.#o;
    const nodes = client.typed('nodes');
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
    // One setup at a time: the heartbeat and a sync may both find the CIDR.
    this.#starting ??= (this.#o.startRuntime ?? ((c: string) => this.#processRuntime(c)))(cidr).then(
      (runtime) => {
        this.#runtime = runtime;
        this.#o.logger.info('Pod network ready', { podCIDR: cidr, bridge: this.#o.bridge });
      },
      (error) => {
        this.#starting = undefined;
        throw error;
      },
    );
    await this.#starting;
  }

  /** #processRuntime is the default runtime: the pod bridge and PodNetwork, and the process runtime. */
  async #processRuntime(cidr: string): Promise<RuntimeService> {
    const network = new PodNetwork({
      bridge: this.#o.bridge,
      podCidr: cidr,
      rootDir: this.#o.rootDir,
      onWarning: (message) => this.#o.logger.warning(message),
    });
    await network.ensureBridge();
    if (this.#o.nonMasqueradeCidr) await network.ensureMasquerade(this.#o.nonMasqueradeCidr);
    return new ProcessRuntimeService(network, new ProcessRuntime(this.#o.rootDir), this.#o.rootDir);
  }

  async #heartbeat(): Promise<void> {
    const { client, nodeName } = this.#o;
    const nodes = client.typed('nodes');
    const node = await client.get(nodes, undefined, nodeName);
    if (!this.#runtime && node.spec?.podCIDR) await this.#useCidr(node.spec.podCIDR);
    const fresh = nodeObject({
      name: nodeName,
      nodeIP: this.#o.nodeIP,
      port: this.#o.port,
      ready: this.#runtime !== undefined,
      lastHeartbeat: timestamp(),
    });
    const previous = node.status?.conditions ?? [];
    const conditions = fresh.status.conditions.map((c) => {
      const old = previous.find((p) => p.type === c.type);
      return old && old.status === c.status ? { ...c, lastTransitionTime: old.lastTransitionTime } : c;
    });
    await client.update(
      nodes,
      { ...node, status: { ...node.status, ...fresh.status, conditions } },
      { subresource: 'status' },
    );
    const leases = client.typed('leases');
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
    if (this.#stopped) return;
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
            pod: keyOf(pod),
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
        .catch((error) => this.#o.logger.error('Error syncing pod', { pod: keyOf(pod), error }))
        .finally(() => this.#busy.delete(key));
    }
  }

  #sandboxConfig(pod: PodObject): PodSandboxConfig {
    const { config } = this.#dns(pod);
    const spec = pod.spec;
    return {
      metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace ?? 'default', uid: pod.metadata.uid },
      netns: `${this.#o.netnsPrefix}-${pod.metadata.uid.replace(/-/g, '').slice(0, 12)}`,
      hostname: spec?.hostname ?? pod.metadata.name,
      dnsConfig: config,
      hostNetwork: spec?.hostNetwork === true,
      hostPID: spec?.hostPID === true,
      hostIPC: spec?.hostIPC === true,
      hostIP: this.#o.nodeIP,
    };
  }

  #dns(pod: PodObject): ReturnType<typeof podDnsConfig> {
    return podDnsConfig(pod, {
      clusterDNS: this.#o.clusterDNS ?? [],
      clusterDomain: this.#o.clusterDomain ?? '',
      host: this.#o.hostDns ?? { servers: [], searches: [], options: [] },
    });
  }

  #state(uid: string): PodRuntimeState {
    let state = this.#states.get(uid);
    if (!state) {
      state = { backOff: {}, lastTermination: {}, firstSeenExited: {}, lastError: {}, backOffEvent: {} };
      this.#states.set(uid, state);
    }
    return state;
  }

  async #syncPod(pod: PodObject): Promise<void> {
    const runtime = this.#runtime!;
    const uid = pod.metadata.uid;
    const state = this.#state(uid);
    if (pod.metadata.deletionTimestamp) return this.#terminate(pod);
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const sandboxConfig = this.#sandboxConfig(pod);
    const sandboxId = await runtime.runPodSandbox(sandboxConfig);
    state.sandboxId = sandboxId;
    const podIP = (await runtime.podSandboxStatus(sandboxId))?.ip ?? '';
    const existing = await runtime.listContainers({ podSandboxId: sandboxId });
    const statuses: ApiContainerStatus[] = [];
    for (const c of pod.spec?.containers ?? []) {
      const image = c.image ?? '';
      const program = lookupImage(image, this.#o.images);
      if (!program) {
        statuses.push(
          apiContainerStatus({
            name: c.name,
            image,
            restartCount: 0,
            state: {
              waiting: {
                reason: 'ErrImagePull',
                message: `tskube's process runtime has no program for image "${image}": map it in the kubelet's --image-map file (JSON: {"<image regexp>": {"entrypoint": [...], "cmd": [...]}})`,
              },
            },
          }),
        );
        continue;
      }
      const latest = latestOf(existing, c.name);
      const now = this.#clock.now();
      const observed = this.#observe(latest, state, now);
      const restartCount = latest?.metadata.attempt ?? 0;
      const decision = decideContainer({
        policy: (pod.spec?.restartPolicy ?? 'Always') as RestartPolicy,
        observed,
        backOff: state.backOff[c.name],
        now,
        container: c.name,
        pod: { name: pod.metadata.name, namespace: pod.metadata.namespace ?? 'default', uid },
      });
      const lastExit =
        latest && observed.state === 'exited'
          ? { terminated: terminatedState(this.#exitOf(latest, observed)) }
          : undefined;
      if (decision.action === 'done') {
        statuses.push(apiContainerStatus({ name: c.name, image, restartCount, state: lastExit ?? {} }));
        continue;
      }
      if (decision.action === 'wait') {
        // Upstream records a BackOff Event on every sync (aggregated by its recorder); one per exited run here.
        const run = `${latest?.id}#${restartCount}`;
        if (state.backOffEvent[c.name] !== run) {
          state.backOffEvent[c.name] = run;
          this.#events.event(
            pod,
            'Warning',
            'BackOff',
            `Back-off restarting failed container ${c.name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${uid})`,
          );
        }
        statuses.push(
          apiContainerStatus({
            name: c.name,
            image,
            restartCount,
            state: { waiting: { reason: 'CrashLoopBackOff', message: decision.message } },
            lastState: lastExit,
          }),
        );
        continue;
      }
      let current = latest;
      if (decision.action === 'start') {
        const attempt = latest ? restartCount + 1 : 0;
        const started = await this.#startContainer(pod, c, program, sandboxId, sandboxConfig, podIP, attempt);
        if ('reason' in started) {
          statuses.push(
            apiContainerStatus({
              name: c.name,
              image,
              restartCount,
              state: { waiting: { reason: started.reason, message: started.message } },
            }),
          );
          continue;
        }
        current = started.status;
        if (decision.backOff) state.backOff[c.name] = decision.backOff;
        if (lastExit) state.lastTermination[c.name] = lastExit;
      }
      const { ready, started } = await this.#probeContainer(pod, c, current!, sandboxConfig, podIP);
      statuses.push(
        apiContainerStatus({
          name: c.name,
          image,
          containerID: `tskube://${uid}/${c.name}`,
          ready,
          started,
          restartCount: current!.metadata.attempt,
          state: { running: { startedAt: timestamp(current!.startedAt ?? now) } },
          lastState: state.lastTermination[c.name],
        }),
      );
    }
    await this.#report(pod, podIP, statuses);
  }

  /** #observe is the runtime's latest container of a name as the restart rules see it. */
  #observe(latest: ContainerStatus | undefined, state: PodRuntimeState, now: number): Observed {
    if (!latest) return { state: 'none' };
    switch (latest.state) {
      case 'CONTAINER_RUNNING':
        return { state: 'running', startedAt: latest.startedAt ?? now };
      case 'CONTAINER_CREATED':
        return { state: 'created' };
      case 'CONTAINER_UNKNOWN':
        return { state: 'unknown' };
      case 'CONTAINER_EXITED': {
        // A runtime that adopted the process after a kubelet restart may know neither the end nor the code.
        const key = `${latest.id}#${latest.metadata.attempt}`;
        const finishedAt = latest.finishedAt ?? (state.firstSeenExited[key] ??= now);
        return { state: 'exited', exitCode: latest.exitCode ?? 0, finishedAt };
      }
    }
  }

  #exitOf(latest: ContainerStatus, observed: Observed & { state: 'exited' }) {
    return {
      exitCode: observed.exitCode,
      startedAt: latest.startedAt === undefined ? undefined : timestamp(latest.startedAt),
      finishedAt: timestamp(observed.finishedAt),
    };
  }

  /** #startContainer creates and starts one container, or says why it cannot start yet. */
  async #startContainer(
    pod: PodObject,
    c: Container,
    program: ImageProgram,
    sandboxId: string,
    sandboxConfig: PodSandboxConfig,
    podIP: string,
    attempt: number,
  ): Promise<{ status: ContainerStatus } | { reason: string; message: string }> {
    const runtime = this.#runtime!;
    const state = this.#state(pod.metadata.uid);
    const namespace = pod.metadata.namespace ?? 'default';
    const base: Record<string, string> = {
      ...(program.env ?? {}),
      HOSTNAME: pod.spec?.hostNetwork ? hostname() : pod.metadata.name,
      ...serviceEnvironment(this.#services.list(), namespace, pod.spec?.enableServiceLinks),
    };
    const limits = c.resources?.limits ?? {};
    const setup = await this.#containerSetup(pod, c, program, base, podIP);
    if ('reason' in setup) {
      if (state.lastError[c.name] !== setup.message)
        this.#events.event(
          pod,
          'Warning',
          setup.reason === 'CreateContainerConfigError' ? 'Failed' : 'FailedMount',
          setup.reason === 'CreateContainerConfigError' ? `Error: ${setup.message}` : setup.message,
        );
      state.lastError[c.name] = setup.message;
      return setup;
    }
    const { security, mounts, env } = setup;
    const id = await runtime.createContainer(
      sandboxId,
      {
        metadata: { name: c.name, attempt },
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
      },
      sandboxConfig,
    );
    await runtime.startContainer(id);
    this.#events.event(pod, 'Normal', 'Started', `Started container ${c.name}`);
    const dnsWarning = this.#dns(pod).warning;
    if (dnsWarning) this.#events.event(pod, 'Warning', dnsWarning.reason, dnsWarning.message);
    const status = await runtime.containerStatus(id);
    if (!status) throw new Error(`container ${id} is gone right after its start`);
    return { status };
  }

  /**
   * #probeContainer starts the container's probe workers (once) and reads their results for this run of the
   * container: a failed startup or liveness probe stops it (it is then restarted per restartPolicy); it is ready
   * once started and its readiness probe (if any) has succeeded.
   */
  async #probeContainer(
    pod: PodObject,
    c: Container,
    container: ContainerStatus,
    sandbox: PodSandboxConfig,
    podIP: string,
  ): Promise<{ ready: boolean; started: boolean }> {
    const uid = pod.metadata.uid;
    const runtime = this.#runtime!;
    const state = this.#states.get(uid);
    const instanceOf = (s: ContainerStatus) => `${s.id}#${s.metadata.attempt}#${s.startedAt ?? ''}`;
    const target = async (): Promise<ProbeTarget | undefined> => {
      if (!state || this.#states.get(uid) !== state) return undefined;
      const now = latestOf(await runtime.listContainers({ podSandboxId: container.podSandboxId }), c.name);
      if (!now) return undefined;
      const run = instanceOf(now);
      return {
        running: now.state === 'CONTAINER_RUNNING',
        instance: run,
        startedAtMs: now.startedAt ?? this.#clock.now(),
        started: !c.startupProbe || this.#prober.result(uid, c.name, 'startup', run) === 'success',
      };
    };
    const context = {
      netns: sandbox.hostNetwork ? undefined : sandbox.netns,
      podIP,
      ports: c.ports ?? [],
      exec: async (command: string[], timeoutMs: number) => {
        const { exitCode, stdout, stderr } = await runtime.execSync(container.id, command, timeoutMs);
        return { ok: exitCode === 0, output: stdout + stderr };
      },
    };
    const run = instanceOf(container);
    const probes = { startup: c.startupProbe, liveness: c.livenessProbe, readiness: c.readinessProbe };
    for (const type of ['startup', 'liveness', 'readiness'] as const) {
      const probe = probes[type];
      if (probe)
        this.#prober.track(
          { podUid: uid, container: c.name, type, probe, target, check: () => runProbe(probe, context) },
          run,
        );
    }
    const started = !c.startupProbe || this.#prober.result(uid, c.name, 'startup', run) === 'success';
    for (const type of ['startup', 'liveness'] as const) {
      if (!probes[type] || this.#prober.result(uid, c.name, type, run) !== 'failure') continue;
      this.#events.event(pod, 'Normal', 'Killing', `Container ${c.name} failed ${type} probe, will be restarted`);
      await runtime.stopContainer(container.id, pod.spec?.terminationGracePeriodSeconds ?? 30);
      return { ready: false, started };
    }
    return {
      ready: started && (!c.readinessProbe || this.#prober.result(uid, c.name, 'readiness', run) === 'success'),
      started,
    };
  }

  async #report(pod: PodObject, podIP: string, statuses: ApiContainerStatus[]): Promise<void> {
    const allRunning = statuses.length > 0 && statuses.every((s) => s.state?.running);
    const ready = allRunning && statuses.every((s) => s.ready);
    const phase = podPhase((pod.spec?.restartPolicy ?? 'Always') as RestartPolicy, statuses);
    const previous = pod.status?.conditions ?? [];
    const condition = (type: string, ok: boolean): PodCondition => {
      const status = ok ? 'True' : 'False';
      const old = previous.find((c) => c.type === type);
      return {
        type,
        status,
        // biome-ignore lint/suspicious/noExplicitAny: upstream sends lastProbeTime: null, which kubernetes-types has no place for
        lastProbeTime: null as any,
        lastTransitionTime: old?.status === status ? old.lastTransitionTime : timestamp(),
      };
    };
    const status: Pod['status'] = {
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
    const strip = (s: Pod['status']) =>
      JSON.stringify({ ...s, conditions: (s?.conditions ?? []).map((c) => [c.type, c.status]) });
    if (strip(status) === strip(pod.status)) return;
    const pods = this.#o.client.typed('pods');
    await this.#o.client.update(pods, { ...pod, status }, { subresource: 'status' }).catch((error) => {
      if (!isStatusError(error, 409) && !isStatusError(error, 404)) throw error;
    });
  }

  /**
   * #killPod stops a pod's containers (TERM, then KILL after graceSeconds) and removes its sandbox and files, as
   * upstream's killPod: StopContainer for each, then StopPodSandbox and RemovePodSandbox.
   */
  async #killPod(pod: PodObject, graceSeconds: number): Promise<void> {
    const runtime = this.#runtime!;
    const uid = pod.metadata.uid;
    const sandboxId = await this.#sandboxId(uid);
    if (sandboxId !== undefined) {
      const containers = await runtime.listContainers({ podSandboxId: sandboxId });
      await Promise.all(
        containers.filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => runtime.stopContainer(c.id, graceSeconds)),
      );
      await runtime.stopPodSandbox(sandboxId);
      await runtime.removePodSandbox(sandboxId);
    }
    rmSync(join(this.#o.rootDir, 'pods', uid), { recursive: true, force: true });
    this.#states.delete(uid);
    this.#prober.removePod(uid);
  }

  /**
   * #removeGone stops and removes the sandbox of a pod deleted from the API server without this kubelet terminating
   * it first: a terminal pod (deleted at once) or a force-deleted one. Its containers get a 1 s grace period, as
   * upstream's kubelet gives orphaned pods.
   */
  async #removeGone(pod: PodObject): Promise<void> {
    const uid = pod.metadata.uid;
    if (!this.#states.has(uid) || this.#pods.list().some((p) => p.metadata.uid === uid)) return;
    await this.#killPod(pod, 1);
    this.#o.logger.info('Removed the sandbox of a deleted pod', {
      pod: keyOf(pod),
      podUID: uid,
    });
  }

  async #terminate(pod: PodObject): Promise<void> {
    const uid = pod.metadata.uid;
    const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    await this.#killPod(pod, grace);
    this.#tokens.forget(uid);
    await this.#o.client
      .delete(this.#o.client.typed('pods'), pod.metadata.namespace, pod.metadata.name, {
        gracePeriodSeconds: 0,
        preconditions: { uid },
      })
      .catch((error) => {
        if (!isStatusError(error, 404) && !isStatusError(error, 409)) throw error;
      });
  }
}

/** latestOf is the newest attempt of a container name among a sandbox's containers. */
function latestOf(containers: readonly ContainerStatus[], name: string): ContainerStatus | undefined {
  let latest: ContainerStatus | undefined;
  for (const c of containers)
    if (c.metadata.name === name && (!latest || c.metadata.attempt >= latest.metadata.attempt)) latest = c;
  return latest;
}

/** imageTable is the default table extended by an admin's --image-map file. */
export function imageTable(file: string | undefined): ImageTable {
  if (!file) return DEFAULT_IMAGES;
  return [...parseImageMap(readFileSync(file, 'utf8')), ...DEFAULT_IMAGES];
}
