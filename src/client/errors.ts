import { isStatusError } from '../api/status.ts';

/**
 * ignoreStatus is a catch handler for a client call whose failure with one of these status codes is an expected
 * outcome (404: already gone, 409: someone else won, 403: the namespace is terminating): it resolves to undefined
 * for those and rethrows anything else.
 */
export function ignoreStatus(...codes: number[]): (error: unknown) => undefined {
  return (error) => {
    if (!codes.some((code) => isStatusError(error, code))) throw error;
    return undefined;
  };
}

/** ignoreNotFound is ignoreStatus(404): deleting or patching what is already gone is done. */
export const ignoreNotFound = ignoreStatus(404);
