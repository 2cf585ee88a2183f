import { runSupervisor } from '../cluster/supervise-loop.ts';
import { usage } from './flags.ts';
import { componentFlags, runComponent, type ComponentFlags } from './run-component.ts';

const COMMAND = 'tskube supervise';
const SUMMARY = 'Keeps the components of a cluster started by up running (restarts with backoff)';
const FLAGS = {
  'state-dir': { type: 'string', help: "The cluster's state directory (components/ in, processes.json out)" },
  ...componentFlags('supervise'),
} satisfies ComponentFlags;

/** main runs `tskube supervise --state-dir=DIR`: started by `tskube up`, it keeps the cluster's components running. */
export async function main(argv: string[]): Promise<number> {
  const status = await runComponent(argv, {
    command: COMMAND,
    summary: SUMMARY,
    flags: FLAGS,
    logSource: 'supervisor.go:1',
    start({ values, logger }) {
      const stateDir = values['state-dir'];
      if (!stateDir) {
        process.stdout.write(usage(COMMAND, SUMMARY, FLAGS));
        return Promise.resolve(2);
      }
      const abort = new AbortController();
      const loop = runSupervisor(stateDir, { logger, signal: abort.signal });
      return Promise.resolve({
        stop: async () => {
          abort.abort();
          await loop;
        },
      });
    },
  });
  // The components stay (down stops them by PID); nothing of theirs may keep the supervisor alive.
  process.exit(status);
}
