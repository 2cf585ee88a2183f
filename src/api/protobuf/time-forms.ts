/**
 * time-forms converts upstream's time values between their JSON strings and protobuf numbers: metav1.Time (RFC 3339,
 * seconds), metav1.MicroTime (RFC 3339 with six fraction digits) and metav1.Duration (Go's time.Duration string).
 */

import { timestamp } from '../time.ts';

/** parseTime reads an RFC 3339 timestamp into protobuf's seconds + nanos; a malformed one is a RangeError. */
export function parseTime(text: string): { seconds: number; nanos: number } {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/i.exec(text);
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN;
  if (!m || Number.isNaN(ms)) throw new RangeError(`Cannot parse time "${text}": want RFC 3339`);
  return { seconds: Math.floor(ms / 1000), nanos: m[2] ? Number(m[2].padEnd(9, '0')) : 0 };
}

/** formatTime prints seconds since the epoch as upstream's metav1.Time JSON (`2006-01-02T15:04:05Z`). */
export function formatTime(seconds: number): string {
  return timestamp(seconds * 1000);
}

/** formatMicroTime prints upstream's metav1.MicroTime JSON (`2006-01-02T15:04:05.000000Z`). */
export function formatMicroTime(seconds: number, nanos: number): string {
  const micros = String(Math.floor(nanos / 1000)).padStart(6, '0');
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, `.${micros}Z`);
}

export { formatGoDuration, parseGoDuration } from '../duration.ts';
