/**
 * CronSchedule is a CronJob's `spec.schedule` as upstream parses it (robfig/cron's standard parser): five fields
 * (minute hour day-of-month month day-of-week) with `*`, `?`, lists, ranges, steps and month/day names, or a
 * descriptor (`@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`). As in cron, when
 * both day fields are restricted a time matches either of them. Times are evaluated in an IANA time zone.
 */
export interface CronSchedule {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  /** Whether day-of-month / day-of-week were `*` or `?` (then only the other restricts). */
  anyDay: boolean;
  anyWeekday: boolean;
}

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};
const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** parseCron parses a schedule or throws SyntaxError with robfig-like wording. */
export function parseCron(text: string): CronSchedule {
  const trimmed = text.trim();
  if (/^(TZ|CRON_TZ)=/.test(trimmed))
    throw new SyntaxError('cannot use TZ or CRON_TZ in schedule, use timeZone field instead');
  const expanded = trimmed.startsWith('@') ? DESCRIPTORS[trimmed] : trimmed;
  if (expanded === undefined) throw new SyntaxError(`unrecognized descriptor: ${trimmed}`);
  const fields = expanded.split(/\s+/).filter(Boolean);
  if (fields.length !== 5) throw new SyntaxError(`expected exactly 5 fields, found ${fields.length}: ${trimmed}`);
  const [m, h, dom, mon, dow] = fields as [string, string, string, string, string];
  return {
    minutes: parseField(m, 0, 59),
    hours: parseField(h, 0, 23),
    days: parseField(dom, 1, 31),
    months: parseField(mon, 1, 12, MONTH_NAMES, 1),
    weekdays: new Set([...parseField(dow, 0, 7, DAY_NAMES, 0)].map((d) => d % 7)),
    anyDay: dom === '*' || dom === '?',
    anyWeekday: dow === '*' || dow === '?',
  };
}

function parseField(field: string, min: number, max: number, names: string[] = [], nameBase = 0): Set<number> {
  const out = new Set<number>();
  for (const part of field.split(',')) {
    const [range, stepText] = part.split('/') as [string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw new SyntaxError(`failed to parse int from ${stepText}: invalid step`);
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      lo = min;
      hi = max;
    } else {
      const [a, b] = range.split('-') as [string, string | undefined];
      lo = value(a, names, nameBase);
      hi = b === undefined ? (stepText === undefined ? lo : max) : value(b, names, nameBase);
    }
    if (lo < min) throw new SyntaxError(`beginning of range (${lo}) below minimum (${min}): ${part}`);
    if (hi > max) throw new SyntaxError(`end of range (${hi}) above maximum (${max}): ${part}`);
    if (lo > hi) throw new SyntaxError(`beginning of range (${lo}) beyond end of range (${hi}): ${part}`);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

function value(text: string, names: string[], nameBase: number): number {
  const i = names.indexOf(text.toLowerCase());
  if (i !== -1) return i + nameBase;
  if (!/^\d+$/.test(text)) throw new SyntaxError(`failed to parse int from ${text}: invalid syntax`);
  return Number(text);
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}

/** wallClock gives the calendar fields of an instant in a time zone (UTC when undefined). */
function wallClock(ms: number, timeZone: string | undefined): Wall {
  if (!timeZone || timeZone === 'UTC' || timeZone === 'Etc/UTC') {
    const d = new Date(ms);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      weekday: d.getUTCDay(),
    };
  }
  const parts = formatter(timeZone).formatToParts(new Date(ms));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return {
    year: Number(get('year')),
    month: Number(get('month')),
    day: Number(get('day')),
    hour: Number(get('hour')) % 24,
    minute: Number(get('minute')),
    weekday: DAY_NAMES.indexOf(get('weekday').toLowerCase().slice(0, 3)),
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** validTimeZone tells whether the runtime knows an IANA zone name (CronJob `spec.timeZone`). */
export function validTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

function dayMatches(s: CronSchedule, w: Wall): boolean {
  const dom = s.days.has(w.day);
  const dow = s.weekdays.has(w.weekday);
  if (s.anyDay && s.anyWeekday) return true;
  if (s.anyDay) return dow;
  if (s.anyWeekday) return dom;
  return dom || dow;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * nextAfter is the first scheduled minute strictly after `afterMs`, or undefined if none comes within five years
 * (e.g. `0 0 30 2 *`). Non-matching days and hours are skipped whole, so a search costs at most a few thousand steps.
 */
export function nextAfter(s: CronSchedule, afterMs: number, timeZone?: string): number | undefined {
  let t = Math.floor(afterMs / MINUTE) * MINUTE + MINUTE;
  const limit = afterMs + 5 * 366 * 24 * HOUR;
  while (t <= limit) {
    const w = wallClock(t, timeZone);
    if (!s.months.has(w.month) || !dayMatches(s, w)) {
      // Jump to the next wall-clock midnight (approximately: step an hour at a time across DST days).
      t += ((23 - w.hour) * 60 + (60 - w.minute)) * MINUTE;
      continue;
    }
    if (!s.hours.has(w.hour)) {
      t += (60 - w.minute) * MINUTE;
      continue;
    }
    if (!s.minutes.has(w.minute)) {
      t += MINUTE;
      continue;
    }
    return t;
  }
  return undefined;
}
