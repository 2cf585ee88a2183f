import { run } from '../sys/run.ts';

/**
 * runProbe checks one probe of a container the way the kubelet does: httpGet (2xx/3xx), tcpSocket (connects) or
 * exec (exit 0), run from inside the pod's network namespace.
 */
export async function runProbe(probe: any, o: { netns: string; podIP: string; pid?: number; ports: any[] }): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  const port = (p: number | string) => (typeof p === 'number' || /^\d+$/.test(String(p)) ? Number(p) : o.ports.find((x) => x.name === p)?.containerPort);
  try {
    if (probe.httpGet) {
      const target = port(probe.httpGet.port);
      const url = `${(probe.httpGet.scheme ?? 'HTTP').toLowerCase()}://${probe.httpGet.host ?? o.podIP}:${target}${probe.httpGet.path ?? '/'}`;
      const { stdout } = await run(['nsenter', `--net=/run/netns/${o.netns}`, '--', 'curl', '-sk', '-o', '/dev/null', '-w', '%{http_code}', '-m', String(timeoutMs / 1000), url], { timeoutMs: timeoutMs + 2000 });
      const code = Number(stdout.trim());
      return code >= 200 && code < 400;
    }
    if (probe.tcpSocket) {
      await run(['nsenter', `--net=/run/netns/${o.netns}`, '--', '/bin/busybox', 'nc', '-z', '-w', String(Math.max(1, timeoutMs / 1000)), probe.tcpSocket.host ?? o.podIP, String(port(probe.tcpSocket.port))], { timeoutMs: timeoutMs + 2000 });
      return true;
    }
    if (probe.exec && o.pid) {
      await run(['nsenter', '-t', String(o.pid), '-n', '-p', '-m', '--', ...probe.exec.command], { timeoutMs: timeoutMs + 2000 });
      return true;
    }
    return true;
  } catch {
    return false;
  }
}
