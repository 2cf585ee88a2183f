import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../api/objects.ts';
import { isStatusError } from '../api/status.ts';
import { Informer, keyOf, type RestClient } from '../client/client.ts';
import type { Logger } from '../log/klog.ts';
import { EventRecorder } from '../client/event-recorder.ts';
import { failedSchedulingMessage, filterReason, score, type NodeInfo } from './filters.ts';

/**
 * Scheduler binds every pod without a node (and with the default scheduler name) through pods/binding: filter the
 * nodes, score the rest, bind to the best. Pods that fit nowhere stay Pending with a FailedScheduling event and are
 * retried when nodes or pods change.
 */
export class Scheduler {
  #client: RestClient;
  #logger: Logger;
  #events: EventRecorder;
  #pods: Informer<Stored<Pod>>;
  #nodes: Informer<Stored<Node>>;
  #pending = new Set<string>();
  #assumed = new Map<string, string>();
  #running = false;
  #again = false;

  constructor(client: RestClient, logger: Logger) {
    this.#client = client;
    this.#logger = logger;
    this.#events = new EventRecorder(client, 'default-scheduler', logger);
    const kick = () => this.#kick();
    this.#pods = new Informer(client, client.typed('pods'), { onChange: kick }, { logger });
    this.#nodes = new Informer(client, client.typed('nodes'), { onChange: kick }, { logger });
  }

  async start(): Promise<void> {
    this.#pods.start();
    this.#nodes.start();
    await Promise.all([this.#pods.waitForSync(), this.#nodes.waitForSync()]);
    this.#kick();
  }

  async stop(): Promise<void> {
    await Promise.all([this.#pods.stop(), this.#nodes.stop()]);
  }

  #kick(): void {
    if (!this.#pods.hasSynced() || !this.#nodes.hasSynced()) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    void this.#scheduleAll().finally(() => {
      this.#running = false;
      if (this.#again) {
        this.#again = false;
        this.#kick();
      }
    });
  }

  async #scheduleAll(): Promise<void> {
    const pods = this.#pods.list();
    const nodes = this.#nodes.list();
    const byNode = new Map<string, NodeInfo>(nodes.map((n) => [n.metadata.name, { node: n, pods: [] }]));
    for (const p of pods) {
      const nodeName = p.spec?.nodeName ?? this.#assumed.get(p.metadata.uid);
      if (nodeName && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed')
        byNode.get(nodeName)?.pods.push(p);
    }
    for (const [uid] of this.#assumed)
      if (!pods.some((p) => p.metadata.uid === uid && !p.spec?.nodeName)) this.#assumed.delete(uid);
    const queue = pods
      .filter(
        (p) =>
          !p.spec?.nodeName &&
          !this.#assumed.has(p.metadata.uid) &&
          !p.metadata.deletionTimestamp &&
          (p.spec?.schedulerName ?? 'default-scheduler') === 'default-scheduler',
      )
      .sort(
        (a, b) =>
          Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp) ||
          (a.metadata.name < b.metadata.name ? -1 : 1),
      );
    const binds: Promise<void>[] = [];
    for (const pod of queue) {
      const reasons: string[] = [];
      let best: NodeInfo | undefined;
      let bestScore = -Infinity;
      for (const info of [...byNode.values()].sort((a, b) => (a.node.metadata.name < b.node.metadata.name ? -1 : 1))) {
        const reason = filterReason(pod, info);
        if (reason) {
          reasons.push(reason);
          continue;
        }
        const s = score(pod, info);
        if (s > bestScore) {
          bestScore = s;
          best = info;
        }
      }
      const key = keyOf(pod);
      if (!best) {
        if (!this.#pending.has(key)) {
          this.#pending.add(key);
          const message =
            nodes.length === 0 ? 'no nodes available to schedule pods' : failedSchedulingMessage(nodes.length, reasons);
          this.#events.event(pod, 'Warning', 'FailedScheduling', message);
          this.#logger.info('Unable to schedule pod; no fit; waiting', { pod: key, err: message });
        }
        continue;
      }
      this.#pending.delete(key);
      // Assume the pod is on the node at once (later decisions count it), and bind in the background.
      const node = best.node.metadata.name;
      this.#assumed.set(pod.metadata.uid, node);
      best.pods.push(pod);
      binds.push(this.#bind(pod, node, key));
    }
    await Promise.all(binds);
  }

  async #bind(pod: Stored<Pod>, node: string, key: string): Promise<void> {
    try {
      await this.#client.create(
        this.#client.typed('pods'),
        pod.metadata.namespace,
        {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: pod.metadata.name },
          target: { apiVersion: 'v1', kind: 'Node', name: node },
        },
        { name: pod.metadata.name, subresource: 'binding' },
      );
      this.#events.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${key} to ${node}`);
      this.#logger.v(2).info('Successfully bound pod to node', { pod: key, node });
    } catch (error) {
      this.#assumed.delete(pod.metadata.uid);
      if (!isStatusError(error, 409) && !isStatusError(error, 404))
        this.#logger.error('Failed to bind pod', { pod: key, error });
    }
  }
}
