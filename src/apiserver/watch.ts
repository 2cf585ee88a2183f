import type { ServerResponse } from 'node:http';
import type { ResourceInfo } from '../api/resources.ts';
import { CompactedError, type WatchEvent } from './storage/store.ts';
import type { WatchEncoding } from './negotiation.ts';
import type { Stored } from '../api/objects.ts';
import type { ApiObject, Registry } from './registry.ts';

export interface WatchRequest {
  info: ResourceInfo;
  namespace: string | undefined;
  /** Where to resume: events after it; undefined or '0' means "current state as ADDED first". */
  resourceVersion: string | undefined;
  filter: (object: ApiObject) => boolean;
  /** Shapes each object for the wire (plain JSON or a one-row Table). */
  render: (object: Stored<ApiObject>) => unknown;
  bookmarks: boolean;
  timeoutSeconds: number | undefined;
  /** How events go on the wire (JSON lines or protobuf frames); JSON lines when absent. */
  encoding?: WatchEncoding;
}

const BOOKMARK_INTERVAL_MS = 30_000;

/**
 * MAX_UNSENT_BYTES bounds what a watch may queue for a client that does not read: past it the watch ends (the
 * client relists and watches again), as upstream closes watchers whose buffer is full instead of growing.
 */
export const MAX_UNSENT_BYTES = 16 * 1024 * 1024;

/**
 * serveWatch streams newline-delimited watch events until the client leaves (or timeoutSeconds pass): a synthetic
 * ADDED per existing object for resourceVersion 0 or none, then every change after the given revision, exactly
 * once. A filtered watch turns objects leaving the selection into DELETED and entering it into ADDED, as upstream.
 * History lost to compaction ends the stream with an ERROR event carrying 410 Expired.
 */
export async function serveWatch(res: ServerResponse, registry: Registry, request: WatchRequest): Promise<void> {
  const { info, namespace, filter, render } = request;
  const encoding = request.encoding;
  res.writeHead(200, {
    'Content-Type': encoding?.contentType ?? 'application/json',
    'Transfer-Encoding': 'chunked',
    'Cache-Control': 'no-cache, private',
  });
  res.flushHeaders();
  const abort = new AbortController();
  const finish = () => {
    abort.abort();
    if (!res.writableEnded) res.end();
  };
  res.on('close', () => abort.abort());
  const send = (type: string, object: unknown) => {
    if (res.writableEnded || res.destroyed) return;
    if (res.writableLength > MAX_UNSENT_BYTES) {
      res.destroy();
      abort.abort();
      return;
    }
    res.write(encoding ? encoding.frame(type, object) : `${JSON.stringify({ type, object })}\n`);
  };
  const visible = new Set<string>();
  let from: number;
  const rv = request.resourceVersion;
  const knownState = rv === undefined || rv === '' || rv === '0';
  if (knownState) {
    const { items, revision } = await registry.list(info, { namespace });
    for (const object of items) {
      if (!filter(object)) continue;
      visible.add(registry.key(info, namespace ?? object.metadata.namespace, object.metadata.name));
      send('ADDED', render(object));
    }
    from = revision;
  } else {
    from = Number(rv);
    if (!Number.isInteger(from) || from < 0) {
      send('ERROR', expiredStatus(`invalid resource version: ${rv}`));
      return finish();
    }
  }
  let last = from;
  const onEvent = (event: WatchEvent) => {
    last = event.revision;
    const object = registry.decode(info, event.value, event.revision);
    const selected = filter(object);
    const wasVisible = visible.has(event.key);
    if (event.type === 'DELETE') {
      if (selected || wasVisible) send('DELETED', render(object));
      visible.delete(event.key);
      return;
    }
    if (selected) {
      // After a synthetic list we know what the client holds; when resuming we do not, and MODIFIED is the safe word.
      send(event.created ? 'ADDED' : wasVisible ? 'MODIFIED' : knownState ? 'ADDED' : 'MODIFIED', render(object));
      visible.add(event.key);
    } else if (wasVisible) {
      send('DELETED', render(object));
      visible.delete(event.key);
    }
  };
  registry.watch(info, namespace, from, onEvent, {
    signal: abort.signal,
    onError: (error) => {
      if (error instanceof CompactedError)
        send('ERROR', expiredStatus(`too old resource version: ${from} (${error.compactRevision + 1})`));
      else
        send('ERROR', {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: error.message,
          reason: 'InternalError',
          code: 500,
        });
      finish();
    },
  });
  const timers: NodeJS.Timeout[] = [];
  if (request.bookmarks) {
    timers.push(
      setInterval(
        () =>
          send('BOOKMARK', {
            kind: info.kind,
            apiVersion: info.group ? `${info.group}/${info.version}` : info.version,
            metadata: { resourceVersion: String(last) },
          }),
        BOOKMARK_INTERVAL_MS,
      ),
    );
  }
  if (request.timeoutSeconds !== undefined && request.timeoutSeconds > 0)
    timers.push(setTimeout(finish, request.timeoutSeconds * 1000));
  await new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
  for (const t of timers) clearTimeout(t);
  finish();
}

function expiredStatus(message: string): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Expired', code: 410 };
}
