import type { IptablesHost } from '../../sys/iptables.ts';
import { HostCommandError } from '../../sys/run.ts';
import { tokenize } from '../trace-iptables.ts';

/** The built-in chains of each table, as the kernel creates them. */
const BUILTIN_CHAINS: Readonly<Record<string, readonly string[]>> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
};

/** Targets that are extensions, not chains (a `-j` to anything else must name a chain of the table). */
const TARGETS = new Set([
  'ACCEPT',
  'DROP',
  'RETURN',
  'REJECT',
  'DNAT',
  'SNAT',
  'MASQUERADE',
  'MARK',
  'CONNMARK',
  'LOG',
  'NOTRACK',
  'CT',
  'REDIRECT',
]);

/** A table: chain → its rules, each as the arguments after the chain name. */
type Table = Map<string, string[][]>;

/**
 * FakeIptables is an in-memory iptables for unit tests of the proxy loop: `restore` applies `iptables-restore
 * --noflush` input to a model of tables, chains and rules the way the tool does (a declared chain is created or
 * flushed, `-A`/`-I`/`-D`/`-F`/`-X`/`-N` act on it, each table takes effect at its COMMIT), and fails as the tool
 * would: a jump to a chain that does not exist, a rule in a missing chain, deleting a chain still referenced,
 * input ending without COMMIT. `chains()`, `hasRule()`, `ensureRule()` and `deleteRule()` work on the model. `failNextRestore()` makes the next
 * restore fail before changing anything.
 */
export class FakeIptables implements IptablesHost {
  #tables = new Map<string, Table>();
  #failNext: string | undefined;
  /** Every restore input, in order (the ones that failed included). */
  readonly restores: string[] = [];

  constructor() {
    for (const [name, chains] of Object.entries(BUILTIN_CHAINS))
      this.#tables.set(name, new Map(chains.map((c) => [c, []])));
  }

  /** failNextRestore makes the next restore throw (exit status 1, this stderr) and change nothing. */
  failNextRestore(stderr = 'iptables-restore: line 1 failed'): void {
    this.#failNext = stderr;
  }

  async restore(text: string): Promise<void> {
    this.restores.push(text);
    const failure = this.#failNext;
    if (failure !== undefined) {
      this.#failNext = undefined;
      throw restoreError(1, failure);
    }
    let open: { name: string; table: Table } | undefined;
    const lines = text.split('\n');
    for (const [i, raw] of lines.entries()) {
      const n = i + 1;
      const line = raw.trim().replace(/^\[\d+:\d+\]\s+/, '');
      if (line === '' || line.startsWith('#')) continue;
      if (line.startsWith('*')) {
        if (open) throw restoreError(1, `iptables-restore: COMMIT expected at line ${n}`);
        const name = line.slice(1);
        const current = this.#tables.get(name);
        if (!current)
          throw restoreError(
            1,
            `iptables-restore: unable to initialize table '${name}'\n\nError occurred at line: ${n}`,
          );
        open = { name, table: copyTable(current) };
      } else if (!open) {
        throw restoreError(2, `iptables-restore: no command before line ${n}\n\nError occurred at line: ${n}`);
      } else if (line === 'COMMIT') {
        this.#tables.set(open.name, open.table);
        open = undefined;
      } else if (line.startsWith(':')) {
        declare(open.name, open.table, line, n);
      } else {
        command(open.name, open.table, tokenize(line), n);
      }
    }
    if (open) throw restoreError(1, `iptables-restore: COMMIT expected at line ${lines.length + 1}`);
  }

  async chains(table: 'nat' | 'filter'): Promise<string[]> {
    return [...this.#table(table).keys()];
  }

  async hasRule(table: string, chain: string, args: readonly string[]): Promise<boolean> {
    const t = this.#table(table);
    checkTarget(t, args, (message) => new HostCommandError(['iptables', '-C', chain], result(2, message)));
    return (t.get(chain) ?? []).some((rule) => sameArgs(rule, args));
  }

  async ensureRule(table: string, chain: string, args: readonly string[]): Promise<boolean> {
    if (await this.hasRule(table, chain, args)) return false;
    const rules = this.#table(table).get(chain);
    if (!rules)
      throw new HostCommandError(['iptables', '-I', chain], result(1, 'iptables: No chain/target/match by that name.'));
    rules.unshift([...args]);
    return true;
  }

  async deleteRule(table: string, chain: string, args: readonly string[]): Promise<void> {
    const rules = this.#table(table).get(chain);
    const i = rules?.findIndex((rule) => sameArgs(rule, args)) ?? -1;
    if (i >= 0) rules!.splice(i, 1);
  }

  /** rules lists a chain's rules as iptables-save prints them after `-A CHAIN` (undefined: no such chain). */
  rules(table: string, chain: string): string[] | undefined {
    return this.#tables
      .get(table)
      ?.get(chain)
      ?.map((rule) => rule.map(quote).join(' '));
  }

  /** save prints a table as iptables-save does. */
  save(table: string): string {
    const t = this.#table(table);
    const builtins = BUILTIN_CHAINS[table] ?? [];
    const out = [`*${table}`];
    for (const chain of t.keys()) out.push(`:${chain} ${builtins.includes(chain) ? 'ACCEPT' : '-'} [0:0]`);
    for (const [chain, rules] of t) for (const rule of rules) out.push(`-A ${chain} ${rule.map(quote).join(' ')}`);
    out.push('COMMIT', '');
    return out.join('\n');
  }

  #table(name: string): Table {
    const t = this.#tables.get(name);
    if (!t) throw new HostCommandError(['iptables', '-t', name], result(3, `table '${name}' does not exist`));
    return t;
  }
}

/** declare handles `:CHAIN POLICY [counters]`: with --noflush an existing chain is flushed, a new one created. */
function declare(tableName: string, table: Table, line: string, n: number): void {
  const [chain, policy] = line.slice(1).split(/\s+/);
  if (!chain) throw restoreError(1, `iptables-restore: line ${n} failed`);
  const builtin = (BUILTIN_CHAINS[tableName] ?? []).includes(chain);
  if (!builtin && policy !== '-')
    throw restoreError(
      2,
      `iptables-restore: Can't set policy \`${policy}' on \`${chain}'\n\nError occurred at line: ${n}`,
    );
  table.set(chain, []);
}

/** command applies one rule command (`-A`, `-I`, `-D`, `-F`, `-X`, `-N`) to the table being restored. */
function command(tableName: string, table: Table, args: string[], n: number): void {
  const [op, chain, ...rest] = args;
  const fail = (message: string) => restoreError(1, `${message}\niptables-restore: line ${n} failed`);
  if (op === '-F' && chain === undefined) {
    for (const c of table.keys()) table.set(c, []);
    return;
  }
  if (op === '-X' && chain === undefined) {
    for (const c of [...table.keys()]) if (!isBuiltin(tableName, c) && table.get(c)!.length === 0) table.delete(c);
    return;
  }
  if (!chain) throw restoreError(2, `iptables-restore: bad argument \`${op ?? ''}'\n\nError occurred at line: ${n}`);
  if (op === '-N') {
    if (table.has(chain)) throw fail('iptables: Chain already exists.');
    table.set(chain, []);
    return;
  }
  const rules = table.get(chain);
  if (!rules) throw fail('iptables: No chain/target/match by that name.');
  switch (op) {
    case '-A':
    case '-I': {
      let at = 0;
      let rule = rest;
      if (op === '-I' && /^\d+$/.test(rest[0] ?? '')) {
        at = Number(rest[0]) - 1;
        rule = rest.slice(1);
      }
      checkTarget(table, rule, (message) => restoreError(2, `${message}\n\nError occurred at line: ${n}`));
      if (op === '-A') rules.push(rule);
      else rules.splice(at, 0, rule);
      return;
    }
    case '-D': {
      const i = rules.findIndex((r) => sameArgs(r, rest));
      if (i < 0) throw fail('iptables: Bad rule (does a matching rule exist in that chain?).');
      rules.splice(i, 1);
      return;
    }
    case '-F':
      table.set(chain, []);
      return;
    case '-X':
      if (isBuiltin(tableName, chain)) throw fail('iptables: Invalid argument.');
      if (rules.length > 0) throw fail('iptables: Directory not empty.');
      if ([...table.values()].some((rs) => rs.some((r) => targetOf(r) === chain)))
        throw fail('iptables: Too many links.');
      table.delete(chain);
      return;
    default:
      throw restoreError(2, `iptables-restore: unknown option "${op}"\n\nError occurred at line: ${n}`);
  }
}

/** checkTarget throws when a rule jumps (`-j`/`-g`) to something that is neither an extension nor a chain. */
function checkTarget(table: Table, rule: readonly string[], error: (message: string) => Error): void {
  const target = targetOf(rule);
  if (target === undefined || TARGETS.has(target) || table.has(target)) return;
  throw error(`iptables-restore v1.8.10 (nf_tables): Couldn't load target \`${target}':No such file or directory`);
}

function targetOf(rule: readonly string[]): string | undefined {
  for (let i = 0; i < rule.length - 1; i++) if (rule[i] === '-j' || rule[i] === '-g') return rule[i + 1];
  return undefined;
}

function isBuiltin(table: string, chain: string): boolean {
  return (BUILTIN_CHAINS[table] ?? []).includes(chain);
}

function sameArgs(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function copyTable(table: Table): Table {
  return new Map([...table].map(([chain, rules]) => [chain, rules.map((r) => [...r])]));
}

function quote(arg: string): string {
  return /[\s"]/.test(arg) || arg === '' ? `"${arg.replace(/"/g, '\\"')}"` : arg;
}

function result(exitCode: number, stderr: string) {
  return { exitCode, signal: null, stderr, stdout: '' };
}

function restoreError(exitCode: number, stderr: string): HostCommandError {
  return new HostCommandError(['iptables-restore', '--noflush', '--counters'], result(exitCode, stderr));
}
