/**
 * Own-property access for objects built from client input. JavaScript objects inherit from Object.prototype, so a
 * key such as `__proto__`, `constructor` or `prototype` read with `o[k]` or `k in o` reaches shared prototypes, and
 * `o[k] = v` with `__proto__` replaces an object's prototype. Go's maps and structs have no such keys: upstream
 * treats these names as ordinary field names, and so does every path here (decode, patches, apply, labels).
 */

/** JsonObject is a decoded JSON object: its members are arbitrary JSON, read through narrowing. */
export type JsonObject = Record<string, unknown>;

/** hasOwn tells whether value is a non-array object holding key itself (never through its prototype). */
export function hasOwn(value: unknown, key: string): boolean {
  return value !== null && typeof value === 'object' && Object.hasOwn(value, key);
}

/** getOwn reads key only when the object holds it itself; inherited members read as undefined. */
export function getOwn(value: unknown, key: string): unknown {
  return hasOwn(value, key) ? (value as JsonObject)[key] : undefined;
}

/** setOwn writes key as a plain data property, also for `__proto__` (which `o[k] = v` would turn into a prototype change). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/** isPlainObject tells whether value is a JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * displayValue prints client input for a message. `${v}` and String(v) call v's toString (or an array's elements'),
 * which a decoded object may hold as a plain member (`{"toString": 1}`): that throws instead of printing.
 */
export function displayValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return String(value);
  return JSON.stringify(value) ?? 'null';
}
