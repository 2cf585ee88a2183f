import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { fieldValue, type ObjectGetter } from './volumes.ts';

/**
 * containerEnv is a container's environment as upstream's kubelet makes it: the base (image, HOSTNAME, service
 * variables), then `envFrom` (ConfigMaps and Secrets, with their prefix), then `env` in order (`value` with `$(VAR)`
 * references expanded against what is defined so far, `$$` for a literal `$`; `valueFrom` fieldRef, configMapKeyRef,
 * secretKeyRef). A missing object or key that is not optional is a CreateContainerConfigError message.
 */
export async function containerEnv(
  pod: Pod,
  container: Pick<Container, 'env' | 'envFrom'>,
  base: Record<string, string>,
  get: ObjectGetter,
  podIP: string,
): Promise<{ env: Record<string, string> } | { error: string }> {
  const env: Record<string, string> = { ...base };
  const decode = (resource: 'configmaps' | 'secrets', value: string) =>
    resource === 'secrets' ? Buffer.from(value, 'base64').toString('utf8') : value;
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const resource = from.configMapRef ? 'configmaps' : 'secrets';
    const obj = await get(resource, ref.name ?? '');
    if (!obj) {
      if (ref.optional) continue;
      return { error: `${resource === 'configmaps' ? 'configmap' : 'secret'} "${ref.name}" not found` };
    }
    for (const [k, v] of Object.entries(obj.data ?? {})) env[`${from.prefix ?? ''}${k}`] = decode(resource, v);
  }
  for (const e of container.env ?? []) {
    if (typeof e.value === 'string') {
      env[e.name] = expand(e.value, env);
      continue;
    }
    const vf = e.valueFrom;
    if (!vf) {
      env[e.name] = '';
      continue;
    }
    if (vf.fieldRef) {
      env[e.name] =
        vf.fieldRef.fieldPath === 'status.podIP' || vf.fieldRef.fieldPath === 'status.podIPs'
          ? podIP
          : fieldValue(pod, vf.fieldRef.fieldPath);
      continue;
    }
    const ref = vf.configMapKeyRef ?? vf.secretKeyRef;
    if (!ref) continue;
    const resource = vf.configMapKeyRef ? 'configmaps' : 'secrets';
    const kind = resource === 'configmaps' ? 'ConfigMap' : 'Secret';
    const obj = await get(resource, ref.name ?? '');
    const value = obj?.data?.[ref.key];
    if (value === undefined) {
      if (ref.optional) continue;
      return {
        error: obj
          ? `couldn't find key ${ref.key} in ${kind} ${pod.metadata?.namespace}/${ref.name}`
          : `${resource === 'configmaps' ? 'configmap' : 'secret'} "${ref.name}" not found`,
      };
    }
    env[e.name] = decode(resource, value);
  }
  return { env };
}

/** expand replaces `$(NAME)` with defined variables (undefined ones stay as written) and `$$` with `$`. */
export function expand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([^)]*)\)/g, (whole, name: string | undefined) =>
    whole === '$$' ? '$' : Object.hasOwn(env, name!) ? env[name!]! : whole,
  );
}
