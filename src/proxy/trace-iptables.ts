import { JUMP_RULES } from './jump-rules.ts';
import { ipInCidr, isLocal, type TraceOutcome, type TracePacket } from './trace.ts';

/**
 * traceIptables follows a new connection through an iptables ruleset: `iptables-save` output (with `-c` the rules'
 * counters are shown) or what `tskube proxy render` prints (no built-in chains: kube-proxy's jump rules are
 * assumed). Nat PREROUTING (OUTPUT from the node), then filter INPUT / FORWARD (OUTPUT), then nat POSTROUTING.
 * Pure; only the matches kube-proxy writes are understood (others are assumed to match).
 */
export function traceIptables(text: string, packet: TracePacket): TraceOutcome[] {
  const tables = parseSave(text);
  const nat = tables.get('nat') ?? new Map();
  const filter = tables.get('filter') ?? new Map();
  const out: TraceOutcome[] = [];
  const start: State = { probability: 1, mark: 0, dnat: undefined, verdict: undefined, steps: [] };
  for (const afterNat of walk(nat, packet.fromNode ? 'OUTPUT' : 'PREROUTING', 'nat', packet, start)) {
    if (afterNat.verdict === 'DROP' || afterNat.verdict === 'REJECT') {
      out.push(finish(afterNat, false));
      continue;
    }
    // After DNAT, filter and postrouting see the endpoint as the destination.
    const translated = afterNat.dnat
      ? { ...packet, dst: afterNat.dnat.split(':')[0]!, dport: Number(afterNat.dnat.split(':')[1]) }
      : packet;
    const hook = packet.fromNode ? 'OUTPUT' : isLocal(translated.dst, packet) ? 'INPUT' : 'FORWARD';
    for (const afterFilter of walk(filter, hook, 'filter', translated, { ...afterNat, verdict: undefined })) {
      if (afterFilter.verdict === 'DROP' || afterFilter.verdict === 'REJECT') {
        out.push(finish(afterFilter, false));
        continue;
      }
      for (const post of walk(nat, 'POSTROUTING', 'nat', translated, { ...afterFilter, verdict: undefined }))
        out.push(finish(post, post.verdict === 'MASQUERADE'));
    }
  }
  return out;
}

interface Rule {
  args: string[];
  text: string;
  counters?: string;
}

interface State {
  probability: number;
  mark: number;
  dnat: string | undefined;
  verdict: string | undefined;
  steps: string[];
}

function finish(s: State, masquerade: boolean): TraceOutcome {
  const result = s.verdict === 'DROP' || s.verdict === 'REJECT' ? s.verdict : (s.dnat ?? 'ACCEPT');
  return { probability: s.probability, result, masquerade, steps: s.steps };
}

/** parseSave reads iptables-save text into table → chain → rules. */
export function parseSave(text: string): Map<string, Map<string, Rule[]>> {
  const tables = new Map<string, Map<string, Rule[]>>();
  let table: Map<string, Rule[]> | undefined;
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (line.startsWith('*')) tables.set(line.slice(1), (table = new Map()));
    if (!table) continue;
    if (line.startsWith(':')) table.set(line.slice(1).split(' ')[0]!, table.get(line.slice(1).split(' ')[0]!) ?? []);
    let counters: string | undefined;
    const c = /^\[(\d+):(\d+)\] /.exec(line);
    if (c) {
      counters = `${c[1]} packets`;
      line = line.slice(c[0].length);
    }
    if (!line.startsWith('-A ')) continue;
    const args = tokenize(line);
    const chain = args[1]!;
    if (!table.has(chain)) table.set(chain, []);
    table.get(chain)!.push({ args: args.slice(2), text: line.slice(3 + chain.length + 1), counters });
  }
  return tables;
}

/** tokenize splits an iptables rule into its arguments as the shell would (double quotes group, backslash escapes). */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2]!);
  return out;
}

/** The built-in chains' kube-proxy jumps, for rulesets without them (proxy render output). */
function builtinRules(table: string, chain: string): Rule[] {
  return JUMP_RULES.filter((r) => r.table === table && r.from === chain).map((r) => ({
    args: [...r.args, '-j', r.to],
    text: `${r.args.join(' ')} -j ${r.to}`,
  }));
}

/** walk expands every path through chain, yielding the state where each ends (RETURN from a built-in: accept). */
function* walk(
  chains: Map<string, Rule[]>,
  chain: string,
  table: string,
  packet: TracePacket,
  state: State,
): Generator<State> {
  const rules =
    chains.get(chain) ??
    (['PREROUTING', 'OUTPUT', 'INPUT', 'FORWARD', 'POSTROUTING'].includes(chain)
      ? builtinRules(table, chain)
      : undefined);
  if (!rules) {
    yield state;
    return;
  }
  yield* walkRules(chains, chain, rules, 0, table, packet, state);
}

function* walkRules(
  chains: Map<string, Rule[]>,
  chain: string,
  rules: Rule[],
  from: number,
  table: string,
  packet: TracePacket,
  state: State,
): Generator<State> {
  for (let i = from; i < rules.length; i++) {
    const rule = rules[i]!;
    const p = matchProbability(rule.args, packet, state, chains);
    if (p === 0) continue;
    const step = `${table} ${chain}: ${rule.text}${rule.counters ? `  [${rule.counters}]` : ''}`;
    const matched: State = { ...state, probability: state.probability * p, steps: [...state.steps, step] };
    yield* apply(chains, rule, table, packet, matched, (s) => walkRules(chains, chain, rules, i + 1, table, packet, s));
    if (p === 1) return;
    state = { ...state, probability: state.probability * (1 - p) };
  }
  yield state;
}

/** apply runs a matched rule's target, then continue() for the rest of the chain when the target does not end it. */
function* apply(
  chains: Map<string, Rule[]>,
  rule: Rule,
  table: string,
  packet: TracePacket,
  state: State,
  next: (s: State) => Generator<State>,
): Generator<State> {
  const j = rule.args.indexOf('-j');
  const target = j >= 0 ? rule.args[j + 1]! : undefined;
  const value = (flag: string) => rule.args[rule.args.indexOf(flag) + 1]!;
  if (target === undefined) yield* next(state);
  else if (target === 'ACCEPT' || target === 'DROP' || target === 'REJECT' || target === 'MASQUERADE')
    yield { ...state, verdict: target };
  else if (target === 'RETURN') yield state;
  else if (target === 'DNAT') yield { ...state, dnat: value('--to-destination'), verdict: 'DNAT' };
  else if (target === 'MARK') yield* next({ ...state, mark: applyMark(rule.args, state.mark) });
  else {
    for (const after of walk(chains, target, table, packet, state)) {
      if (after.verdict !== undefined) yield after;
      else yield* next(after);
    }
  }
}

/**
 * applyMark is the MARK target, as written (`--or-mark`, `--xor-mark`) and as iptables-save prints it (`--set-xmark
 * V/M`: clear M, then xor V; `--or-mark 0x4000` comes back as `--set-xmark 0x4000/0x4000`).
 */
export function applyMark(args: readonly string[], mark: number): number {
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i < 0 ? undefined : args[i + 1];
  };
  const or = value('--or-mark');
  if (or !== undefined) return (mark | Number(or)) >>> 0;
  const xor = value('--xor-mark');
  if (xor !== undefined) return (mark ^ Number(xor)) >>> 0;
  const and = value('--and-mark');
  if (and !== undefined) return (mark & Number(and)) >>> 0;
  const xset = value('--set-xmark');
  const set = value('--set-mark');
  const [v, m] = (xset ?? set ?? '').split('/');
  if (v === undefined || v === '') return mark;
  const cleared = (mark & ~(m === undefined ? 0xffffffff : Number(m))) >>> 0;
  return (xset !== undefined ? cleared ^ Number(v) : cleared | Number(v)) >>> 0;
}

/** matchProbability is 1 or 0 for plain matches, p for `-m statistic --mode random --probability p`. */
function matchProbability(args: string[], packet: TracePacket, state: State, chains: Map<string, Rule[]>): number {
  let p = 1;
  for (let i = 0; i < args.length; i++) {
    const negate = args[i] === '!';
    const a = negate ? args[++i]! : args[i]!;
    const v = args[i + 1];
    let ok: boolean | undefined;
    if (a === '-s') ok = ipInCidr(packet.src, v!);
    else if (a === '-d') ok = ipInCidr(packet.dst, v!);
    else if (a === '-p') ok = v === packet.protocol;
    else if (a === '--dport') ok = Number(v) === packet.dport;
    else if (a === '--dst-type') ok = v === 'LOCAL' ? isLocal(packet.dst, packet) : false;
    else if (a === '--src-type') ok = v === 'LOCAL' ? packet.fromNode === true || isLocal(packet.src, packet) : false;
    else if (a === '--mark') {
      const [value, mask] = v!.split('/').map(Number);
      ok = (state.mark & (mask ?? 0xffffffff)) >>> 0 === value;
    } else if (a === '--ctstate')
      ok = v!.split(',').some((s) => s === 'NEW' || (s === 'DNAT' && state.dnat !== undefined));
    else if (a === '--probability') p *= Number(v);
    else if (a === '--rcheck')
      ok = packet.affinityTo !== undefined && dnatOf(chains, args[args.indexOf('--name') + 1]!) === packet.affinityTo;
    if (ok === undefined) continue;
    if (ok === negate) return 0;
    i++;
  }
  return p;
}

function dnatOf(chains: Map<string, Rule[]>, chain: string): string | undefined {
  for (const r of chains.get(chain) ?? [])
    if (r.args.includes('DNAT')) return r.args[r.args.indexOf('--to-destination') + 1];
  return undefined;
}
