import { hostname } from 'node:os';
import { connect } from '../client/client.ts';
import { Flatnet } from '../flatnet/flatnet.ts';
import { componentFlags, runComponent, type ComponentFlags } from './run-component.ts';

const FLAGS = {
  kubeconfig: { type: 'string', help: 'Path to a kubeconfig file, specifying how to connect to the API server.' },
  'hostname-override': { type: 'string', help: 'The name of this node (default: the hostname).' },
  'node-ip': { type: 'string', help: "accepted: routes use the other nodes' InternalIP from their Node objects" },
  interface: { type: 'string', help: 'accepted: the kernel picks the interface from the route to each node' },
  'dry-run': {
    type: 'bool',
    default: false,
    help: 'Print the route and iptables changes instead of making them, then exit.',
  },
  ...componentFlags('flatnet'),
} satisfies ComponentFlags;

/** main runs `tskube flatnet`: the lab's static routes and FORWARD rules, kept in step with the Nodes. */
export function main(argv: string[]): Promise<number> {
  return runComponent(argv, {
    command: 'tskube flatnet',
    summary: "Flat pod network: a route to every other node's pod CIDR, FORWARD accept for this node's.",
    flags: FLAGS,
    logSource: 'flatnet.go',
    async start({ values, logger }) {
      const client = await connect({ kubeconfig: values.kubeconfig, userAgent: 'tskube-flatnet' });
      const flatnet = new Flatnet({
        client,
        logger,
        nodeName: (values['hostname-override'] ?? hostname()).toLowerCase(),
        dryRun: values['dry-run'],
      });
      await flatnet.start();
      const stop = async () => {
        await flatnet.stop();
        client.close();
      };
      if (!values['dry-run']) return { stop };
      await stop();
      return undefined;
    },
  });
}
