/**
 * StatusError carries a metav1.Status: the API server throws it and one place turns it into a response; the client
 * throws it for every failed request. The constructors copy apimachinery's wording, since kubectl prints it.
 */
export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: StatusCause[];
    retryAfterSeconds?: number;
  };
  code: number;
}

export class StatusError extends Error {
  readonly status: Status;
  constructor(status: Status) {
    super(status.message ?? status.reason ?? `status ${status.code}`);
    this.name = 'StatusError';
    this.status = status;
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): string | undefined {
    return this.status.reason;
  }
}

/** GroupResource names a resource in messages: `services`, `deployments.apps`. */
export interface GroupResource {
  group: string;
  resource: string;
}

function failure(code: number, reason: string, message: string, details?: Status['details']): StatusError {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details !== undefined) status.details = details;
  return new StatusError(status);
}

function qualified(gr: GroupResource): string {
  return gr.group === '' ? gr.resource : `${gr.resource}.${gr.group}`;
}

function details(gr: GroupResource, name: string): Status['details'] {
  return gr.group === '' ? { name, kind: gr.resource } : { name, group: gr.group, kind: gr.resource };
}

export function notFound(gr: GroupResource, name: string): StatusError {
  return failure(404, 'NotFound', `${qualified(gr)} "${name}" not found`, details(gr, name));
}

export function alreadyExists(gr: GroupResource, name: string): StatusError {
  return failure(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, details(gr, name));
}

/** conflict is upstream's optimistic-concurrency failure; message is the reason, e.g. the object has been modified. */
export function conflict(gr: GroupResource, name: string, message: string): StatusError {
  return failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${message}`,
    details(gr, name),
  );
}

/** invalid builds a 422 with one cause per bad field; kubectl prints `The <Kind> "<name>" is invalid: ...`. */
export function invalid(groupKind: { group: string; kind: string }, name: string, causes: StatusCause[]): StatusError {
  const kindText = groupKind.group === '' ? groupKind.kind : `${groupKind.kind}.${groupKind.group}`;
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const message = `${kindText} "${name}" is invalid: ${list.length === 1 ? list[0] : `[${list.join(', ')}]`}`;
  const d: NonNullable<Status['details']> = { name, kind: groupKind.kind, causes };
  if (groupKind.group !== '') d.group = groupKind.group;
  return failure(422, 'Invalid', message, d);
}

export function badRequest(message: string): StatusError {
  return failure(400, 'BadRequest', message);
}

/** expired answers a watch or list for a resourceVersion that compaction removed (410 Gone). */
export function expired(message: string): StatusError {
  return failure(410, 'Expired', message);
}

export function gone(message: string): StatusError {
  return failure(410, 'Gone', message);
}

export function methodNotSupported(gr: GroupResource, action: string): StatusError {
  return failure(405, 'MethodNotAllowed', `${action} is not supported on resources of kind "${qualified(gr)}"`, {
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

export function notAcceptable(message: string): StatusError {
  return failure(406, 'NotAcceptable', message);
}

export function unsupportedMediaType(contentType: string): StatusError {
  return failure(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/merge-patch+json, application/strategic-merge-patch+json, application/json-patch+json, application/apply-patch+yaml (got ${contentType})`,
  );
}

export function requestEntityTooLarge(limitBytes: number): StatusError {
  return failure(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limitBytes}`);
}

/** requestEntityTooLargeMessage is a 413 with upstream's prefix before a specific message. */
export function requestEntityTooLargeMessage(message: string): StatusError {
  return failure(413, 'RequestEntityTooLarge', `Request entity too large: ${message}`);
}

/**
 * unprocessable is upstream's generic 422 (NewGenericServerResponse): a fixed message, the detail as its one cause.
 * A JSON patch that cannot be applied is answered this way.
 */
export function unprocessable(detail: string): StatusError {
  return failure(422, 'Invalid', 'the server rejected our request due to an error in our request', {
    causes: [{ reason: 'UnexpectedServerResponse', message: detail }],
  });
}

export function pathNotFound(): StatusError {
  return failure(404, 'NotFound', 'the server could not find the requested resource');
}

export function forbidden(gr: GroupResource, name: string, message: string): StatusError {
  return failure(
    403,
    'Forbidden',
    name === '' ? `${qualified(gr)} is forbidden: ${message}` : `${qualified(gr)} "${name}" is forbidden: ${message}`,
    details(gr, name),
  );
}

/**
 * forbiddenError is apimachinery's NewForbidden: `pods "web" is forbidden: <why>`, `pods is forbidden: <why>` without a
 * name, `forbidden: <why>` for a path; details name the group and resource.
 */
export function forbiddenError(gr: GroupResource | undefined, name: string, why: string): StatusError {
  if (!gr || gr.resource === '') return failure(403, 'Forbidden', `forbidden: ${why}`, {});
  const message =
    name === '' ? `${qualified(gr)} is forbidden: ${why}` : `${qualified(gr)} "${name}" is forbidden: ${why}`;
  const d: NonNullable<Status['details']> = { kind: gr.resource };
  if (name) d.name = name;
  if (gr.group) d.group = gr.group;
  return failure(403, 'Forbidden', message, d);
}

/** unauthorized is the 401 of a request whose credentials are missing or invalid. */
export function unauthorized(): StatusError {
  return failure(401, 'Unauthorized', 'Unauthorized');
}

export function internalError(message: string): StatusError {
  return failure(500, 'InternalError', `Internal error occurred: ${message}`);
}

/** isStatusError narrows an unknown error to a StatusError with the given code. */
export function isStatusError(err: unknown, code?: number): err is StatusError {
  return err instanceof StatusError && (code === undefined || err.code === code);
}
