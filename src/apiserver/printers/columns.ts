import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { KubeObject, Stored } from '../../api/objects.ts';

/** What every printer shares: the column and printer types, the Name and Age columns, upstream's cell formats. */
export type Column = [name: string, type: string, priority: number, description: string];

/** Printer is the columns of one resource and the cells of one of its objects (as stored: metadata.name is set). */
export interface Printer<T extends KubeObject = KubeObject> {
  columns: Column[];
  // Method syntax on purpose: a Printer<Pod> is usable where a Printer<KubeObject> is (see printerFor).
  row(object: Stored<T>, now: number): unknown[];
}

/** Printers is a printer per resource, each typed with its objects' kubernetes-types type. */
export type Printers<Types> = { [R in keyof Types]: Printer<Types[R] & KubeObject> };

export const NAME: Column = ['Name', 'string', 0, 'Name must be unique within a namespace.'];
export const AGE: Column = [
  'Age',
  'string',
  0,
  'CreationTimestamp is a timestamp representing the server time when this object was created.',
];

export function age(object: KubeObject, now: number): string {
  const t = Date.parse(object.metadata?.creationTimestamp ?? '');
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
}

export function selectorText(selector: LabelSelector | undefined): string {
  if (!selector) return '<none>';
  const parts = Object.entries(selector.matchLabels ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator.toLowerCase()} (${[...(e.values ?? [])].sort().join(',')})`);
  }
  return parts.length ? parts.join(',') : '<none>';
}

/** humanDuration is upstream's duration.HumanDuration: `45s`, `2m5s`, `12m`, `5h3m`, `3d4h`, `45d`, `2y3d`. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}
