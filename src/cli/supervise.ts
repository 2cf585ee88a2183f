import { runSupervisor } from '../cluster/supervise-loop.ts';
import { createLogger } from '../log/klog.ts';
import { parseFlags, usage, type FlagSpecs } from './flags.ts';
import { untilSignal } from './until-signal.ts';

const FLAGS: FlagSpecs = {
  'state-dir': { type: 'string', help: "The cluster's state directory (components/ in, processes.json out)" },
  v: { type: 'int', default: 0, help: 'Log verbosity' },
  help: { type: 'bool', default: false, short: 'h', help: 'help' },
};

/** main runs `tskube supervise --state-dir=DIR`: started by `tskube up`, it keeps the cluster's components running. */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, FLAGS);
  if (values.help || !values['state-dir']) {
    process.stdout.write(
      usage(
        'tskube supervise',
        'Keeps the components of a cluster started by up running (restarts with backoff)',
        FLAGS,
      ),
    );
    return values.help ? 0 : 2;
  }
  const logger = createLogger({ verbosity: values.v as number, source: 'supervisor.go:1' });
  const abort = new AbortController();
  void untilSignal().then(() => abort.abort());
  await runSupervisor(values['state-dir'] as string, { logger, signal: abort.signal });
  // The components stay (down stops them by PID); their child handles must not keep the supervisor alive.
  process.exit(0);
}
