import { connect } from '../client/client.ts';
import { runLeaderElection } from '../client/leader-election.ts';
import { createLogger } from '../log/klog.ts';
import { Scheduler } from '../scheduler/scheduler.ts';
import { untilSignal } from './until-signal.ts';
import { parseFlags, usage, type FlagSpecs } from './flags.ts';

const FLAGS: FlagSpecs = {
  kubeconfig: { type: 'string', help: 'Path to kubeconfig file with authorization and master location information.' },
  master: { type: 'string', help: 'The address of the Kubernetes API server (overrides any value in kubeconfig).' },
  'leader-elect': { type: 'bool', default: true, help: 'Start a leader election client and gain leadership before executing the main loop.' },
  v: { type: 'int', default: 0, short: 'v', help: 'number for the log level verbosity' },
  help: { type: 'bool', default: false, short: 'h', help: 'help for scheduler' },
};

/** main runs `tskube scheduler` (kube-scheduler) until SIGTERM. */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, FLAGS);
  if (values.help) {
    process.stdout.write(usage('tskube scheduler', 'Binds pods without a node to the best node.', FLAGS));
    return 0;
  }
  const logger = createLogger({ verbosity: values.v as number, source: 'scheduler.go' });
  const client = await connect({ kubeconfig: values.kubeconfig as string | undefined, master: values.master as string | undefined, userAgent: 'kube-scheduler/v1.33.0 (tskube)' });
  if (values['leader-elect']) await runLeaderElection({ client, namespace: 'kube-system', name: 'kube-scheduler', logger }, () => process.exit(1));
  const scheduler = new Scheduler(client, logger);
  await scheduler.start();
  await untilSignal();
  await scheduler.stop();
  client.close();
  return 0;
}
