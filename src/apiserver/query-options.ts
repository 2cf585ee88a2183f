import { isPlainObject } from '../api/own-properties.ts';
import { badRequest, invalid, type StatusCause } from '../api/status.ts';

/**
 * Query parameters of the REST verbs, parsed and checked as upstream's parameter codec and option validation do:
 * a value that does not parse (`limit=abc`) is a 400 with Go's strconv wording; a value that parses but is not
 * allowed (`dryRun=Bogus`, `propagationPolicy=Sideways`) is a 422 on the options kind (`CreateOptions.meta.k8s.io`).
 */

const META = 'meta.k8s.io';

/** parseInt64 reads an integer parameter with Go's strconv.ParseInt rules (400 otherwise); undefined when absent. */
export function parseInt64(q: URLSearchParams, name: string): number | undefined {
  const raw = q.get(name);
  if (raw === null) return undefined;
  if (!/^[+-]?[0-9]+$/.test(raw)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(raw)}: invalid syntax`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value))
    throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(raw)}: value out of range`);
  return value;
}

/** parseBool reads a boolean parameter with Go's strconv.ParseBool rules (400 otherwise); undefined when absent. */
export function parseBool(q: URLSearchParams, name: string): boolean | undefined {
  const raw = q.get(name);
  if (raw === null) return undefined;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False', ''].includes(raw)) return false;
  throw badRequest(`strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax`);
}

function goStrings(values: string[]): string {
  return `[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`;
}

function optionsInvalid(kind: string, causes: StatusCause[]): never {
  throw invalid({ group: META, kind }, '', causes);
}

/** WriteQuery is what create, update, patch and delete share: a dry run, and (not delete) the field manager and validation. */
export interface WriteQuery {
  dryRun: boolean;
  fieldManager: string | undefined;
  fieldValidation: 'Strict' | 'Warn' | 'Ignore';
}

/** writeQuery checks dryRun (only `All`), fieldManager (printable, at most 128) and fieldValidation for one verb. */
export function writeQuery(
  q: URLSearchParams,
  kind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' | 'DeleteOptions',
  apply = false,
): WriteQuery {
  const causes: StatusCause[] = [];
  const dryRun = q.getAll('dryRun');
  if (dryRun.some((v) => v !== 'All')) {
    causes.push({
      reason: 'FieldValueNotSupported',
      field: 'dryRun',
      message: `Unsupported value: ${goStrings(dryRun)}: supported values: "All"`,
    });
  }
  const fieldManager = q.get('fieldManager') ?? undefined;
  if (kind !== 'DeleteOptions') {
    if (fieldManager !== undefined) {
      if (fieldManager.length > 128)
        causes.push({
          reason: 'FieldValueTooLong',
          field: 'fieldManager',
          message: `Too long: may not be more than 128 bytes`,
        });
      // eslint-disable-next-line no-control-regex
      if (/[^\x20-\x7e]/.test(fieldManager))
        causes.push({
          reason: 'FieldValueInvalid',
          field: 'fieldManager',
          message: `Invalid value: ${JSON.stringify(fieldManager)}: must only contain printable characters`,
        });
    } else if (apply) {
      causes.push({
        reason: 'FieldValueRequired',
        field: 'fieldManager',
        message: 'Required value: is required for apply patch',
      });
    }
  }
  const validation = q.get('fieldValidation') ?? '';
  if (!['', 'Ignore', 'Warn', 'Strict'].includes(validation)) {
    causes.push({
      reason: 'FieldValueNotSupported',
      field: 'fieldValidation',
      message: `Unsupported value: ${JSON.stringify(validation)}: supported values: "Ignore", "Strict", "Warn"`,
    });
  }
  const force = q.get('force');
  if (force !== null && !apply && kind === 'PatchOptions') {
    causes.push({
      reason: 'FieldValueForbidden',
      field: 'force',
      message: 'Forbidden: may not be specified for non-apply patch',
    });
  }
  if (causes.length) optionsInvalid(kind, causes);
  return {
    dryRun: dryRun.length > 0,
    fieldManager,
    fieldValidation: (validation || 'Warn') as WriteQuery['fieldValidation'],
  };
}

/** ListQueryOptions are the checked list and watch parameters. */
export interface ListQueryOptions {
  watch: boolean;
  limit: number | undefined;
  continueToken: string | undefined;
  resourceVersion: string | undefined;
  resourceVersionMatch: string | undefined;
  timeoutSeconds: number | undefined;
  allowWatchBookmarks: boolean;
}

/** listQuery checks limit, continue, watch, timeoutSeconds, resourceVersion and resourceVersionMatch. */
export function listQuery(q: URLSearchParams): ListQueryOptions {
  const watch = parseBool(q, 'watch') ?? false;
  const limit = parseInt64(q, 'limit');
  const timeoutSeconds = parseInt64(q, 'timeoutSeconds');
  const allowWatchBookmarks = parseBool(q, 'allowWatchBookmarks') ?? false;
  parseBool(q, 'sendInitialEvents');
  const resourceVersion = q.get('resourceVersion') ?? undefined;
  const resourceVersionMatch = q.get('resourceVersionMatch') ?? undefined;
  const continueToken = q.get('continue') || undefined;
  const causes: StatusCause[] = [];
  if (resourceVersion !== undefined && resourceVersion !== '' && !/^[0-9]+$/.test(resourceVersion)) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'resourceVersion',
      message: `Invalid value: ${JSON.stringify(resourceVersion)}: must be a non-negative integer`,
    });
  }
  if (resourceVersionMatch !== undefined && resourceVersionMatch !== '') {
    if (watch) {
      causes.push({
        reason: 'FieldValueForbidden',
        field: 'resourceVersionMatch',
        message: 'Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
      });
    } else if (!['NotOlderThan', 'Exact'].includes(resourceVersionMatch)) {
      causes.push({
        reason: 'FieldValueNotSupported',
        field: 'resourceVersionMatch',
        message: `Unsupported value: ${JSON.stringify(resourceVersionMatch)}: supported values: "Exact", "NotOlderThan"`,
      });
    } else if (!resourceVersion) {
      causes.push({
        reason: 'FieldValueForbidden',
        field: 'resourceVersionMatch',
        message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
      });
    } else if (resourceVersionMatch === 'Exact' && resourceVersion === '0') {
      causes.push({
        reason: 'FieldValueForbidden',
        field: 'resourceVersionMatch',
        message: 'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
      });
    }
  }
  if (
    continueToken !== undefined &&
    resourceVersion !== undefined &&
    resourceVersion !== '' &&
    resourceVersion !== '0'
  ) {
    causes.push({
      reason: 'FieldValueForbidden',
      field: 'resourceVersion',
      message: 'Forbidden: specifying resource version is not allowed when using continue',
    });
  }
  if (causes.length) optionsInvalid('ListOptions', causes);
  return {
    watch,
    limit: limit !== undefined && limit > 0 ? limit : undefined,
    continueToken,
    resourceVersion,
    resourceVersionMatch,
    timeoutSeconds,
    allowWatchBookmarks,
  };
}

/** ContinueToken is where a paged list goes on: after key `start`, at revision `rv` (upstream's token fields). */
export interface ContinueToken {
  rv: number;
  start: string;
}

/** encodeContinue makes upstream's token: base64 of `{"v":"meta.k8s.io/v1","rv":N,"start":"key"}`. */
export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: token.rv, start: token.start })).toString('base64url');
}

/** decodeContinue reads a token made by encodeContinue; anything else is upstream's 400. */
export function decodeContinue(text: string): ContinueToken {
  const fail = (detail: string): never => {
    throw badRequest(`continue key is not valid: ${detail}`);
  };
  if (!/^[A-Za-z0-9_\-+/]+=*$/.test(text)) fail('illegal base64 data');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return fail('incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  const p = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (parsed === null || typeof parsed !== 'object' || p.v !== 'meta.k8s.io/v1')
    fail('server does not recognize this encoded key');
  if (typeof p.rv !== 'number' || !Number.isSafeInteger(p.rv) || p.rv < 0)
    fail('incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  if (typeof p.start !== 'string' || p.start === '') fail('encoded key is not valid');
  return { rv: p.rv as number, start: p.start as string };
}

/** DeleteQuery is the checked deletion parameters (query and body merged; the query wins, as upstream). */
export interface DeleteQuery {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** deleteQuery merges DeleteOptions from the body with the query and validates them as ValidateDeleteOptions does. */
export function deleteQuery(q: URLSearchParams, body: unknown): DeleteQuery {
  const out: DeleteQuery = {};
  if (body !== undefined) {
    if (!isPlainObject(body))
      throw badRequest(
        `json: cannot unmarshal ${Array.isArray(body) ? 'array' : body === null ? 'null' : typeof body} into Go value of type v1.DeleteOptions`,
      );
    const types: Record<string, string> = {
      gracePeriodSeconds: 'number',
      propagationPolicy: 'string',
      orphanDependents: 'boolean',
      preconditions: 'object',
      dryRun: 'object',
      kind: 'string',
      apiVersion: 'string',
    };
    for (const [k, v] of Object.entries(body)) {
      const want = Object.hasOwn(types, k) ? types[k] : undefined;
      if (want !== undefined && v !== null && typeof v !== want)
        throw badRequest(`json: cannot unmarshal ${typeof v} into Go struct field DeleteOptions.${k}`);
    }
    if (typeof body.gracePeriodSeconds === 'number') {
      if (!Number.isInteger(body.gracePeriodSeconds))
        throw badRequest(
          `json: cannot unmarshal number ${body.gracePeriodSeconds} into Go struct field DeleteOptions.gracePeriodSeconds of type int64`,
        );
      out.gracePeriodSeconds = body.gracePeriodSeconds;
    }
    if (typeof body.propagationPolicy === 'string')
      out.propagationPolicy = body.propagationPolicy as DeleteQuery['propagationPolicy'];
    if (typeof body.orphanDependents === 'boolean') out.orphanDependents = body.orphanDependents;
    const pre = body.preconditions;
    if (isPlainObject(pre)) {
      out.preconditions = {};
      if (typeof pre.uid === 'string') out.preconditions.uid = pre.uid;
      if (typeof pre.resourceVersion === 'string') out.preconditions.resourceVersion = pre.resourceVersion;
    }
  }
  const grace = parseInt64(q, 'gracePeriodSeconds');
  if (grace !== undefined) out.gracePeriodSeconds = grace;
  if (q.has('propagationPolicy'))
    out.propagationPolicy = q.get('propagationPolicy') as DeleteQuery['propagationPolicy'];
  const orphan = parseBool(q, 'orphanDependents');
  if (orphan !== undefined) out.orphanDependents = orphan;
  const causes: StatusCause[] = [];
  if (out.propagationPolicy !== undefined && !['Foreground', 'Background', 'Orphan'].includes(out.propagationPolicy)) {
    causes.push({
      reason: 'FieldValueNotSupported',
      field: 'propagationPolicy',
      message: `Unsupported value: ${JSON.stringify(out.propagationPolicy)}: supported values: "Foreground", "Background", "Orphan"`,
    });
  }
  if (out.orphanDependents !== undefined && out.propagationPolicy !== undefined) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'propagationPolicy',
      message: `Invalid value: ${JSON.stringify(out.propagationPolicy)}: orphanDependents and deletionPropagation cannot be both set`,
    });
  }
  if (causes.length) optionsInvalid('DeleteOptions', causes);
  return out;
}

/**
 * decodePathSegment undoes percent-encoding in one path segment; a malformed escape is Go's 400 (`invalid URL
 * escape "%ZZ"`). Bytes that are not UTF-8 stay as replacement characters, so such a name is simply not found.
 */
export function decodePathSegment(segment: string): string {
  const bad = /%(?![0-9A-Fa-f]{2})(.{0,2})/s.exec(segment);
  if (bad) throw badRequest(`invalid URL escape ${JSON.stringify(`%${bad[1]}`)}`);
  if (!segment.includes('%')) return segment;
  const bytes: number[] = [];
  for (let i = 0; i < segment.length; i++) {
    if (segment[i] === '%') {
      bytes.push(parseInt(segment.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const b of Buffer.from(segment[i]!, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** checkPathSegmentName refuses a name or namespace from the URL that could not name an object (upstream's IsValidPathSegmentName). */
export function checkPathSegmentName(name: string): void {
  const errs: string[] = [];
  if (name === '.' || name === '..') errs.push(`may not be '${name}'`);
  if (name.includes('/')) errs.push("may not contain '/'");
  if (name.includes('%')) errs.push("may not contain '%'");
  if (errs.length) throw badRequest(`invalid resource name ${JSON.stringify(name)}: [${errs.join(' ')}]`);
}
