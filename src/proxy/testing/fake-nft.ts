import type { NftHost } from '../../sys/nft.ts';
import { HostCommandError } from '../../sys/run.ts';

/** A set or map: its declaration and its elements by key (the element as written, `key : verdict` for maps). */
interface FakeSet {
  kind: 'set' | 'map';
  spec: string;
  elements: Map<string, string>;
}

/** A table: chains (declaration and rules) and sets. */
interface FakeTable {
  chains: Map<string, { spec: string; rules: string[] }>;
  sets: Map<string, FakeSet>;
}

/**
 * FakeNft is an in-memory nftables for unit tests of the proxy loop: `run` applies an `nft -f` script (the commands
 * kube-proxy sends: table, chain, rule, set, map and element add/create/flush/delete) to a model of the tables, as
 * one transaction: all of it or, when a command fails as the kernel would refuse it, none of it. Refused: a rule in
 * a missing chain, a jump or goto to a missing chain, a missing set (`@name`), deleting something missing, a chain
 * that still has rules or is jumped to, a map element whose key exists with another verdict. `failNext()` makes the
 * next script fail before changing anything.
 */
export class FakeNft implements NftHost {
  #tables = new Map<string, FakeTable>();
  #failNext: string | undefined;
  /** Every script run, in order (the ones that failed included). */
  readonly scripts: string[] = [];

  /** failNext makes the next run throw (exit status 1, this stderr) and change nothing. */
  failNext(stderr = '-:1:1-10: Error: Could not process rule: No such file or directory'): void {
    this.#failNext = stderr;
  }

  async run(script: string): Promise<void> {
    this.scripts.push(script);
    const failure = this.#failNext;
    if (failure !== undefined) {
      this.#failNext = undefined;
      throw nftError(failure);
    }
    const tables = copyTables(this.#tables);
    for (const [i, line] of script.split('\n').entries()) {
      if (line.trim() === '' || line.trim().startsWith('#')) continue;
      const problem = apply(tables, line.trim());
      if (problem) throw nftError(`-:${i + 1}:1-${line.length}: Error: ${problem}\n${line}`);
    }
    this.#tables = tables;
  }

  /** hasTable tells whether `family name` exists. */
  hasTable(family: string, name: string): boolean {
    return this.#tables.has(`${family} ${name}`);
  }

  /** chains lists a table's chain names (empty when there is no such table). */
  chains(family: string, table: string): string[] {
    return [...(this.#tables.get(`${family} ${table}`)?.chains.keys() ?? [])];
  }

  /** rules lists a chain's rules as written (undefined: no such chain). */
  rules(family: string, table: string, chain: string): string[] | undefined {
    const rules = this.#tables.get(`${family} ${table}`)?.chains.get(chain)?.rules;
    return rules ? [...rules] : undefined;
  }

  /** elements lists a set's or map's elements as written (undefined: no such set). */
  elements(family: string, table: string, set: string): string[] | undefined {
    const s = this.#tables.get(`${family} ${table}`)?.sets.get(set);
    return s ? [...s.elements.values()] : undefined;
  }
}

/** apply runs one command on tables; it returns the kernel's complaint, or undefined when the command is fine. */
function apply(tables: Map<string, FakeTable>, line: string): string | undefined {
  const m = /^(add|create|insert|flush|delete)\s+(table|chain|rule|set|map|element)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line);
  if (!m) return 'syntax error, unexpected command';
  const [verb, object, rest] = [m[1]!, m[2]!, m[5]!];
  const key = `${m[3]} ${m[4]}`;
  const notFound = 'Could not process rule: No such file or directory';
  const busy = 'Could not process rule: Device or resource busy';
  if (object === 'table') {
    if (verb === 'add' || verb === 'create') {
      if (tables.has(key)) return verb === 'create' ? 'Could not process rule: File exists' : undefined;
      tables.set(key, { chains: new Map(), sets: new Map() });
      return undefined;
    }
    const table = tables.get(key);
    if (!table) return notFound;
    if (verb === 'delete') tables.delete(key);
    else if (verb === 'flush') {
      for (const c of table.chains.values()) c.rules = [];
      for (const s of table.sets.values()) s.elements.clear();
    } else return 'syntax error';
    return undefined;
  }
  const table = tables.get(key);
  if (!table) return notFound;
  const name = /^\S+/.exec(rest)?.[0] ?? '';
  const body = rest.slice(name.length).trim();
  switch (object) {
    case 'chain': {
      const chain = table.chains.get(name);
      if (verb === 'add' || verb === 'create') {
        if (chain) return verb === 'create' ? 'Could not process rule: File exists' : undefined;
        table.chains.set(name, { spec: body, rules: [] });
        return undefined;
      }
      if (!chain) return notFound;
      if (verb === 'flush') chain.rules = [];
      else if (verb === 'delete') {
        if (chain.rules.length > 0 || references(table, (t) => jumpsTo(t, name))) return busy;
        table.chains.delete(name);
      } else return 'syntax error';
      return undefined;
    }
    case 'rule': {
      const chain = table.chains.get(name);
      if (!chain) return notFound;
      if (verb !== 'add' && verb !== 'insert') return 'syntax error';
      if (!targetsExist(table, body)) return notFound;
      if (verb === 'add') chain.rules.push(body);
      else chain.rules.unshift(body);
      return undefined;
    }
    case 'set':
    case 'map': {
      const set = table.sets.get(name);
      if (verb === 'add' || verb === 'create') {
        if (set) return verb === 'create' ? 'Could not process rule: File exists' : undefined;
        table.sets.set(name, { kind: object, spec: body, elements: new Map() });
        return undefined;
      }
      if (!set || set.kind !== object) return notFound;
      if (verb === 'flush') set.elements.clear();
      else if (verb === 'delete') {
        if (references(table, (t) => t.includes(`@${name}`))) return busy;
        table.sets.delete(name);
      } else return 'syntax error';
      return undefined;
    }
    default: {
      const set = table.sets.get(name);
      if (!set) return notFound;
      const items = /^\{\s*(.*?)\s*\}$/.exec(body)?.[1];
      if (items === undefined) return 'syntax error, unexpected element list';
      for (const item of splitElements(items)) {
        const k = elementKey(item);
        const current = set.elements.get(k);
        if (verb === 'delete') {
          if (current === undefined) return notFound;
          set.elements.delete(k);
        } else if (verb === 'add' || verb === 'create') {
          if (current !== undefined && (verb === 'create' || current !== item))
            return current === item ? 'Could not process rule: File exists' : busy;
          if (!targetsExist(table, item)) return notFound;
          set.elements.set(k, item);
        } else return 'syntax error';
      }
      return undefined;
    }
  }
}

/** targetsExist tells whether every chain jumped to and every set named (`@name`) in text exists. */
function targetsExist(table: FakeTable, text: string): boolean {
  for (const m of text.matchAll(/\b(?:jump|goto)\s+([^\s,}]+)/g)) if (!table.chains.has(m[1]!)) return false;
  for (const m of text.matchAll(/@([^\s,}]+)/g)) if (!table.sets.has(m[1]!)) return false;
  return true;
}

function jumpsTo(text: string, chain: string): boolean {
  for (const m of text.matchAll(/\b(?:jump|goto)\s+([^\s,}]+)/g)) if (m[1] === chain) return true;
  return false;
}

/** references tells whether any rule or map element of the table satisfies uses. */
function references(table: FakeTable, uses: (text: string) => boolean): boolean {
  for (const c of table.chains.values()) if (c.rules.some(uses)) return true;
  for (const s of table.sets.values()) for (const e of s.elements.values()) if (uses(e)) return true;
  return false;
}

/** splitElements splits `a, b : goto c` at top-level commas (not inside quotes). */
function splitElements(items: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of items) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}

/** elementKey is an element without its data (`: verdict`) and comment, as the kernel keys it. */
function elementKey(item: string): string {
  return item
    .replace(/\s+comment\s+"[^"]*"/, '')
    .split(' : ')[0]!
    .trim();
}

function copyTables(tables: Map<string, FakeTable>): Map<string, FakeTable> {
  const out = new Map<string, FakeTable>();
  for (const [key, t] of tables) {
    out.set(key, {
      chains: new Map([...t.chains].map(([name, c]) => [name, { spec: c.spec, rules: [...c.rules] }])),
      sets: new Map([...t.sets].map(([name, s]) => [name, { ...s, elements: new Map(s.elements) }])),
    });
  }
  return out;
}

function nftError(stderr: string): HostCommandError {
  return new HostCommandError(['nft', '-f', '-'], { exitCode: 1, signal: null, stderr, stdout: '' });
}
