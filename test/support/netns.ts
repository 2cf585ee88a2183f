import { writeFileSync, mkdirSync } from 'node:fs';
import { run } from '../../src/sys/run.ts';
import { startProcess, type StartedProcess } from './processes.ts';

/** isRoot tells whether tests that build namespaces can run (they skip with this reason otherwise). */
export const NOT_ROOT = process.getuid?.() !== 0 ? 'needs root to create network namespaces' : false;

/**
 * Lab is a set of network namespaces a test builds and tears down: every namespace it adds and every process it
 * starts are recorded, killed by PID and deleted in destroy(), so nothing is left behind.
 */
export class Lab {
  readonly prefix: string;
  #namespaces: string[] = [];
  #processes: StartedProcess[] = [];
  #rootLinks: string[] = [];

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** ns adds a namespace with loopback up and returns its name. */
  async ns(name: string): Promise<string> {
    const full = `${this.prefix}-${name}`;
    await run(['ip', 'netns', 'del', full]).catch(() => undefined);
    await run(['ip', 'netns', 'add', full]);
    this.#namespaces.push(full);
    await this.ip(full, 'link set lo up');
    return full;
  }

  /** ip runs a batch of `ip` commands (one per line) inside a namespace, or in the root namespace for ns ''. */
  async ip(ns: string, batch: string): Promise<void> {
    await run(ns ? ['ip', '-n', ns, '-batch', '-'] : ['ip', '-batch', '-'], { input: `${batch.trim()}\n` });
  }

  /** exec runs a command in a namespace and returns its output (never for long-lived processes). */
  async exec(ns: string, argv: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<string> {
    return (await run(['nsenter', `--net=/run/netns/${ns}`, '--', ...argv], options)).stdout;
  }

  /** tryExec is exec that returns the error instead of throwing. */
  async tryExec(
    ns: string,
    argv: string[],
    options: { timeoutMs?: number } = {},
  ): Promise<{ ok: boolean; stdout: string; stderr: string }> {
    try {
      const r = await run(['nsenter', `--net=/run/netns/${ns}`, '--', ...argv], options);
      return { ok: true, stdout: r.stdout, stderr: r.stderr };
    } catch (error: any) {
      return { ok: false, stdout: error.stdout ?? '', stderr: error.stderr ?? String(error) };
    }
  }

  /** start runs a long-lived process in a namespace (nsenter, never `ip netns exec`), stopped in destroy(). */
  start(ns: string, argv: string[], options: { env?: Record<string, string>; logFile?: string } = {}): StartedProcess {
    const proc = startProcess(['nsenter', `--net=/run/netns/${ns}`, '--', ...argv], options);
    this.#processes.push(proc);
    return proc;
  }

  /** sysctl sets a value inside a namespace. */
  async sysctl(ns: string, name: string, value: string): Promise<void> {
    await this.exec(ns, ['sysctl', '-q', '-w', `${name}=${value}`]);
  }

  /** veth links two namespaces ('' is the root namespace) and addresses both ends. */
  async veth(
    a: { ns: string; dev: string; cidr?: string },
    b: { ns: string; dev: string; cidr?: string },
  ): Promise<void> {
    const inA = a.ns ? `netns ${a.ns}` : '';
    const inB = b.ns ? `netns ${b.ns}` : '';
    await run(['ip', 'link', 'add', `${this.prefix}-tmp`, 'type', 'veth', 'peer', 'name', `${this.prefix}-tmq`]);
    await run(['ip', 'link', 'set', `${this.prefix}-tmp`, ...inA.split(' ').filter(Boolean), 'name', a.dev]);
    await run(['ip', 'link', 'set', `${this.prefix}-tmq`, ...inB.split(' ').filter(Boolean), 'name', b.dev]);
    if (!a.ns) this.#rootLinks.push(a.dev);
    if (!b.ns) this.#rootLinks.push(b.dev);
    for (const end of [a, b]) {
      await this.ip(end.ns, `${end.cidr ? `addr add ${end.cidr} dev ${end.dev}\n` : ''}link set ${end.dev} up`);
    }
  }

  /** pod builds a pod namespace on a node bridge: veth, address, default route, and an HTTP server naming it. */
  async pod(
    node: string,
    bridge: string,
    name: string,
    ip: string,
    gateway: string,
    prefixLength: number,
    options: { http?: boolean } = { http: true },
  ): Promise<string> {
    const ns = await this.ns(name);
    const hostDev = `v${name}`.slice(0, 15);
    await this.ip(
      node,
      `link add ${hostDev} type veth peer name eth0 netns ${ns}\nlink set ${hostDev} master ${bridge}\nlink set ${hostDev} type bridge_slave hairpin on\nlink set ${hostDev} up`,
    );
    await this.ip(ns, `addr add ${ip}/${prefixLength} dev eth0\nlink set eth0 up\nroute add default via ${gateway}`);
    if (options.http) {
      const dir = `/tmp/${ns}-www`;
      mkdirSync(`${dir}/cgi-bin`, { recursive: true });
      writeFileSync(`${dir}/index.html`, `${name}\n`);
      writeFileSync(
        `${dir}/cgi-bin/ip`,
        `#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "${name} client=$(echo $REMOTE_ADDR | sed 's/^.*://; s/]$//')"\n`,
        { mode: 0o755 },
      );
      this.start(ns, ['busybox', 'httpd', '-f', '-p', '80', '-h', dir]);
    }
    return ns;
  }

  /** destroy kills every process by PID and deletes every namespace and root link made. */
  async destroy(): Promise<void> {
    for (const p of this.#processes.reverse()) await p.stop();
    for (const ns of this.#namespaces.reverse()) {
      const pids = await run(['ip', 'netns', 'pids', ns]).then(
        (r) => r.stdout.split('\n').filter(Boolean),
        () => [],
      );
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await run(['ip', 'netns', 'del', ns]).catch(() => undefined);
      await run(['rm', '-rf', `/tmp/${ns}-www`]).catch(() => undefined);
    }
    for (const dev of this.#rootLinks) await run(['ip', 'link', 'del', dev]).catch(() => undefined);
  }
}
