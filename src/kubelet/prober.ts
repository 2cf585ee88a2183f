import type { Probe } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../log/klog.ts';
import { type Clock, realClock } from '../util/clock.ts';
import type { ProbeOutcome } from './probe-check.ts';

/**
 * The kubelet's prober manager, shaped like upstream's (pkg/kubelet/prober): one worker per container and probe
 * type, ticking every periodSeconds on its own timer, so a slow probe never holds up pod syncs. A worker publishes
 * a result only after failureThreshold (or successThreshold) results in a row; the sync loop reads the results.
 */
export type ProbeType = 'liveness' | 'readiness' | 'startup';
export type ProbeResult = 'success' | 'failure' | 'unknown';

/** WorkerState is one worker's counters, for one run (instance) of its container. */
export interface WorkerState {
  instance: string;
  /** The published result. */
  result: ProbeResult;
  lastOutcome?: boolean;
  /** How many times in a row lastOutcome was seen. */
  resultRun: number;
  /** After a liveness or startup failure, the worker waits for the container to be restarted. */
  onHold: boolean;
}

/** initialResult is what a probe reports before it has run: not ready, alive, not yet started (upstream's). */
export function initialResult(type: ProbeType): ProbeResult {
  return type === 'readiness' ? 'failure' : type === 'liveness' ? 'success' : 'unknown';
}

/** freshState is a worker's state for a new run of its container. */
export function freshState(type: ProbeType, instance: string): WorkerState {
  return { instance, result: initialResult(type), resultRun: 0, onHold: false };
}

/**
 * recordOutcome applies one probe outcome with upstream's thresholds: the published result changes only after
 * failureThreshold failures (default 3) or successThreshold successes (default 1) in a row.
 */
export function recordOutcome(state: WorkerState, ok: boolean, probe: Probe, type: ProbeType): WorkerState {
  const next = { ...state };
  if (next.lastOutcome === ok) next.resultRun++;
  else {
    next.lastOutcome = ok;
    next.resultRun = 1;
  }
  const threshold = ok ? (probe.successThreshold ?? 1) : (probe.failureThreshold ?? 3);
  if (next.resultRun < threshold) return next;
  next.result = ok ? 'success' : 'failure';
  if (!ok && type !== 'readiness') {
    next.onHold = true;
    next.resultRun = 0;
  }
  return next;
}

/** ProbeTarget is the container as a worker sees it at each tick. */
export interface ProbeTarget {
  running: boolean;
  /** Changes every time the container is (re)started. */
  instance: string;
  startedAtMs: number;
  /** The startup probe has succeeded (or there is none). */
  started: boolean;
}

export interface ProbeWorkerSpec {
  podUid: string;
  container: string;
  type: ProbeType;
  probe: Probe;
  /** The container now, or undefined once the pod is gone (the worker stops). */
  target: () => Promise<ProbeTarget | undefined> | ProbeTarget | undefined;
  check: () => Promise<ProbeOutcome>;
}

export interface ProbeManagerOptions {
  logger: Logger;
  /** Time for the workers' periods and initial delays (default: the real clock). */
  clock?: Clock;
  /** Called when a published result changes, so the pod's status is synced at once. */
  onChange: (podUid: string) => void;
  /** Called on every failed probe (upstream records an `Unhealthy` Event). */
  onFailure: (podUid: string, container: string, type: ProbeType, output: string) => void;
}

interface Worker {
  spec: ProbeWorkerSpec;
  state: WorkerState;
  cancel?: () => void;
  stopped: boolean;
}

/** ProbeManager runs the workers and answers which result each probe has for a run of its container. */
export class ProbeManager {
  #o: ProbeManagerOptions;
  #clock: Clock;
  #workers = new Map<string, Worker>();

  constructor(options: ProbeManagerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? realClock;
  }

  /** track starts a worker for a container's probe unless one runs already. */
  track(spec: ProbeWorkerSpec, instance: string): void {
    const key = `${spec.podUid}/${spec.container}/${spec.type}`;
    if (this.#workers.has(key)) return;
    const worker: Worker = { spec, state: freshState(spec.type, instance), stopped: false };
    this.#workers.set(key, worker);
    void this.#tick(key, worker);
  }

  /** result is a probe's published result for one run of the container (the initial one for another run). */
  result(podUid: string, container: string, type: ProbeType, instance: string): ProbeResult {
    const worker = this.#workers.get(`${podUid}/${container}/${type}`);
    return worker && worker.state.instance === instance ? worker.state.result : initialResult(type);
  }

  /** removePod stops a pod's workers. */
  removePod(podUid: string): void {
    for (const [key, worker] of this.#workers) if (worker.spec.podUid === podUid) this.#stop(key, worker);
  }

  stop(): void {
    for (const [key, worker] of this.#workers) this.#stop(key, worker);
  }

  #stop(key: string, worker: Worker): void {
    worker.stopped = true;
    worker.cancel?.();
    this.#workers.delete(key);
  }

  async #tick(key: string, worker: Worker): Promise<void> {
    if (worker.stopped) return;
    const { spec } = worker;
    try {
      const target = await spec.target();
      if (!target) return this.#stop(key, worker);
      await this.#probeOnce(worker, target);
    } catch (error) {
      // A prober error (not a probe failure) throws the result away, as upstream does.
      this.#o.logger.error('Probe errored', {
        pod: spec.podUid,
        container: spec.container,
        probeType: spec.type,
        error,
      });
    }
    if (!worker.stopped)
      worker.cancel = this.#clock.setTimer(
        () => void this.#tick(key, worker),
        Math.max(1, spec.probe.periodSeconds ?? 10) * 1000,
      );
  }

  async #probeOnce(worker: Worker, target: ProbeTarget): Promise<void> {
    const { spec } = worker;
    if (worker.state.instance !== target.instance) worker.state = freshState(spec.type, target.instance);
    if (!target.running || worker.state.onHold) return;
    // Liveness and readiness wait for the startup probe; the startup probe stops once it has succeeded.
    if (spec.type === 'startup' ? target.started : !target.started) return;
    if (this.#clock.now() - target.startedAtMs < (spec.probe.initialDelaySeconds ?? 0) * 1000) return;
    const outcome = await spec.check();
    if (worker.stopped || worker.state.instance !== target.instance) return;
    const before = worker.state.result;
    worker.state = recordOutcome(worker.state, outcome.ok, spec.probe, spec.type);
    if (!outcome.ok) this.#o.onFailure(spec.podUid, spec.container, spec.type, outcome.output);
    if (worker.state.result !== before) this.#o.onChange(spec.podUid);
  }
}
