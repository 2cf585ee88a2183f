import type { KubeObject } from '../api/objects.ts';

/**
 * Decoded is an object as a client sent it, after typed decoding with its kind's schema (typed-decode.ts): every
 * field has its kubernetes-types type, but any of them may be missing, the required ones too (reporting those is
 * validation's job, and defaulting fills some in). metadata keeps ObjectMeta as it is, so that a Decoded object is
 * a KubeObject: the registry has set what metadata needs before per-kind code sees it.
 */
export type Decoded<T> = T extends readonly (infer E)[]
  ? Decoded<E>[]
  : T extends object
    ? { [K in keyof T as string extends K ? never : K]?: K extends 'metadata' ? T[K] : Decoded<T[K]> } & {
        // A map (labels, data, selector) keeps its index signature as it is: its values are there when their keys are.
        [K in keyof T as string extends K ? K : never]: Decoded<T[K]>;
      }
    : T;

/**
 * PerKind is a handler per kind (defaulting, validation, ...), each taking that kind's type: the object and, on an
 * update, the old one.
 */
export type PerKind<Types, R> = { [K in keyof Types]?: (object: Types[K], old: Types[K] | undefined) => R };

/**
 * handlerFor is the one place a per-kind handler meets an object of any kind. The registry calls its dispatchers
 * with the kind of the resource being written, after decoding the body with that kind's schema, so the object is of
 * the type the handler keyed by `kind` takes: that is what the cast says.
 */
export function handlerFor<R>(
  handlers: { readonly [kind: string]: ((object: never, old: never) => R) | undefined },
  kind: string,
): ((object: KubeObject, old: KubeObject | undefined) => R) | undefined {
  if (!Object.hasOwn(handlers, kind)) return undefined;
  return handlers[kind] as ((object: KubeObject, old: KubeObject | undefined) => R) | undefined;
}

/** isOneOf says whether a decoded value (of whatever type the client sent) is one of the allowed strings. */
export function isOneOf(allowed: readonly string[], value: unknown): boolean {
  return allowed.some((a) => a === value);
}
