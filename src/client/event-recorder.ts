import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../api/objects.ts';
import type { RestClient } from './rest-client.ts';
import type { Logger } from '../log/klog.ts';
import { timestamp } from '../api/time.ts';

/**
 * EventRecorder writes core/v1 Events the way upstream components do (reason, message, source component, counts),
 * so `kubectl describe` shows them. Failures are logged, never fatal.
 */
export class EventRecorder {
  #client: RestClient;
  #component: string;
  #logger: Logger;

  constructor(client: RestClient, component: string, logger: Logger) {
    this.#client = client;
    this.#component = component;
    this.#logger = logger;
  }

  event(object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const now = timestamp();
    const namespace = object.metadata?.namespace ?? 'default';
    const body = {
      metadata: { name: `${object.metadata?.name}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: {
        kind: object.kind,
        namespace: object.metadata?.namespace,
        name: object.metadata?.name,
        uid: object.metadata?.uid,
        apiVersion: object.apiVersion,
        resourceVersion: object.metadata?.resourceVersion,
      },
      reason,
      message,
      type,
      source: { component: this.#component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: this.#component,
      reportingInstance: '',
    };
    this.#client
      .create(this.#client.typed('events'), namespace, body)
      .catch((error) => this.#logger.v(2).info('Failed to write event', { reason, error }));
  }
}
