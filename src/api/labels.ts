/**
 * Label selectors in both forms Kubernetes uses: the query-string form (`app=nginx,tier!=db,env in (a,b),!canary`)
 * and the object form (metav1.LabelSelector with matchLabels and matchExpressions). Both become a list of
 * Requirements that match a label map. Pure; shared by the API server, controllers, scheduler and proxy.
 */
export type Operator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Equals' | 'NotEquals';

export interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

/** Selector is a parsed selector: every requirement must hold (AND). An empty selector matches everything. */
export type Selector = readonly Requirement[];

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** parseSelector reads the query-string form; it throws SyntaxError with upstream-like wording on bad input. */
export function parseSelector(text: string): Selector {
  const requirements: Requirement[] = [];
  const input = text.trim();
  if (input === '') return requirements;
  for (const term of splitTerms(input)) {
    const t = term.trim();
    if (t === '') throw new SyntaxError(`unable to parse requirement: found '', expected: identifier`);
    let m: RegExpMatchArray | null;
    if ((m = t.match(/^!\s*([^\s=!(),]+)$/))) {
      requirements.push({ key: m[1]!, operator: 'DoesNotExist', values: [] });
    } else if ((m = t.match(/^([^\s=!(),]+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
      const values = m[3]!
        .split(',')
        .map((v) => v.trim())
        .filter((v, _i, all) => v !== '' || all.length === 1);
      requirements.push({ key: m[1]!, operator: m[2] === 'in' ? 'In' : 'NotIn', values });
    } else if ((m = t.match(/^([^\s=!(),]+)\s*(==|=|!=)\s*([^\s=!(),]*)$/))) {
      requirements.push({ key: m[1]!, operator: m[2] === '!=' ? 'NotEquals' : 'Equals', values: [m[3]!] });
    } else if ((m = t.match(/^([^\s=!(),]+)$/))) {
      requirements.push({ key: m[1]!, operator: 'Exists', values: [] });
    } else {
      throw new SyntaxError(`unable to parse requirement: "${t}"`);
    }
  }
  for (const r of requirements) validateKey(r.key);
  return requirements;
}

/** selectorFromObject converts a metav1.LabelSelector; undefined or null selects nothing, `{}` selects everything. */
export function selectorFromObject(selector: LabelSelector | null | undefined): Selector | undefined {
  if (selector === undefined || selector === null) return undefined;
  const requirements: Requirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  )) {
    requirements.push({ key, operator: 'Equals', values: [value] });
  }
  for (const e of selector.matchExpressions ?? []) {
    const operator = ({ In: 'In', NotIn: 'NotIn', Exists: 'Exists', DoesNotExist: 'DoesNotExist' } as const)[
      e.operator as 'In'
    ];
    if (operator === undefined) throw new SyntaxError(`"${e.operator}" is not a valid label selector operator`);
    requirements.push({ key: e.key, operator, values: [...(e.values ?? [])] });
  }
  return requirements;
}

/** selectorFromMap is the equality selector of a plain map, as Service and ReplicationController selectors are. */
export function selectorFromMap(map: Record<string, string> | null | undefined): Selector {
  return selectorFromObject({ matchLabels: map ?? {} })!;
}

/** matches tells whether labels satisfy every requirement. */
export function matches(selector: Selector, labels: Record<string, string> | null | undefined): boolean {
  const l = labels ?? {};
  for (const r of selector) {
    const has = Object.hasOwn(l, r.key);
    const value = l[r.key];
    switch (r.operator) {
      case 'Equals':
      case 'In':
        if (!has || !r.values.includes(value!)) return false;
        break;
      case 'NotEquals':
      case 'NotIn':
        if (has && r.values.includes(value!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** formatSelector prints a selector in the query-string form, as kubectl's Selector columns show it. */
export function formatSelector(selector: Selector): string {
  return selector
    .map((r) => {
      switch (r.operator) {
        case 'Equals':
          return `${r.key}=${r.values[0]}`;
        case 'NotEquals':
          return `${r.key}!=${r.values[0]}`;
        case 'In':
          return `${r.key} in (${[...r.values].sort().join(',')})`;
        case 'NotIn':
          return `${r.key} notin (${[...r.values].sort().join(',')})`;
        case 'Exists':
          return r.key;
        default:
          return `!${r.key}`;
      }
    })
    .join(',');
}

/** formatLabels prints a label map as `k=v,k=v` sorted by key (kubectl's LABELS column and describe). */
export function formatLabels(labels: Record<string, string> | null | undefined): string {
  const entries = Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.map(([k, v]) => `${k}=${v}`).join(',');
}

function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms;
}

function validateKey(key: string): void {
  if (!/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(key)) {
    throw new SyntaxError(
      `invalid label key "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    );
  }
}
