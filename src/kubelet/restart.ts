import type { ContainerState, ContainerStateTerminated, ContainerStatus } from 'kubernetes-types/core/v1.js';

/**
 * What the kubelet does with each container of a pod, as upstream decides it (kuberuntime_manager.go
 * computePodActions, ShouldContainerBeRestarted, doBackOff; flowcontrol.Backoff): pure functions of the pod's
 * restartPolicy, what the runtime says of the container, its back-off entry and the time.
 */

/** Upstream's crash-loop back-off: 10 s, doubled after each restart up to 5 minutes. */
export const BACKOFF_INITIAL_MS = 10_000;
export const BACKOFF_MAX_MS = 300_000;

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** Observed is the container as the runtime reports it (its latest attempt). */
export type Observed =
  | { state: 'none' }
  | { state: 'created' | 'unknown' }
  | { state: 'running'; startedAt: number }
  | { state: 'exited'; exitCode: number; finishedAt: number };

/** BackOff is one container's back-off entry (upstream keys it by pod and container). */
export interface BackOff {
  delayMs: number;
  /** When the entry was last moved on (a restart). */
  lastUpdateMs: number;
}

export type ContainerAction =
  /** Start the container (again); backOff is its entry from now on. */
  | { action: 'start'; backOff: BackOff | undefined }
  /** Leave it running. */
  | { action: 'keep' }
  /** Exited and in back-off: wait (CrashLoopBackOff, with upstream's message). */
  | { action: 'wait'; delayMs: number; message: string }
  /** Exited and not to be restarted (restartPolicy Never, or OnFailure after success). */
  | { action: 'done' };

/** shouldRestart is upstream's ShouldContainerBeRestarted for a pod not being deleted. */
export function shouldRestart(policy: RestartPolicy, observed: Observed): boolean {
  switch (observed.state) {
    case 'none':
    case 'created':
    case 'unknown':
      return true;
    case 'running':
      return false;
    case 'exited':
      return policy === 'Always' || (policy === 'OnFailure' && observed.exitCode !== 0);
  }
}

/** inBackOff is flowcontrol.Backoff's IsInBackOffSince: the entry's delay has not passed since the container exited. */
export function inBackOff(entry: BackOff | undefined, finishedAt: number, now: number): boolean {
  return entry !== undefined && now - finishedAt < entry.delayMs;
}

/**
 * nextBackOff is flowcontrol.Backoff's Next (without jitter): a first entry (or one whose container then ran for
 * more than twice the maximum, so counts as stable again) starts at 10 s; otherwise the delay doubles, up to 5 min.
 */
export function nextBackOff(entry: BackOff | undefined, finishedAt: number, now: number): BackOff {
  if (!entry || finishedAt - entry.lastUpdateMs > 2 * BACKOFF_MAX_MS)
    return { delayMs: BACKOFF_INITIAL_MS, lastUpdateMs: now };
  return { delayMs: Math.min(entry.delayMs * 2, BACKOFF_MAX_MS), lastUpdateMs: now };
}

/** PodRef names the pod in messages as upstream's format.Pod: `name_namespace(uid)`. */
export interface PodRef {
  name: string;
  namespace: string;
  uid: string;
}

/** decideContainer is what to do with one container now. */
export function decideContainer(o: {
  policy: RestartPolicy;
  observed: Observed;
  backOff: BackOff | undefined;
  now: number;
  container: string;
  pod: PodRef;
}): ContainerAction {
  const { observed } = o;
  if (observed.state === 'running') return { action: 'keep' };
  if (!shouldRestart(o.policy, observed)) return { action: 'done' };
  if (observed.state !== 'exited') return { action: 'start', backOff: o.backOff };
  if (inBackOff(o.backOff, observed.finishedAt, o.now)) {
    const delayMs = o.backOff!.delayMs;
    return { action: 'wait', delayMs, message: crashLoopMessage(delayMs, o.container, o.pod) };
  }
  return { action: 'start', backOff: nextBackOff(o.backOff, observed.finishedAt, o.now) };
}

/** crashLoopMessage is upstream's: `back-off 20s restarting failed container=app pod=web_default(<uid>)`. */
export function crashLoopMessage(delayMs: number, container: string, pod: PodRef): string {
  return `back-off ${goDuration(delayMs)} restarting failed container=${container} pod=${pod.name}_${pod.namespace}(${pod.uid})`;
}

/** goDuration formats whole seconds as Go's time.Duration does: 10s, 1m20s, 5m0s, 1h0m0s. */
export function goDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** terminatedState is how an exited container reads in the API: Completed for exit 0, Error otherwise. */
export function terminatedState(o: {
  exitCode: number;
  startedAt?: string;
  finishedAt: string;
  containerID?: string;
}): ContainerStateTerminated {
  return {
    exitCode: o.exitCode,
    reason: o.exitCode === 0 ? 'Completed' : 'Error',
    ...(o.startedAt ? { startedAt: o.startedAt } : {}),
    finishedAt: o.finishedAt,
    ...(o.containerID ? { containerID: o.containerID } : {}),
  };
}

/**
 * apiContainerStatus is a container's entry in the pod's status: its state (waiting, running or terminated), the
 * previous run's termination as lastState, and the restart count; a container not running is neither ready nor
 * started.
 */
export function apiContainerStatus(o: {
  name: string;
  image: string;
  state: ContainerState;
  lastState?: ContainerState;
  restartCount: number;
  ready?: boolean;
  started?: boolean;
  containerID?: string;
}): ContainerStatus {
  const running = o.state.running !== undefined;
  return {
    name: o.name,
    image: o.image,
    imageID: running ? `tskube-process://${o.image}` : '',
    ...(running && o.containerID ? { containerID: o.containerID } : {}),
    ready: running && o.ready === true,
    restartCount: o.restartCount,
    started: running && o.started === true,
    state: o.state,
    ...(o.lastState ? { lastState: o.lastState } : {}),
  };
}

/**
 * podPhase is upstream's getPhase for a pod's regular containers (kubelet_pods.go): Pending while any container
 * waits to start for the first time; Running once all have started and one runs, or while all have stopped and
 * will restart (Always; OnFailure after a failure); Succeeded or Failed once all have stopped for good.
 */
export function podPhase(
  policy: RestartPolicy,
  statuses: readonly ContainerStatus[],
  containers: number = statuses.length,
): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  let unknown = containers - statuses.length;
  for (const s of statuses) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}
