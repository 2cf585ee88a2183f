import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type {
  ConfigMap,
  Container,
  DownwardAPIVolumeFile,
  HostPathVolumeSource,
  KeyToPath,
  Pod,
  Secret,
  Volume,
} from 'kubernetes-types/core/v1.js';
import type { SandboxMount } from './sandbox.ts';

/**
 * The pod's volumes on the node, and the binds a container's volumeMounts make of them: emptyDir (a directory of
 * the pod, mode 0777 as upstream), hostPath (with its `type` checks), and volumes whose files the kubelet writes
 * (configMap, secret, downwardAPI, projected) from `contents`. A problem is returned as a message, the way the
 * kubelet reports a volume that cannot be set up.
 */
export type VolumeContents = Record<string, { files: Record<string, string | Buffer>; mode?: number }>;

export function volumeMounts(
  pod: Pod,
  container: Container,
  podDir: string,
  contents: VolumeContents,
): SandboxMount[] | { error: string } {
  const volumes = new Map<string, Volume>((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  const mounts: SandboxMount[] = [];
  for (const m of container.volumeMounts ?? []) {
    const v = volumes.get(m.name);
    if (!v) return { error: `unable to find volume "${m.name}" of container ${container.name}` };
    const source = volumeSource(v, podDir, contents);
    if (typeof source !== 'string') return source;
    const sub = typeof m.subPath === 'string' && m.subPath !== '' ? normalize(m.subPath) : '';
    if (sub.startsWith('..') || sub.startsWith('/'))
      return { error: `subPath "${m.subPath}" must be a relative path within the volume` };
    const from = sub ? join(source, sub) : source;
    if (sub && !existsSync(from)) mkdirSync(from, { recursive: true, mode: 0o777 });
    mounts.push({
      source: from,
      target: m.mountPath,
      readOnly:
        m.readOnly === true ||
        v.configMap !== undefined ||
        v.secret !== undefined ||
        v.downwardAPI !== undefined ||
        v.projected !== undefined,
    });
  }
  return mounts;
}

function volumeSource(v: Volume, podDir: string, contents: VolumeContents): string | { error: string } {
  if (v.hostPath) return hostPath(v.hostPath);
  const dir = join(podDir, 'volumes', `kubernetes.io~${pluginOf(v)}`, v.name);
  if (v.emptyDir || (!v.configMap && !v.secret && !v.downwardAPI && !v.projected)) {
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o777);
    }
    return dir;
  }
  const content = contents[v.name];
  if (!content) return { error: `volume "${v.name}" is not ready` };
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const [name, data] of Object.entries(content.files)) {
    const file = join(dir, normalize(name));
    if (!file.startsWith(`${dir}/`)) continue;
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, data, { mode: content.mode ?? 0o644 });
    chmodSync(file, content.mode ?? 0o644);
  }
  return dir;
}

/** pluginOf names a volume's directory as upstream's kubelet does (`volumes/kubernetes.io~<plugin>/<name>`). */
function pluginOf(v: Volume): string {
  return v.configMap
    ? 'configmap'
    : v.secret
      ? 'secret'
      : v.downwardAPI
        ? 'downward-api'
        : v.projected
          ? 'projected'
          : 'empty-dir';
}

function hostPath(h: HostPathVolumeSource): string | { error: string } {
  const path = h.path;
  const type = h.type ?? '';
  const stat = (() => {
    try {
      return statSync(path);
    } catch {
      return undefined;
    }
  })();
  const fail = (what: string) => ({ error: `hostPath type check failed: ${path} is not a ${what}` });
  switch (type) {
    case 'DirectoryOrCreate':
      if (!stat) mkdirSync(path, { recursive: true, mode: 0o755 });
      else if (!stat.isDirectory()) return fail('directory');
      return path;
    case 'FileOrCreate':
      if (!stat) writeFileSync(path, '', { mode: 0o644 });
      else if (!stat.isFile()) return fail('file');
      return path;
    case 'Directory':
      return stat?.isDirectory() ? path : fail('directory');
    case 'File':
      return stat?.isFile() ? path : fail('file');
    case 'Socket':
      return stat?.isSocket() ? path : fail('socket');
    case 'CharDevice':
      return stat?.isCharacterDevice() ? path : fail('character device');
    case 'BlockDevice':
      return stat?.isBlockDevice() ? path : fail('block device');
    default:
      // "" (unset): no checks, but bwrap needs something to bind.
      return stat ? path : { error: `hostPath ${path} does not exist` };
  }
}

/** Reads an object of the pod's namespace (configmaps, secrets); undefined when it does not exist. */
export type ObjectGetter = (
  resource: 'configmaps' | 'secrets',
  name: string,
) => Promise<ConfigMap | Secret | undefined>;

/** ServiceAccountTokenGetter issues the token of a projected `serviceAccountToken` source; undefined leaves it out. */
export type ServiceAccountTokenGetter = (source: {
  audience?: string;
  expirationSeconds?: number;
  path: string;
}) => Promise<string | undefined>;

/**
 * volumeContents gathers the files of the pod's configMap, secret, downwardAPI and projected volumes (items pick
 * and rename keys; a missing object fails unless `optional`), with their defaultMode.
 */
export async function volumeContents(
  pod: Pod,
  get: ObjectGetter,
  token?: ServiceAccountTokenGetter,
): Promise<{ contents: VolumeContents } | { error: string }> {
  const out: VolumeContents = {};
  const fromObject = async (
    resource: 'configmaps' | 'secrets',
    name: string,
    items: KeyToPath[] | undefined,
    optional: boolean,
    files: Record<string, string | Buffer>,
  ): Promise<string | undefined> => {
    const obj = await get(resource, name);
    if (!obj) return optional ? undefined : `${resource === 'configmaps' ? 'configmap' : 'secret'} "${name}" not found`;
    const data: Record<string, string | Buffer> = {};
    for (const [k, val] of Object.entries(obj.data ?? {}))
      data[k] = resource === 'secrets' ? Buffer.from(val, 'base64') : val;
    const binary = 'binaryData' in obj ? obj.binaryData : undefined;
    for (const [k, val] of Object.entries(binary ?? {})) data[k] = Buffer.from(val, 'base64');
    if (items?.length) {
      for (const it of items) {
        if (data[it.key] === undefined) {
          if (!optional) return `configmap references non-existent config key: ${it.key}`;
          continue;
        }
        files[it.path] = data[it.key]!;
      }
    } else Object.assign(files, data);
    return undefined;
  };
  const fromDownward = (items: DownwardAPIVolumeFile[] | undefined, files: Record<string, string | Buffer>) => {
    for (const it of items ?? []) if (it.fieldRef) files[it.path] = fieldValue(pod, it.fieldRef.fieldPath);
  };
  for (const v of pod.spec?.volumes ?? []) {
    const files: Record<string, string | Buffer> = {};
    let error: string | undefined;
    if (v.configMap)
      error = await fromObject(
        'configmaps',
        v.configMap.name ?? '',
        v.configMap.items,
        v.configMap.optional === true,
        files,
      );
    else if (v.secret)
      error = await fromObject('secrets', v.secret.secretName ?? '', v.secret.items, v.secret.optional === true, files);
    else if (v.downwardAPI) fromDownward(v.downwardAPI.items, files);
    else if (v.projected) {
      // Sources that are missing leave their files out (the ServiceAccount admission's kube-api-access volume names
      // kube-root-ca.crt before anything publishes it); a serviceAccountToken is a pod-bound TokenRequest.
      for (const src of v.projected.sources ?? []) {
        if (src.configMap) await fromObject('configmaps', src.configMap.name ?? '', src.configMap.items, true, files);
        if (src.secret) await fromObject('secrets', src.secret.name ?? '', src.secret.items, true, files);
        if (src.downwardAPI) fromDownward(src.downwardAPI.items, files);
        if (src.serviceAccountToken && token) {
          const value = await token(src.serviceAccountToken);
          if (value !== undefined) files[src.serviceAccountToken.path] = value;
        }
      }
    } else continue;
    if (error) return { error: `MountVolume.SetUp failed for volume "${v.name}" : ${error}` };
    const mode =
      v.configMap?.defaultMode ?? v.secret?.defaultMode ?? v.downwardAPI?.defaultMode ?? v.projected?.defaultMode;
    out[v.name] = { files, mode };
  }
  return { contents: out };
}

/** fieldValue reads a downward API field of the pod (metadata.name, .namespace, .uid, .labels, .annotations, ...). */
export function fieldValue(pod: Pod, path: string): string {
  const m = /^metadata\.(labels|annotations)(?:\['(.+)'\])?$/.exec(path);
  if (m) {
    const map: Record<string, string> = (m[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations) ?? {};
    if (m[2] !== undefined) return map[m[2]] ?? '';
    return Object.keys(map)
      .sort()
      .map((k) => `${k}=${JSON.stringify(map[k])}`)
      .join('\n');
  }
  const simple: Record<string, unknown> = {
    'metadata.name': pod.metadata?.name,
    'metadata.namespace': pod.metadata?.namespace,
    'metadata.uid': pod.metadata?.uid,
    'spec.nodeName': pod.spec?.nodeName,
    'spec.serviceAccountName': pod.spec?.serviceAccountName,
    'status.hostIP': pod.status?.hostIP,
    'status.podIP': pod.status?.podIP,
  };
  return String(simple[path] ?? '');
}
