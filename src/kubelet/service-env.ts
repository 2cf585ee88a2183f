import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';

/**
 * serviceEnvironment is the set of variables the kubelet gives every container for the Services it may use
 * (upstream's getServiceEnvVarMap + envvars.FromServices): `{SVC}_SERVICE_HOST`, `{SVC}_SERVICE_PORT`,
 * `{SVC}_SERVICE_PORT_{PORTNAME}`, and the Docker-link set `{SVC}_PORT`, `{SVC}_PORT_{port}_{PROTO}` with `_PROTO`,
 * `_PORT` and `_ADDR`. Only Services with a ClusterIP count (not headless, not ExternalName). The pod's own
 * namespace's Services count when enableServiceLinks is not false; the `kubernetes` Service of the `default`
 * namespace always does (the `KUBERNETES_*` set), unless the pod's namespace has its own Service of that name.
 */
export function serviceEnvironment(
  services: readonly Service[],
  namespace: string,
  enableServiceLinks: boolean | undefined,
): Record<string, string> {
  const chosen = new Map<string, WithClusterIP>();
  const nameOf = (s: Service) => s.metadata?.name ?? '';
  const sorted = [...services].sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0));
  for (const svc of sorted) {
    const usable = withClusterIP(svc);
    if (!usable) continue;
    const name = usable.name;
    if (svc.metadata?.namespace === 'default' && name === 'kubernetes') {
      if (!chosen.has(name)) chosen.set(name, usable);
    } else if (svc.metadata?.namespace === namespace && enableServiceLinks !== false) {
      chosen.set(name, usable);
    }
  }
  const env: Record<string, string> = {};
  for (const svc of chosen.values()) Object.assign(env, serviceVariables(svc));
  return env;
}

/** A Service with a ClusterIP and ports: the fields its variables are made of. */
interface WithClusterIP {
  name: string;
  ip: string;
  ports: ServicePort[];
}

function withClusterIP(svc: Service): WithClusterIP | undefined {
  const ip = svc.spec?.clusterIP;
  const ports = svc.spec?.ports ?? [];
  if (typeof ip !== 'string' || ip === '' || ip === 'None' || ports.length === 0) return undefined;
  return { name: svc.metadata?.name ?? '', ip, ports };
}
/** envName is upstream's makeEnvVariableName: upper case, dashes to underscores. */
function envName(name: string): string {
  return name.replace(/-/g, '_').toUpperCase();
}

function serviceVariables(svc: WithClusterIP): Record<string, string> {
  const prefix = envName(svc.name);
  const { ip, ports } = svc;
  const env: Record<string, string> = {};
  env[`${prefix}_SERVICE_HOST`] = ip;
  env[`${prefix}_SERVICE_PORT`] = String(ports[0]!.port);
  for (const p of ports) if (p.name) env[`${prefix}_SERVICE_PORT_${envName(p.name)}`] = String(p.port);
  const hostPort = (port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  ports.forEach((p, i) => {
    const protocol = String(p.protocol || 'TCP');
    const lower = protocol.toLowerCase();
    if (i === 0) env[`${prefix}_PORT`] = `${lower}://${hostPort(p.port)}`;
    const portPrefix = `${prefix}_PORT_${p.port}_${protocol.toUpperCase()}`;
    env[portPrefix] = `${lower}://${hostPort(p.port)}`;
    env[`${portPrefix}_PROTO`] = lower;
    env[`${portPrefix}_PORT`] = String(p.port);
    env[`${portPrefix}_ADDR`] = ip;
  });
  return env;
}
