import { readFileSync } from 'node:fs';
import { connect } from '../client/client.ts';
import { runLeaderElection } from '../client/leader-election.ts';
import { startControllers } from '../controllers/controller-manager.ts';
import { componentFlags, runComponent, type ComponentFlags } from './run-component.ts';
import { parseDuration } from './flags.ts';

const FLAGS = {
  kubeconfig: { type: 'string', help: 'Path to kubeconfig file with authorization and master location information.' },
  master: { type: 'string', help: 'The address of the Kubernetes API server (overrides any value in kubeconfig).' },
  'allocate-node-cidrs': {
    type: 'bool',
    default: false,
    help: 'Should CIDRs for Pods be allocated and set on the cloud provider.',
  },
  'cluster-cidr': { type: 'string', help: 'CIDR Range for Pods in cluster. Requires --allocate-node-cidrs to be true' },
  'node-cidr-mask-size': { type: 'int', default: 24, help: 'Mask size for node cidr in cluster.' },
  'service-cluster-ip-range': { type: 'string', help: 'CIDR Range for Services in cluster (accepted).' },
  'leader-elect': {
    type: 'bool',
    default: true,
    help: 'Start a leader election client and gain leadership before executing the main loop.',
  },
  'node-monitor-grace-period': {
    type: 'string',
    default: '40s',
    help: 'Amount of time which we allow running Node to be unresponsive before marking it unhealthy.',
  },
  controllers: {
    type: 'strings',
    default: ['*'],
    help: "A list of controllers to enable (accepted; tskube runs the lab's set).",
  },
  'use-service-account-credentials': {
    type: 'bool',
    default: false,
    help: "accepted (controllers run with the controller manager's own credentials; tskube up binds each controller's bootstrap role to it)",
  },
  'root-ca-file': {
    type: 'string',
    help: "If set, this root certificate authority will be included in service account's token secret and published in every namespace as the ConfigMap kube-root-ca.crt.",
  },
  ...componentFlags('controller-manager'),
} satisfies ComponentFlags;

/** main runs `tskube controller-manager` (kube-controller-manager) until SIGTERM. */
export function main(argv: string[]): Promise<number> {
  return runComponent(argv, {
    command: 'tskube controller-manager',
    flags: FLAGS,
    logSource: 'controllermanager.go',
    summary:
      'Runs the controllers: deployments, replicasets, endpoints and endpointslices, garbage collection, node IPAM and lifecycle.',
    async start({ values, logger }) {
      if (values['allocate-node-cidrs'] && !values['cluster-cidr'])
        throw new Error('--allocate-node-cidrs needs --cluster-cidr');
      const client = await connect({
        kubeconfig: values.kubeconfig,
        master: values.master,
        userAgent: 'kube-controller-manager/v1.33.0 (tskube)',
      });
      if (values['leader-elect']) {
        await runLeaderElection({ client, namespace: 'kube-system', name: 'kube-controller-manager', logger }, () =>
          process.exit(1),
        );
      }
      const controllers = await startControllers({
        client,
        logger,
        allocateNodeCidrs: values['allocate-node-cidrs']
          ? { clusterCidr: values['cluster-cidr']!, nodeCidrMaskSize: values['node-cidr-mask-size'] }
          : undefined,
        nodeMonitorGracePeriodMs: parseDuration(values['node-monitor-grace-period']),
        rootCa: values['root-ca-file'] ? readFileSync(values['root-ca-file'], 'utf8') : undefined,
      });
      return {
        stop: async () => {
          await controllers.stop();
          client.close();
        },
      };
    },
  });
}
