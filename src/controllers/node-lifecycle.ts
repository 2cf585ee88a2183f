import { isStatusError } from '../api/status.ts';
import type { ControllerContext } from './context.ts';
import { timestamp } from '../api/time.ts';

/**
 * NodeLifecycleController marks a Node whose kubelet stopped reporting (neither its Lease nor its status renewed
 * within the grace period) `Ready=Unknown`, and its pods not ready, so their endpoints leave the Services; the
 * kubelet sets them back when it returns.
 */
export class NodeLifecycleController {
  #ctx: ControllerContext;
  #graceMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(ctx: ControllerContext, options: { gracePeriodMs: number }) {
    this.#ctx = ctx;
    this.#graceMs = options.gracePeriodMs;
  }

  start(): void {
    this.#timer = setInterval(
      () => void this.#check().catch((error) => this.#ctx.logger.error('Node lifecycle check failed', { error })),
      Math.min(5000, this.#graceMs / 4),
    );
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #check(): Promise<void> {
    const { client, informers } = this.#ctx;
    const now = Date.now();
    for (const node of informers.nodes.list()) {
      const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
      if (!ready || ready.status === 'Unknown') continue;
      const lease = informers.leases.get(`kube-node-lease/${node.metadata.name}`);
      const heard = Math.max(
        Date.parse(lease?.spec?.renewTime ?? '') || 0,
        Date.parse(ready.lastHeartbeatTime ?? '') || 0,
        Date.parse(node.metadata.creationTimestamp) || 0,
      );
      if (now - heard < this.#graceMs) continue;
      const stamp = timestamp(now);
      const conditions = (node.status?.conditions ?? []).map((c) =>
        c.type === 'Ready'
          ? {
              ...c,
              status: 'Unknown',
              reason: 'NodeStatusUnknown',
              message: 'Kubelet stopped posting node status.',
              lastTransitionTime: stamp,
            }
          : c,
      );
      try {
        await client.update(
          client.typed('nodes'),
          { ...node, status: { ...node.status, conditions } },
          { subresource: 'status' },
        );
      } catch (error) {
        if (isStatusError(error, 409) || isStatusError(error, 404)) continue;
        throw error;
      }
      this.#ctx.events.event(node, 'Normal', 'NodeNotReady', `Node ${node.metadata.name} status is now: NodeNotReady`);
      for (const pod of informers.pods.list()) {
        if (pod.spec?.nodeName !== node.metadata.name) continue;
        const podConditions = (pod.status?.conditions ?? []).map((c) =>
          c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: stamp } : c,
        );
        await client
          .update(
            client.typed('pods'),
            { ...pod, status: { ...pod.status, conditions: podConditions } },
            { subresource: 'status' },
          )
          .catch((error) => this.#ctx.logger.v(2).info('Cannot mark pod not ready', { pod: pod.metadata.name, error }));
      }
    }
  }
}
