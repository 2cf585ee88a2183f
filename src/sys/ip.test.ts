import assert from 'node:assert/strict';
import test from 'node:test';
import { ipAddresses, ipRoutes } from './ip.ts';

test("ipAddresses() and ipRoutes() read this host's devices and routes in the shapes they name (no root needed)", async () => {
  const [lo] = await ipAddresses('lo');
  assert.equal(lo?.ifname, 'lo');
  assert.ok(lo.addr_info?.some((a) => a.family === 'inet' && a.local === '127.0.0.1' && a.prefixlen === 8));
  assert.ok((await ipAddresses()).some((link) => link.ifname === 'lo'));
  const local = await ipRoutes(['table', 'local', 'dev', 'lo']);
  assert.ok(local.some((r) => r.dst === '127.0.0.1'));
  assert.deepEqual(await ipRoutes(['proto', '250', 'dev', 'lo']), []);
});
