/**
 * duration reads and prints Go's time.Duration strings (`1h2m3.5s`, `-250ms`, `0`): flags, configuration files and
 * metav1.Duration all use them. The nanosecond forms are exact for the protobuf codec; the millisecond forms are what
 * timers want.
 */

const UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** parseGoDuration reads a Go duration (`1h2m3.5s`, `-250ms`, `0`) into nanoseconds; anything else is a RangeError. */
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

/** parseDuration reads a Go duration (`30s`, `1m30s`, `15m0s`, `250ms`, `24h0m0s`) into milliseconds. */
export function parseDuration(text: string): number {
  return parseGoDuration(text) / 1e6;
}

/** formatDuration prints milliseconds as Go's time.Duration.String does (`30s`, `15m0s`, `24h0m0s`, `250ms`). */
export function formatDuration(ms: number): string {
  return formatGoDuration(Math.round(ms * 1e6));
}

function trimFraction(x: number): string {
  return String(Number(x.toFixed(9)));
}
