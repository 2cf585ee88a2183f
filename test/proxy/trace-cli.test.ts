/**
 * `tskube trace -f` over what `tskube proxy render` prints and over what the kernel lists (`iptables-save -c`, `nft
 * list table ip kube-proxy`, captured by capture-trace-fixtures.ts), in both modes (no root, no API server). On a live
 * node (`--node`): proxy-suite.ts, under the kernel lock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { run } from '../../src/sys/run.ts';
import { TSKUBE } from '../support/processes.ts';

const LAB = join(import.meta.dirname, '../../examples/lab/nsvc-endpoints.yaml');

for (const mode of ['iptables', 'nftables']) {
  test(`tskube trace follows the lab's Service through ${mode} rules: both pods, half each`, async () => {
    const rules = (
      await run([TSKUBE, 'proxy', 'render', `--proxy-mode=${mode}`, '-f', LAB, '--cluster-cidr=172.16.0.0/14'])
    ).stdout;
    const vip = /(\d+\.\d+\.\d+\.\d+)( --dport 2000| \. tcp \. 2000)/.exec(rules)![1]!;
    const { stdout } = await run([TSKUBE, 'trace', '-f', '-', '--from', '172.17.0.3', '--to', `${vip}:2000/tcp`], {
      input: rules,
    });
    assert.match(stdout, new RegExp(`^${mode}: 172\\.17\\.0\\.3 → ${vip.replace(/\./g, '\\.')}:2000/tcp$`, 'm'));
    assert.match(stdout, /^summary:\n {4}50\.0% 172\.17\.0\.2:80\n {4}50\.0% 172\.18\.0\.2:80\n$/m);
    assert.match(
      stdout,
      mode === 'iptables'
        ? /nat KUBE-SEP-\w+: .* -j DNAT --to-destination 172\.17\.0\.2:80/
        : /service-\w{8}-default\/nsvc\/tcp\/: numgen random mod 2 0 meta l4proto tcp dnat to 172\.17\.0\.2:80/,
    );
    // From a host outside the pod network the connection is masqueraded.
    const outside = (
      await run([TSKUBE, 'trace', '-f', '-', '--from', '172.31.0.1', '--to', `${vip}:2000`], { input: rules })
    ).stdout;
    assert.match(outside, /50\.0% 172\.18\.0\.2:80 \(masqueraded\)/);
  });
}

const LISTINGS = [
  ['iptables', 'lab-nsvc.iptables-save'],
  ['nftables', 'lab-nsvc-flat.nft-list'],
  ['nftables', 'lab-nsvc-upstream.nft-list'],
] as const;

for (const [mode, file] of LISTINGS) {
  test(`tskube trace -f ${file}: the kernel's listing, both pods, hairpin masqueraded`, async () => {
    const path = join(import.meta.dirname, '../../src/proxy/testdata', file);
    const { stdout } = await run([TSKUBE, 'trace', '-f', path, '--from', '172.17.0.2', '--to', '10.0.34.209:2000']);
    assert.match(stdout, new RegExp(`^${mode}: 172\\.17\\.0\\.2 → 10\\.0\\.34\\.209:2000/tcp$`, 'm'));
    assert.match(stdout, /^summary:\n {4}50\.0% 172\.17\.0\.2:80 \(masqueraded\)\n {4}50\.0% 172\.18\.0\.2:80\n$/m);
    if (mode === 'iptables') assert.match(stdout, /-j DNAT --to-destination 172\.17\.0\.2:80 {2}\[3 packets\]/);
  });
}
