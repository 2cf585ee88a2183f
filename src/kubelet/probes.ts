import { fileURLToPath } from 'node:url';
import type { ContainerPort, Probe } from 'kubernetes-types/core/v1.js';
import { HostCommandError, run } from '../sys/run.ts';
import { runInNetns } from '../sys/netns.ts';
import type { NetworkProbe, ProbeOutcome } from './probe-check.ts';

/** TSKUBE_ENTRY is the CLI the kubelet runs as `tskube probe` inside a pod's network namespace. */
const TSKUBE_ENTRY = fileURLToPath(new URL('../cli/tskube.ts', import.meta.url));

/** ProbeContext is what a probe needs to know of its container. */
export interface ProbeContext {
  /** The pod's network namespace; undefined for hostNetwork pods (the kubelet's own). */
  netns: string | undefined;
  podIP: string;
  /** The container's ports, for named probe ports. */
  ports: readonly ContainerPort[];
  /** Runs an exec probe's command in the container (the runtime's ExecSync). */
  exec: (command: string[], timeoutMs: number) => Promise<ProbeOutcome>;
}

/**
 * runProbe checks one probe of a container the way the kubelet does: exec (exit 0) through the runtime; tcpSocket
 * (connects), httpGet (status in [200, 400)) and grpc (SERVING) by `tskube probe`, run inside the pod's network
 * namespace. A probe without a handler, or with a port that names nothing, fails.
 */
export async function runProbe(probe: Probe, o: ProbeContext): Promise<ProbeOutcome> {
  const timeoutMs = Math.max(1, probe.timeoutSeconds ?? 1) * 1000;
  if (probe.exec) return o.exec(probe.exec.command ?? [], timeoutMs);
  const network = networkProbe(probe, o.podIP, o.ports, timeoutMs);
  if (typeof network === 'string') return { ok: false, output: network };
  try {
    const argv = [
      process.execPath,
      '--disable-warning=ExperimentalWarning',
      TSKUBE_ENTRY,
      'probe',
      JSON.stringify(network),
    ];
    const { stdout } = await (o.netns
      ? runInNetns(o.netns, argv, { timeoutMs: timeoutMs + 5000 })
      : run(argv, { timeoutMs: timeoutMs + 5000 }));
    return { ok: true, output: stdout.trim() };
  } catch (error) {
    if (error instanceof HostCommandError && error.exitCode === 1) return { ok: false, output: error.stdout.trim() };
    throw error;
  }
}

/** networkProbe turns a probe's tcpSocket, httpGet or grpc handler into what `tskube probe` runs, or an error text. */
export function networkProbe(
  probe: Probe,
  podIP: string,
  ports: readonly ContainerPort[],
  timeoutMs: number,
): NetworkProbe | string {
  const resolve = (p: number | string | undefined): number | string => {
    if (typeof p === 'number') return p;
    if (p !== undefined && /^\d+$/.test(p)) return Number(p);
    const named = ports.find((x) => x.name === p)?.containerPort;
    return named ?? `unable to find port "${p}"`;
  };
  if (probe.tcpSocket) {
    const port = resolve(probe.tcpSocket.port);
    if (typeof port === 'string') return port;
    return { kind: 'tcp', host: probe.tcpSocket.host || podIP, port, timeoutMs };
  }
  if (probe.httpGet) {
    const g = probe.httpGet;
    const port = resolve(g.port);
    if (typeof port === 'string') return port;
    const headers: [string, string][] = (g.httpHeaders ?? []).map((h) => [h.name, h.value]);
    return {
      kind: 'http',
      scheme: String(g.scheme ?? 'HTTP').toLowerCase() === 'https' ? 'https' : 'http',
      host: g.host || podIP,
      port,
      path: g.path ?? '/',
      headers,
      timeoutMs,
    };
  }
  if (probe.grpc)
    return { kind: 'grpc', host: podIP, port: probe.grpc.port, service: probe.grpc.service ?? '', timeoutMs };
  return 'probe has no handler';
}
