import { run, type RunOptions, type RunResult } from './run.ts';

/**
 * runInNetns runs argv inside a named network namespace (`/run/netns/<name>`) through `nsenter --net`, never
 * `ip netns exec` (it remounts /sys and hides the cgroups).
 */
export function runInNetns(netns: string, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run(['nsenter', `--net=/run/netns/${netns}`, '--', ...argv], options);
}

/** runInProcessNamespaces runs argv in the network, PID and mount namespaces of a running process (exec probes). */
export function runInProcessNamespaces(
  pid: number,
  argv: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  return run(['nsenter', '-t', String(pid), '-n', '-p', '-m', '--', ...argv], options);
}
