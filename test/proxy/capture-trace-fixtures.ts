/**
 * Writes the kernel's own listings of the lab's rules, which `tskube trace -f` reads in trace-cli.test.ts without
 * root: `iptables-save -c` (iptables mode, jump rules and counters included) and `nft list table ip kube-proxy` (both
 * nftables layouts). In a throwaway network namespace: the rules `tskube proxy render` prints for nodea are loaded,
 * four connections from the node to the VIP count in the rules (a veth pair takes the packets), then listed.
 * Needs root; run under the kernel lock:
 *   flock /tmp/tskube-kernel.lock node_modules/.bin/node test/proxy/capture-trace-fixtures.ts
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JUMP_RULES } from '../../src/proxy/jump-rules.ts';
import { run } from '../../src/sys/run.ts';
import { TSKUBE } from '../support/processes.ts';

const LAB = join(import.meta.dirname, '../../examples/lab/nsvc-endpoints.yaml');
const OUT = join(import.meta.dirname, '../../src/proxy/testdata');
const NETNS = 't16b-trace-capture';
const RENDER = ['proxy', 'render', '-f', LAB, '--hostname-override=nodea', '--cluster-cidr=172.16.0.0/14'];

const inNetns = (argv: string[], input?: string) =>
  run(['ip', 'netns', 'exec', NETNS, ...argv], input === undefined ? {} : { input });

async function connectFourTimes(vip: string): Promise<void> {
  // Nothing answers behind the veth pair: each attempt sends its SYN through the rules and times out.
  for (let i = 0; i < 4; i++)
    await inNetns(['timeout', '0.3', 'bash', '-c', `exec 3<>/dev/tcp/${vip}/2000`]).catch(() => undefined);
}

async function capture(): Promise<void> {
  await run(['ip', 'netns', 'add', NETNS]);
  try {
    await inNetns(['ip', 'link', 'set', 'lo', 'up']);
    await inNetns(['ip', 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1']);
    await inNetns(['ip', 'link', 'set', 'd1', 'up']);
    await inNetns(['ip', 'addr', 'add', '192.168.242.10/24', 'dev', 'd0']);
    await inNetns(['ip', 'link', 'set', 'd0', 'up']);
    await inNetns(['ip', 'route', 'add', 'default', 'dev', 'd0']);

    const iptables = (await run([TSKUBE, ...RENDER])).stdout;
    const vip = /-d ([\d.]+) --dport 2000/.exec(iptables)![1]!;
    await inNetns(['iptables-restore', '--noflush'], iptables);
    for (const r of JUMP_RULES) await inNetns(['iptables', '-w', '-t', r.table, '-A', r.from, ...r.args, '-j', r.to]);
    await connectFourTimes(vip);
    await writeFile(join(OUT, 'lab-nsvc.iptables-save'), (await inNetns(['iptables-save', '-c'])).stdout);
    await inNetns(['iptables', '-t', 'nat', '-F']);
    await inNetns(['iptables', '-t', 'filter', '-F']);

    for (const layout of ['flat', 'upstream']) {
      const nft = (await run([TSKUBE, ...RENDER, '--proxy-mode=nftables', `--nftables-layout=${layout}`])).stdout;
      await inNetns(['nft', '-f', '-'], nft);
      await connectFourTimes(vip);
      const listing = (await inNetns(['nft', 'list', 'table', 'ip', 'kube-proxy'])).stdout;
      await writeFile(join(OUT, `lab-nsvc-${layout}.nft-list`), listing);
      await inNetns(['nft', 'delete', 'table', 'ip', 'kube-proxy']);
    }
  } finally {
    await run(['ip', 'netns', 'delete', NETNS]);
  }
}

await capture();
