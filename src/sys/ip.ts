import { HostCommandError, run } from './run.ts';

/**
 * Host networking through iproute2: one `ip -batch` per namespace for a set of changes, `ip -json` to read.
 * Used by the kubelet (pod network), flatnet (routes) and `tskube up` (node namespaces).
 */

/** ipBatch runs `ip` commands (one per line) in the current namespace, or in a named one. */
export async function ipBatch(commands: readonly string[], netns?: string): Promise<void> {
  if (commands.length === 0) return;
  await run(netns ? ['ip', '-n', netns, '-batch', '-'] : ['ip', '-batch', '-'], { input: `${commands.join('\n')}\n` });
}

/** IpLink is one device of `ip -json addr show` (the fields tskube reads). */
export interface IpLink {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/** IpRoute is one route of `ip -json route show` (the fields tskube reads). */
export interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
}

/** ipAddresses lists the devices and their addresses (`ip -json addr show [dev <dev>]`). */
export function ipAddresses(dev?: string, netns?: string): Promise<IpLink[]> {
  return ipJson<IpLink>(['addr', 'show', ...(dev ? ['dev', dev] : [])], netns);
}

/** ipRoutes lists the routes `ip -json route show <selectors>` selects (`proto 200`, `table main`, ...). */
export function ipRoutes(selectors: readonly string[] = [], netns?: string): Promise<IpRoute[]> {
  return ipJson<IpRoute>(['route', 'show', ...selectors], netns);
}

/**
 * ipJson runs a read-only `ip -json` command and parses its output: an array of T, the shape iproute2 prints for
 * that command (the one place its JSON is taken on trust; ipAddresses and ipRoutes name the shapes).
 */
export async function ipJson<T>(args: readonly string[], netns?: string): Promise<T[]> {
  const { stdout } = await run(netns ? ['ip', '-n', netns, '-json', ...args] : ['ip', '-json', ...args]);
  return stdout.trim() ? (JSON.parse(stdout) as T[]) : [];
}

/** linkExists tells whether a network device exists. */
export async function linkExists(name: string, netns?: string): Promise<boolean> {
  try {
    await run(netns ? ['ip', '-n', netns, 'link', 'show', name] : ['ip', 'link', 'show', name]);
    return true;
  } catch (error) {
    if (error instanceof HostCommandError && error.exitCode !== null) return false;
    throw error;
  }
}

/** netnsExists tells whether /run/netns/<name> is there. */
export async function netnsExists(name: string): Promise<boolean> {
  const { existsSync } = await import('node:fs');
  return existsSync(`/run/netns/${name}`);
}

/** addNetns creates a named network namespace with loopback up (idempotent). */
export async function addNetns(name: string): Promise<void> {
  if (!(await netnsExists(name))) await run(['ip', 'netns', 'add', name]);
  await ipBatch(['link set lo up'], name);
}

/** deleteNetns kills what still runs in a namespace and removes it (idempotent). */
export async function deleteNetns(name: string): Promise<void> {
  if (!(await netnsExists(name))) return;
  const { stdout } = await run(['ip', 'netns', 'pids', name]).catch(() => ({ stdout: '' }));
  for (const pid of stdout.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await run(['ip', 'netns', 'del', name]);
}

/** sysctlIn sets a sysctl inside a namespace (or here when netns is undefined). */
export async function sysctlIn(name: string, value: string, netns?: string): Promise<void> {
  const argv = ['sysctl', '-q', '-w', `${name}=${value}`];
  await run(netns ? ['nsenter', `--net=/run/netns/${netns}`, '--', ...argv] : argv);
}
