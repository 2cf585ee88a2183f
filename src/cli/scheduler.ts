import { connect } from '../client/client.ts';
import { runLeaderElection } from '../client/leader-election.ts';
import { Scheduler } from '../scheduler/scheduler.ts';
import { componentFlags, runComponent, type ComponentFlags } from './run-component.ts';

const FLAGS = {
  kubeconfig: { type: 'string', help: 'Path to kubeconfig file with authorization and master location information.' },
  master: { type: 'string', help: 'The address of the Kubernetes API server (overrides any value in kubeconfig).' },
  'leader-elect': {
    type: 'bool',
    default: true,
    help: 'Start a leader election client and gain leadership before executing the main loop.',
  },
  ...componentFlags('scheduler'),
} satisfies ComponentFlags;

/** main runs `tskube scheduler` (kube-scheduler) until SIGTERM. */
export function main(argv: string[]): Promise<number> {
  return runComponent(argv, {
    command: 'tskube scheduler',
    summary: 'Binds pods without a node to the best node.',
    flags: FLAGS,
    logSource: 'scheduler.go',
    async start({ values, logger }) {
      const client = await connect({
        kubeconfig: values.kubeconfig,
        master: values.master,
        userAgent: 'kube-scheduler/v1.33.0 (tskube)',
      });
      if (values['leader-elect'])
        await runLeaderElection({ client, namespace: 'kube-system', name: 'kube-scheduler', logger }, () =>
          process.exit(1),
        );
      const scheduler = new Scheduler(client, logger);
      await scheduler.start();
      return {
        stop: async () => {
          await scheduler.stop();
          client.close();
        },
      };
    },
  });
}
