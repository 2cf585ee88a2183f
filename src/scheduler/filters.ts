import { matches, selectorFromObject } from '../api/labels.ts';
import { parseCpu, parseMemory } from '../api/quantity.ts';
import type { Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../api/objects.ts';

/**
 * The scheduler's pure decisions: which nodes can take a pod (filters, each with upstream's reason text for
 * FailedScheduling) and which of them is best (scores).
 */
export interface NodeInfo {
  node: Stored<Node>;
  pods: Pod[];
}

/** filterReason is why a node cannot take the pod, or undefined when it can. */
export function filterReason(pod: Pod, info: NodeInfo): string | undefined {
  const node = info.node;
  const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return 'node(s) were not ready';
  if (node.spec?.unschedulable && !tolerates(pod, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }))
    return 'node(s) were unschedulable';
  for (const taint of node.spec?.taints ?? []) {
    if ((taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && !tolerates(pod, taint))
      return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
  }
  if (!nodeSelectorMatches(pod, node)) return "node(s) didn't match Pod's node affinity/selector";
  const free = allocatable(node);
  const used = requested(info.pods);
  const want = requested([pod]);
  if (want.cpu > 0 && used.cpu + want.cpu > free.cpu) return 'Insufficient cpu';
  if (want.memory > 0 && used.memory + want.memory > free.memory) return 'Insufficient memory';
  if (free.pods > 0 && info.pods.length + 1 > free.pods) return 'Too many pods';
  const ports = hostPorts(pod);
  if (ports.length && info.pods.some((p) => hostPorts(p).some((hp) => ports.includes(hp))))
    return "node(s) didn't have free ports for the requested pod ports";
  return undefined;
}

/** score ranks a feasible node: least allocated, and fewer pods of the same owner (spreads replicas). */
export function score(pod: Pod, info: NodeInfo): number {
  const free = allocatable(info.node);
  const used = requested([...info.pods, pod]);
  const cpu = free.cpu > 0 ? (1 - used.cpu / free.cpu) * 100 : 0;
  const memory = free.memory > 0 ? (1 - used.memory / free.memory) * 100 : 0;
  const owner = (pod.metadata?.ownerReferences ?? []).find((r) => r.controller)?.uid;
  const siblings = owner
    ? info.pods.filter((p) => (p.metadata?.ownerReferences ?? []).some((r) => r.uid === owner)).length
    : 0;
  return (cpu + memory) / 2 - siblings * 1000 - info.pods.length;
}

/** failedSchedulingMessage is upstream's `0/N nodes are available: ...` text. */
export function failedSchedulingMessage(total: number, reasons: string[]): string {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const parts = [...counts.entries()]
    .map(([r, n]) => (r.startsWith('Insufficient') || r === 'Too many pods' ? `${n} ${r}` : `${n} ${r}`))
    .sort();
  return `0/${total} nodes are available: ${parts.join(', ')}.`;
}

function tolerates(pod: Pod, taint: Taint): boolean {
  return (pod.spec?.tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

function nodeSelectorMatches(pod: Pod, node: Node): boolean {
  const labels: Record<string, string> = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms: NodeSelectorTerm[] =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  if (terms.length === 0) return true;
  return terms.some((term) => {
    const selector = selectorFromObject({
      matchExpressions: (term.matchExpressions ?? []).filter((e: NodeSelectorRequirement) =>
        ['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator),
      ),
    });
    const fieldsOk = (term.matchFields ?? []).every(
      (f) =>
        f.key !== 'metadata.name' || (f.operator === 'In') === (f.values ?? []).includes(node.metadata?.name ?? ''),
    );
    return matches(selector ?? [], labels) && fieldsOk;
  });
}

function hostPorts(pod: Pod): string[] {
  return (pod.spec?.containers ?? []).flatMap((c) =>
    (c.ports ?? []).filter((p) => p.hostPort).map((p) => `${p.protocol ?? 'TCP'}/${p.hostPort}`),
  );
}

function allocatable(node: Node): { cpu: number; memory: number; pods: number } {
  const a = node.status?.allocatable ?? {};
  return { cpu: parseCpu(a.cpu ?? '0'), memory: parseMemory(a.memory ?? '0'), pods: Number(a.pods ?? 0) };
}

function requested(pods: Pod[]): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const p of pods) {
    for (const c of p.spec?.containers ?? []) {
      cpu += parseCpu(c.resources?.requests?.cpu ?? '0');
      memory += parseMemory(c.resources?.requests?.memory ?? '0');
    }
  }
  return { cpu, memory };
}
