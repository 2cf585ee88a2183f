/**
 * parseFlags reads command lines the way upstream's pflag does: `--name=value`, `--name value`, booleans as `--name`
 * or `--name=false`, `-v=4`; an unknown flag is an error naming it (`unknown flag: --foo`).
 */
export type FlagType = 'string' | 'bool' | 'int' | 'strings';

export interface FlagSpec {
  type: FlagType;
  /** Default value; absent means undefined (not given). */
  default?: string | boolean | number | string[];
  help: string;
  /** One-letter alias, e.g. `v` for `-v`. */
  short?: string;
}

export type FlagSpecs = Record<string, FlagSpec>;

export type FlagValues = Record<string, string | boolean | number | string[] | undefined>;

interface FlagTypes {
  string: string;
  bool: boolean;
  int: number;
  strings: string[];
}

/** FlagValue is the value of one flag: its type's, and undefined when the spec has no default. */
export type FlagValue<F extends FlagSpec> = F extends { default: unknown }
  ? FlagTypes[F['type']]
  : FlagTypes[F['type']] | undefined;

/**
 * TypedFlagValues are the values of a spec declared `{ ... } satisfies FlagSpecs` (literal types kept): `--v` is a
 * number, `--kubeconfig` a string or undefined, without casts.
 */
export type TypedFlagValues<S extends FlagSpecs> = { [K in keyof S]: FlagValue<S[K]> };

/** FlagError is a bad command line; the CLI prints its message and the usage, and exits with status 2. */
export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

export function parseFlags<S extends FlagSpecs>(
  argv: readonly string[],
  specs: S,
): { values: TypedFlagValues<S>; args: string[]; given: Set<string> } {
  const values: FlagValues = {};
  const given = new Set<string>();
  const args: string[] = [];
  for (const [name, spec] of Object.entries(specs)) values[name] = spec.default;
  const byShort = new Map(
    Object.entries(specs)
      .filter(([, s]) => s.short)
      .map(([n, s]) => [s.short!, n]),
  );
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      args.push(arg);
      continue;
    }
    const long = arg.startsWith('--');
    const body = arg.slice(long ? 2 : 1);
    const eq = body.indexOf('=');
    const rawName = eq === -1 ? body : body.slice(0, eq);
    const name = long ? rawName : (byShort.get(rawName) ?? rawName);
    const spec = specs[name];
    if (spec === undefined) throw new FlagError(`unknown flag: ${long ? '--' : '-'}${rawName}`);
    let text: string | undefined = eq === -1 ? undefined : body.slice(eq + 1);
    if (spec.type === 'bool') {
      if (text === undefined) values[name] = true;
      else if (text === 'true' || text === '1') values[name] = true;
      else if (text === 'false' || text === '0') values[name] = false;
      else
        throw new FlagError(
          `invalid argument "${text}" for "--${name}" flag: strconv.ParseBool: parsing "${text}": invalid syntax`,
        );
      given.add(name);
      continue;
    }
    if (text === undefined) {
      if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: --${name}`);
      text = argv[++i]!;
    }
    given.add(name);
    if (spec.type === 'int') {
      if (!/^-?\d+$/.test(text))
        throw new FlagError(
          `invalid argument "${text}" for "--${name}" flag: strconv.ParseInt: parsing "${text}": invalid syntax`,
        );
      values[name] = Number(text);
    } else if (spec.type === 'strings') {
      const previous =
        given.has(name) && Array.isArray(values[name]) && values[name] !== spec.default
          ? (values[name] as string[])
          : [];
      values[name] = [...previous, ...text.split(',').filter((s) => s !== '')];
    } else {
      values[name] = text;
    }
  }
  return { values: values as TypedFlagValues<S>, args, given };
}

/** usage renders the flag list for --help. */
export function usage(command: string, summary: string, specs: FlagSpecs): string {
  const lines = [summary, '', `Usage:\n  ${command} [flags]`, '', 'Flags:'];
  for (const [name, spec] of Object.entries(specs).sort(([a], [b]) => a.localeCompare(b))) {
    const short = spec.short ? `-${spec.short}, ` : '    ';
    const type = spec.type === 'bool' ? '' : ` ${spec.type === 'strings' ? 'strings' : spec.type}`;
    const def =
      spec.default === undefined || spec.default === '' || spec.default === false
        ? ''
        : ` (default ${JSON.stringify(spec.default)})`;
    lines.push(`  ${short}--${name}${type}\t${spec.help}${def}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Go durations live in the model layer (`src/api/duration.ts`); flags re-export them for the commands. */
export { formatDuration, parseDuration } from '../api/duration.ts';
