/**
 * What the controller tests share: Node bodies as a kubelet registers them, and a played kubelet that finishes pod
 * deletions and writes each bound pod the status the test decides (no real containers run).
 */
import type { ContainerState, Node, NodeSpec, Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../../src/api/objects.ts';
import { timestamp } from '../../src/api/time.ts';
import { Informer, type RestClient } from '../../src/client/client.ts';

/** readyNode is a Node as its kubelet registers it: Ready now, with this capacity, and its InternalIP if given. */
export function readyNode(
  name: string,
  options: { address?: string; cpu: string; memory: string; labels?: Record<string, string>; spec?: NodeSpec },
): Node {
  const resources = { cpu: options.cpu, memory: options.memory, pods: '110' };
  return {
    metadata: { name, ...(options.labels ? { labels: options.labels } : {}) },
    ...(options.spec ? { spec: options.spec } : {}),
    status: {
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: timestamp() }],
      allocatable: resources,
      capacity: { ...resources },
      ...(options.address ? { addresses: [{ type: 'InternalIP', address: options.address }] } : {}),
    },
  };
}

/** PlayedContainer is the one container's outcome a played kubelet reports. */
export interface PlayedContainer {
  phase: 'Running' | 'Succeeded' | 'Failed';
  podIP: string;
  hostIP?: string;
  image: string;
  /** The container's state (default: running since now). */
  state?: ContainerState;
}

/** playedStatus is the pod status a kubelet writes for a pod whose one container is in that state. */
export function playedStatus(pod: Stored<Pod>, played: PlayedContainer, now = timestamp()): PodStatus {
  const running = played.phase === 'Running';
  return {
    ...pod.status,
    phase: played.phase,
    podIP: played.podIP,
    ...(played.hostIP ? { podIPs: [{ ip: played.podIP }], hostIP: played.hostIP } : {}),
    startTime: now,
    conditions: [{ type: 'Ready', status: running ? 'True' : 'False', lastTransitionTime: now }],
    containerStatuses: [
      {
        name: pod.spec?.containers[0]?.name ?? '',
        ready: running,
        restartCount: 0,
        image: played.image,
        imageID: '',
        started: running,
        state: played.state ?? { running: { startedAt: now } },
      },
    ],
  };
}

/**
 * playKubelet plays the kubelet of every node: a bound pod being deleted is removed (grace 0), any other bound pod
 * gets the outcome play decides (undefined: leave it as it is).
 */
export function playKubelet(
  client: RestClient,
  play: (pod: Stored<Pod>) => Promise<PlayedContainer | undefined> | PlayedContainer | undefined,
): Informer<Stored<Pod>> {
  const pods = client.typed('pods');
  const handle = async (pod: Stored<Pod>) => {
    if (!pod.spec?.nodeName) return;
    if (pod.metadata.deletionTimestamp) {
      await client
        .delete(pods, pod.metadata.namespace, pod.metadata.name, { gracePeriodSeconds: 0 })
        .catch(() => undefined);
      return;
    }
    const played = await play(pod);
    if (!played) return;
    await client
      .update(pods, { ...pod, status: playedStatus(pod, played) }, { subresource: 'status' })
      .catch(() => undefined);
  };
  return new Informer(client, pods, {
    onAdd: (p) => void handle(p),
    onUpdate: (_o, p) => void handle(p),
  }).start();
}
