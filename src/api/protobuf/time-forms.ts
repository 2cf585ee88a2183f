/**
 * time-forms converts upstream's time values between their JSON strings and protobuf numbers: metav1.Time (RFC 3339,
 * seconds), metav1.MicroTime (RFC 3339 with six fraction digits) and metav1.Duration (Go's time.Duration string).
 */

/** parseTime reads an RFC 3339 timestamp into protobuf's seconds + nanos; a malformed one is a RangeError. */
export function parseTime(text: string): { seconds: number; nanos: number } {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/i.exec(text);
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN;
  if (!m || Number.isNaN(ms)) throw new RangeError(`Cannot parse time "${text}": want RFC 3339`);
  return { seconds: Math.floor(ms / 1000), nanos: m[2] ? Number(m[2].padEnd(9, '0')) : 0 };
}

/** formatTime prints seconds since the epoch as upstream's metav1.Time JSON (`2006-01-02T15:04:05Z`). */
export function formatTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** formatMicroTime prints upstream's metav1.MicroTime JSON (`2006-01-02T15:04:05.000000Z`). */
export function formatMicroTime(seconds: number, nanos: number): string {
  const micros = String(Math.floor(nanos / 1000)).padStart(6, '0');
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, `.${micros}Z`);
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** parseGoDuration reads a Go duration (`1h2m3.5s`, `-250ms`, `0`) into nanoseconds. */
export function parseGoDuration(text: string): number {
  if (text === '0') return 0;
  const sign = text.startsWith('-') ? -1 : 1;
  const body = text.replace(/^[-+]/, '');
  let total = 0;
  let consumed = 0;
  for (const m of body.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * UNITS[m[2]!]!;
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== body.length) throw new RangeError(`time: invalid duration "${text}"`);
  return sign * Math.round(total);
}

/** formatGoDuration prints nanoseconds as Go's time.Duration.String does (`1h0m0s`, `1.5s`, `250ms`, `0s`). */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let n = Math.abs(ns);
  if (n < 1e9) {
    const [unit, size] = n < 1e3 ? ['ns', 1] : n < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    return `${sign}${trimFraction(n / (size as number))}${unit}`;
  }
  const h = Math.floor(n / 3600e9);
  n -= h * 3600e9;
  const m = Math.floor(n / 60e9);
  n -= m * 60e9;
  const s = trimFraction(n / 1e9);
  if (h > 0) return `${sign}${h}h${m}m${s}s`;
  if (m > 0) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}

function trimFraction(x: number): string {
  return String(Number(x.toFixed(9)));
}
