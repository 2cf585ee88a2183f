/**
 * time: upstream's timestamp forms in JSON. metav1.Time is RFC 3339 in whole seconds (`2006-01-02T15:04:05Z`),
 * metav1.MicroTime has six fraction digits (`2006-01-02T15:04:05.000000Z`).
 */

/** timestamp is metav1.Time for a moment (a Date or milliseconds since the epoch; default now). */
export function timestamp(at: Date | number = Date.now()): string {
  return new Date(at).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** microTimestamp is metav1.MicroTime for a moment (default now); JavaScript clocks give milliseconds, so the last three digits are 0. */
export function microTimestamp(at: Date | number = Date.now()): string {
  return new Date(at).toISOString().replace(/Z$/, '000Z');
}
