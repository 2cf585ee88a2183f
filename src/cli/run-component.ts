import { createLogger, type Logger } from '../log/klog.ts';
import { parseFlags, usage, type FlagSpec, type FlagSpecs, type TypedFlagValues } from './flags.ts';
import { untilSignal } from './until-signal.ts';

/** The flags every component has: `-v` (klog verbosity) and `-h/--help`. */
export type ComponentFlags = FlagSpecs & {
  v: FlagSpec & { type: 'int'; default: number };
  help: FlagSpec & { type: 'bool'; default: boolean };
};

/** componentFlags are `-v` and `-h/--help` as every upstream component has them; spread them last into FLAGS. */
export function componentFlags(name: string): {
  v: FlagSpec & { type: 'int'; default: number };
  help: FlagSpec & { type: 'bool'; default: boolean };
} {
  return {
    v: { type: 'int', default: 0, short: 'v', help: 'number for the log level verbosity' },
    help: { type: 'bool', default: false, short: 'h', help: `help for ${name}` },
  };
}

/**
 * Started is what a component's start() returns while it runs; undefined means it already did its work (a dry run,
 * --write-config-to) and a number is the exit status of a start that ended early (a bad configuration file).
 */
export interface Started {
  stop(): Promise<void> | void;
}

export interface ComponentMain<S extends ComponentFlags> {
  /** `tskube scheduler`: the usage line's command. */
  command: string;
  /** The first line of --help. */
  summary: string;
  flags: S;
  /** The Go file upstream logs from (`scheduler.go`), for klog's header. */
  logSource: string;
  start(run: {
    values: TypedFlagValues<S>;
    given: Set<string>;
    args: string[];
    logger: Logger;
  }): Promise<Started | number | undefined>;
}

/**
 * runComponent is every long-running subcommand's main(): flags, --help, the logger, start, then SIGTERM/SIGINT,
 * then stop. It resolves with the exit status (0); a bad flag throws FlagError, which tskube.ts reports.
 */
export async function runComponent<S extends ComponentFlags>(
  argv: readonly string[],
  main: ComponentMain<S>,
): Promise<number> {
  const { values, given, args } = parseFlags(argv, main.flags);
  if (values.help) {
    process.stdout.write(usage(main.command, main.summary, main.flags));
    return 0;
  }
  const logger = createLogger({ verbosity: values.v as number, source: main.logSource });
  const started = await main.start({ values, given, args, logger });
  if (started === undefined) return 0;
  if (typeof started === 'number') return started;
  await untilSignal();
  await started.stop();
  return 0;
}
