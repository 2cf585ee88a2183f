import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HostCommandError } from '../../sys/run.ts';
import { FakeNft } from './fake-nft.ts';

const T = 'ip kube-proxy';

test('FakeNft applies a script as one transaction, and none of it when a command is refused', async () => {
  const nft = new FakeNft();
  await nft.run(
    `add table ${T}\nadd map ${T} m { type ipv4_addr : verdict ; }\nadd chain ${T} a\nadd chain ${T} b\n` +
      `add rule ${T} a ip daddr vmap @m\nadd rule ${T} b counter\nadd element ${T} m { 10.0.0.1 : goto b }\n`,
  );
  assert.deepEqual(nft.chains('ip', 'kube-proxy'), ['a', 'b']);
  assert.deepEqual(nft.elements('ip', 'kube-proxy', 'm'), ['10.0.0.1 : goto b']);
  const refused = async (script: string, why: RegExp) => {
    await assert.rejects(nft.run(script), (error) => error instanceof HostCommandError && why.test(error.stderr));
  };
  await refused(`add chain ${T} c\nadd rule ${T} c jump nowhere\n`, /^-:2:.*No such file or directory/);
  assert.deepEqual(nft.chains('ip', 'kube-proxy'), ['a', 'b'], 'the chain added before the failure is not there');
  await refused(`flush chain ${T} b\ndelete chain ${T} b\n`, /Device or resource busy/);
  await refused(`delete chain ${T} a\n`, /Device or resource busy/);
  await refused(`add element ${T} m { 10.0.0.1 : goto a }\n`, /Device or resource busy/);
  await nft.run(`delete element ${T} m { 10.0.0.1 }\nadd element ${T} m { 10.0.0.1 : goto a }\n`);
  await nft.run(`flush chain ${T} b\ndelete chain ${T} b\n`);
  assert.deepEqual(nft.chains('ip', 'kube-proxy'), ['a']);
  nft.failNext();
  await assert.rejects(nft.run(`add chain ${T} z\n`), HostCommandError);
  await nft.run(`add table ${T}\ndelete table ${T}\n`);
  assert.equal(nft.hasTable('ip', 'kube-proxy'), false);
  assert.equal(nft.scripts.length, 9);
});
