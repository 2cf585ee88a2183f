import { checkNetworkProbe, type NetworkProbe } from '../kubelet/probe-check.ts';

/**
 * main runs `tskube probe '<json>'`: one network probe (tcp, http, grpc) from the network namespace this process is
 * in. The kubelet runs it inside a pod's namespace through nsenter; it prints the probe's output and exits 0 on
 * success, 1 on failure, 2 on bad input.
 */
export async function main(argv: string[]): Promise<number> {
  if (argv.length !== 1 || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(
      `Runs one network probe from the current network namespace (used by the kubelet).\n\nUsage:\n  tskube probe '{"kind":"tcp","host":"10.244.1.5","port":80,"timeoutMs":1000}'\n  kinds: tcp; http (scheme, path, headers [[name, value]]); grpc (service)\n`,
    );
    return argv.length === 1 ? 0 : 2;
  }
  let probe: NetworkProbe;
  try {
    probe = JSON.parse(argv[0]!);
  } catch (error) {
    process.stderr.write(`Error: Cannot parse probe "${argv[0]}": ${(error as Error).message}\n`);
    return 2;
  }
  const outcome = await checkNetworkProbe(probe);
  if (outcome.output) process.stdout.write(`${outcome.output}\n`);
  return outcome.ok ? 0 : 1;
}
