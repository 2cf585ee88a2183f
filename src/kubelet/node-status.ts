import { availableParallelism, hostname, release, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import type { Node, NodeCondition } from 'kubernetes-types/core/v1.js';

/** nodeObject is the Node a kubelet registers: addresses, capacity from the host, a Ready condition. */
export function nodeObject(o: {
  name: string;
  nodeIP: string;
  port: number;
  podCidr?: string;
  ready: boolean;
  lastHeartbeat: string;
}): Node & { status: { conditions: NodeCondition[] } } {
  const memoryKi = Math.floor(totalmem() / 1024);
  const capacity = {
    cpu: String(availableParallelism()),
    memory: `${memoryKi}Ki`,
    pods: '110',
    'ephemeral-storage': '10Gi',
  };
  const conditions = [
    condition(
      'MemoryPressure',
      'False',
      'KubeletHasSufficientMemory',
      'kubelet has sufficient memory available',
      o.lastHeartbeat,
    ),
    condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', o.lastHeartbeat),
    condition(
      'PIDPressure',
      'False',
      'KubeletHasSufficientPID',
      'kubelet has sufficient PID available',
      o.lastHeartbeat,
    ),
    condition(
      'Ready',
      o.ready ? 'True' : 'False',
      o.ready ? 'KubeletReady' : 'KubeletNotReady',
      o.ready ? 'kubelet is posting ready status' : "pod network is not ready: waiting for the node's pod CIDR",
      o.lastHeartbeat,
    ),
  ];
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: o.name,
      labels: {
        'kubernetes.io/hostname': o.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
      },
    },
    spec: o.podCidr ? { podCIDR: o.podCidr, podCIDRs: [o.podCidr] } : {},
    status: {
      capacity,
      allocatable: capacity,
      conditions,
      addresses: [
        { type: 'InternalIP', address: o.nodeIP },
        { type: 'Hostname', address: o.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: o.port } },
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: release(),
        osImage: osImage(),
        containerRuntimeVersion: 'tskube-process://0.1.0',
        kubeletVersion: 'v1.33.0-tskube',
        kubeProxyVersion: 'v1.33.0-tskube',
        operatingSystem: 'linux',
        architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      },
    },
  };
}

function condition(type: string, status: string, reason: string, message: string, heartbeat: string): NodeCondition {
  return { type, status, reason, message, lastHeartbeatTime: heartbeat, lastTransitionTime: heartbeat };
}

function osImage(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? hostname();
  } catch {
    return 'Linux';
  }
}
