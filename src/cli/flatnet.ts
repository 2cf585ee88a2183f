import { hostname } from 'node:os';
import { connect } from '../client/client.ts';
import { Flatnet } from '../flatnet/flatnet.ts';
import { createLogger } from '../log/klog.ts';
import { untilSignal } from './until-signal.ts';
import { parseFlags, usage, type FlagSpecs } from './flags.ts';

const FLAGS: FlagSpecs = {
  kubeconfig: { type: 'string', help: 'Path to a kubeconfig file, specifying how to connect to the API server.' },
  'hostname-override': { type: 'string', help: 'The name of this node (default: the hostname).' },
  'node-ip': { type: 'string', help: 'accepted: routes use the other nodes\' InternalIP from their Node objects' },
  interface: { type: 'string', help: 'accepted: the kernel picks the interface from the route to each node' },
  'dry-run': { type: 'bool', default: false, help: 'Print the route and iptables changes instead of making them, then exit.' },
  v: { type: 'int', default: 0, short: 'v', help: 'number for the log level verbosity' },
  help: { type: 'bool', default: false, short: 'h', help: 'help for flatnet' },
};

/** main runs `tskube flatnet`: the lab's static routes and FORWARD rules, kept in step with the Nodes. */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, FLAGS);
  if (values.help) {
    process.stdout.write(usage('tskube flatnet', "Flat pod network: a route to every other node's pod CIDR, FORWARD accept for this node's.", FLAGS));
    return 0;
  }
  const logger = createLogger({ verbosity: values.v as number, source: 'flatnet.go' });
  const client = await connect({ kubeconfig: values.kubeconfig as string | undefined, userAgent: 'tskube-flatnet' });
  const flatnet = new Flatnet({ client, logger, nodeName: ((values['hostname-override'] as string | undefined) ?? hostname()).toLowerCase(), dryRun: values['dry-run'] as boolean });
  await flatnet.start();
  if (values['dry-run']) {
    await flatnet.stop();
    client.close();
    return 0;
  }
  await untilSignal();
  await flatnet.stop();
  client.close();
  return 0;
}
