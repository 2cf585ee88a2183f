import { ipInCidr, isLocal, type TraceOutcome, type TracePacket } from './trace.ts';

/**
 * traceNftables follows a new connection through kube-proxy's nftables table, given as `nft -f` commands (what
 * `tskube proxy render --proxy-mode=nftables` prints) or as `nft list table ip kube-proxy` output (converted to
 * commands first). Base chains run by hook and priority: prerouting (or output from the node), then input or
 * forward (or output), then postrouting. Pure; only the statements kube-proxy writes are understood.
 */
export function traceNftables(text: string, packet: TracePacket): TraceOutcome[] {
  const table = parseNft(/^\s*table /m.test(text) ? listingToCommands(text) : text);
  const hooks = (names: string[]) =>
    [...table.chains]
      .filter(([, c]) => c.hook && names.includes(c.hook))
      .sort((a, b) => a[1].priority - b[1].priority)
      .map(([n]) => n);
  let states: State[] = [
    { probability: 1, mark: 0, dnat: undefined, verdict: undefined, masquerade: false, steps: [] },
  ];
  const pre = packet.fromNode ? ['output'] : ['prerouting'];
  const phases: ((s: State) => string[])[] = [
    () => hooks(pre).filter((n) => table.chains.get(n)!.priority < 0),
    (s) =>
      hooks(
        packet.fromNode ? ['output'] : [isLocal(s.dnat?.split(':')[0] ?? packet.dst, packet) ? 'input' : 'forward'],
      ).filter((n) => table.chains.get(n)!.priority >= 0),
    () => hooks(['postrouting']),
  ];
  for (const phase of phases) {
    const next: State[] = [];
    for (const s of states) {
      if (s.verdict === 'drop' || s.verdict === 'reject') {
        next.push(s);
        continue;
      }
      let current: State[] = [{ ...s, verdict: undefined }];
      for (const chain of phase(s)) {
        const after: State[] = [];
        for (const c of current) {
          if (c.verdict === 'drop' || c.verdict === 'reject') after.push(c);
          else after.push(...run(table, chain, view(packet, c), { ...c, verdict: undefined }));
        }
        current = after;
      }
      next.push(...current);
    }
    states = next;
  }
  return states.map((s) => ({
    probability: s.probability,
    result: s.verdict === 'drop' ? 'DROP' : s.verdict === 'reject' ? 'REJECT' : (s.dnat ?? 'ACCEPT'),
    masquerade: s.masquerade,
    steps: s.steps,
  }));
}

interface Chain {
  hook?: string;
  priority: number;
  rules: string[];
}

interface Table {
  chains: Map<string, Chain>;
  /** set or map → key (`a . b . c`) → value (verdict for vmaps, '' for sets). */
  sets: Map<string, Map<string, string>>;
}

interface State {
  probability: number;
  mark: number;
  dnat: string | undefined;
  verdict: string | undefined;
  masquerade: boolean;
  steps: string[];
}

/** The packet as rules after DNAT see it. */
function view(packet: TracePacket, s: State): TracePacket {
  if (!s.dnat) return packet;
  const [ip, port] = s.dnat.split(':');
  return { ...packet, dst: ip!, dport: Number(port) };
}

/** parseNft reads `nft -f` commands for one table. */
export function parseNft(text: string): Table {
  const table: Table = { chains: new Map(), sets: new Map() };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    let m = /^add chain \S+ \S+ (\S+)(?: \{ (.*) \})?$/.exec(line);
    if (m) {
      const hook = /hook (\w+) priority (-?\d+)/.exec(m[2] ?? '');
      if (!table.chains.has(m[1]!))
        table.chains.set(m[1]!, { hook: hook?.[1], priority: Number(hook?.[2] ?? 0), rules: [] });
      continue;
    }
    m = /^add rule \S+ \S+ (\S+) (.*)$/.exec(line);
    if (m) {
      if (!table.chains.has(m[1]!)) table.chains.set(m[1]!, { priority: 0, rules: [] });
      table.chains.get(m[1]!)!.rules.push(m[2]!);
      continue;
    }
    m = /^add (?:set|map) \S+ \S+ (\S+)/.exec(line);
    if (m && !table.sets.has(m[1]!)) table.sets.set(m[1]!, new Map());
    m = /^add element \S+ \S+ (\S+) \{ (.*) \}$/.exec(line);
    if (m) {
      if (!table.sets.has(m[1]!)) table.sets.set(m[1]!, new Map());
      for (const element of splitElements(m[2]!)) {
        const [key, value] = element.split(' : ');
        table.sets.get(m[1]!)!.set(key!.replace(/ comment "[^"]*"/, '').trim(), value?.trim() ?? '');
      }
    }
  }
  return table;
}

function splitElements(text: string): string[] {
  return text
    .split(/\s*,\s*(?=(?:[^"]*"[^"]*")*[^"]*$)/)
    .map((e) => e.trim())
    .filter(Boolean);
}

/** listingToCommands turns `nft list table` output into `add` commands (rules as listed). */
export function listingToCommands(text: string): string {
  const out: string[] = [];
  let chain: string | undefined;
  let set: string | undefined;
  let elements: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (elements !== undefined) {
      elements += ` ${line}`;
      if (line.endsWith('}')) {
        out.push(`add element ip kube-proxy ${set} { ${elements.replace(/^\{|\}$/g, '').trim()} }`);
        elements = undefined;
      }
      continue;
    }
    let m = /^chain (\S+) \{$/.exec(line);
    if (m) {
      chain = m[1];
      set = undefined;
      out.push(`add chain ip kube-proxy ${chain}`);
      continue;
    }
    m = /^(?:set|map) (\S+) \{$/.exec(line);
    if (m) {
      set = m[1];
      chain = undefined;
      out.push(`add set ip kube-proxy ${set}`);
      continue;
    }
    m = /^type \w+ hook (\w+) priority ([^;]+);/.exec(line);
    if (m && chain) {
      const names: Record<string, number> = { dstnat: -100, srcnat: 100, filter: 0 };
      const priority = m[2]!.replace(/(dstnat|srcnat|filter)/, (n) => String(names[n])).replace(/\s/g, '');
      out[out.length - 1] = `add chain ip kube-proxy ${chain} { type x hook ${m[1]} priority ${eval2(priority)} ; }`;
      continue;
    }
    m = /^elements = \{ (.*)$/.exec(line);
    if (m && set) {
      if (line.endsWith('}')) out.push(`add element ip kube-proxy ${set} { ${m[1]!.replace(/\}$/, '').trim()} }`);
      else elements = m[1];
      continue;
    }
    if (
      line === '}' ||
      line === '' ||
      line.startsWith('table ') ||
      line.startsWith('comment ') ||
      line.startsWith('type ') ||
      line.startsWith('flags ') ||
      line.startsWith('timeout ') ||
      line.startsWith('size ') ||
      line.startsWith('policy ')
    )
      continue;
    if (chain) out.push(`add rule ip kube-proxy ${chain} ${line}`);
  }
  return `${out.join('\n')}\n`;
}

function eval2(expr: string): number {
  const m = /^(-?\d+)([+-]\d+)?$/.exec(expr);
  return m ? Number(m[1]) + Number(m[2] ?? 0) : 0;
}

/** run expands every path through chain (a base chain's end accepts; a regular chain's end returns). */
function run(table: Table, chain: string, packet: TracePacket, state: State): State[] {
  return runFrom(table, chain, 0, packet, state);
}

function runFrom(table: Table, chain: string, from: number, packet: TracePacket, state: State): State[] {
  const rules = table.chains.get(chain)?.rules ?? [];
  const out: State[] = [];
  for (let i = from; i < rules.length; i++) {
    const rule = rules[i]!;
    const step = `${chain}: ${rule}`;
    const branches = evaluate(table, rule, packet, state);
    let rest = 0;
    for (const b of branches) {
      if (b.kind === 'nomatch') {
        rest += b.p;
        continue;
      }
      const s: State = {
        ...state,
        probability: state.probability * b.p,
        mark: b.mark ?? state.mark,
        dnat: b.dnat ?? state.dnat,
        masquerade: state.masquerade || b.masquerade === true,
        steps: [...state.steps, step],
      };
      if (b.kind === 'continue') out.push(...runFrom(table, chain, i + 1, packet, s));
      else if (b.kind === 'verdict') out.push({ ...s, verdict: b.verdict });
      else if (b.kind === 'return') out.push(s);
      else {
        const after = run(table, b.target!, view(packet, s), s);
        for (const a of after) {
          if (a.verdict !== undefined || b.kind === 'goto') out.push(a);
          else out.push(...runFrom(table, chain, i + 1, view(packet, a), a));
        }
      }
    }
    if (rest === 0) return out;
    state = { ...state, probability: state.probability * rest };
  }
  out.push(state);
  return out;
}

interface Branch {
  kind: 'nomatch' | 'continue' | 'verdict' | 'return' | 'jump' | 'goto';
  p: number;
  verdict?: string;
  target?: string;
  mark?: number;
  dnat?: string;
  masquerade?: boolean;
}

/** evaluate splits a rule into branches: its matches (with numgen's probabilities), then its statements. */
function evaluate(table: Table, rule: string, packet: TracePacket, state: State): Branch[] {
  const text = rule.replace(/ comment "[^"]*"$/, '');
  const tokens = text.match(/\{[^}]*\}|\S+/g) ?? [];
  let p = 1;
  let mark = state.mark;
  let i = 0;
  const value = (field: string): string => {
    if (field === 'ip daddr') return packet.dst;
    if (field === 'ip saddr') return packet.src;
    if (field === 'meta l4proto') return packet.protocol;
    if (field === 'th dport') return String(packet.dport);
    return '';
  };
  const inSet = (v: string, set: string): boolean => {
    // Affinity sets are filled by traffic: the packet is in one when it has affinity to that set's endpoint.
    if (set.startsWith('@affinity-'))
      return packet.affinityTo !== undefined && set.endsWith(`__${packet.affinityTo.replace(':', '/')}`);
    if (set.startsWith('@')) return table.sets.get(set.slice(1))?.has(v) ?? false;
    if (set.startsWith('{'))
      return splitElements(set.slice(1, -1)).some((e) => (e.includes('/') ? ipInCidr(v, e) : e === v));
    return set.includes('/') ? ipInCidr(v, set) : set === v;
  };
  while (i < tokens.length) {
    const t = tokens[i]!;
    // `nft list` prints the mark statements as `meta mark & M == 0x0` and `meta mark set meta mark | M` (or ^).
    if (t === 'meta' && tokens[i + 1] === 'mark') {
      if (tokens[i + 2] === '&') {
        if ((mark & Number(tokens[i + 3])) !== Number(tokens[i + 5])) return [{ kind: 'nomatch', p: 1 }];
        i += 6;
      } else {
        mark = tokens[i + 5] === '|' ? mark | Number(tokens[i + 6]) : mark ^ Number(tokens[i + 6]);
        i += 7;
      }
      continue;
    }
    // A key expression: one or more fields joined by '.'.
    const fields: string[] = [];
    let j = i;
    while (j + 1 < tokens.length && ['ip', 'meta', 'th'].includes(tokens[j]!)) {
      fields.push(`${tokens[j]} ${tokens[j + 1]}`);
      j += 2;
      if (tokens[j] === '.') j++;
      else break;
    }
    if (fields.length > 0) {
      const key = fields.map(value).join(' . ');
      const op = tokens[j];
      if (op === 'vmap') {
        const verdict = table.sets.get(tokens[j + 1]!.slice(1))?.get(key);
        if (verdict === undefined) return [{ kind: 'nomatch', p: 1 }];
        return [{ p, mark, ...verdictBranch(verdict) }, ...(p < 1 ? [{ kind: 'nomatch' as const, p: 1 - p }] : [])];
      }
      if (op === '!=') {
        if (inSet(key, tokens[j + 1]!)) return [{ kind: 'nomatch', p: 1 }];
        i = j + 2;
      } else {
        if (!inSet(key, op!)) return [{ kind: 'nomatch', p: 1 }];
        i = j + 1;
      }
      continue;
    }
    if (t === 'ct' && tokens[i + 1] === 'state') {
      if (!tokens[i + 2]!.includes('new')) return [{ kind: 'nomatch', p: 1 }];
      i += 3;
    } else if (t === 'ct' && tokens[i + 1] === 'status') {
      if (tokens[i + 2] === 'dnat' && state.dnat === undefined) return [{ kind: 'nomatch', p: 1 }];
      i += 3;
    } else if (t === 'fib') {
      const which = tokens[i + 1] === 'daddr' ? packet.dst : packet.src;
      const local = tokens[i + 1] === 'saddr' && packet.fromNode ? true : isLocal(which, packet);
      if (!local) return [{ kind: 'nomatch', p: 1 }];
      i += 4;
    } else if (t === 'numgen') {
      const n = Number(tokens[i + 3]);
      if (tokens[i + 4] === 'vmap') {
        const map = tokens[i + 5]!;
        const entries = map.startsWith('@')
          ? [...(table.sets.get(map.slice(1)) ?? [])]
          : splitElements(map.slice(1, -1)).map((e) => e.split(' : ') as [string, string]);
        return entries.map(([, v]) => ({ p: p / n, mark, ...verdictBranch(v.trim()) }));
      }
      if (/^\d+$/.test(tokens[i + 4] ?? '')) {
        p *= 1 / n;
        i += 5;
      } else i += 4;
    } else if (t === 'mark' && tokens[i + 1] === 'and') {
      if (((mark & Number(tokens[i + 2])) === Number(tokens[i + 4])) !== true) return [{ kind: 'nomatch', p: 1 }];
      i += 5;
    } else if (t === 'mark' && tokens[i + 1] === 'set') {
      mark = tokens[i + 3] === 'or' ? mark | Number(tokens[i + 4]) : mark ^ Number(tokens[i + 4]);
      i += 5;
    } else if (t === 'update') i += 3;
    else if (t === 'dnat') return withRest(p, { kind: 'verdict', p: 1, verdict: 'dnat', dnat: tokens[i + 2], mark });
    else if (t === 'masquerade')
      return withRest(p, { kind: 'verdict', p: 1, verdict: 'accept', masquerade: true, mark });
    else if (['jump', 'goto', 'return', 'drop', 'reject', 'accept'].includes(t))
      return withRest(p, {
        mark,
        ...verdictBranch(`${t}${tokens[i + 1] && ['jump', 'goto'].includes(t) ? ` ${tokens[i + 1]}` : ''}`),
        p: 1,
      });
    else i++;
  }
  return withRest(p, { kind: 'continue', p: 1, mark });
}

function withRest(p: number, branch: Branch): Branch[] {
  return p < 1
    ? [
        { ...branch, p },
        { kind: 'nomatch', p: 1 - p },
      ]
    : [branch];
}

function verdictBranch(verdict: string): Omit<Branch, 'p'> {
  const [word, target] = verdict.split(' ');
  if (word === 'jump' || word === 'goto') return { kind: word, target };
  if (word === 'return') return { kind: 'return' };
  return { kind: 'verdict', verdict: word };
}
