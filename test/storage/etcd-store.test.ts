import { after, before, describe } from 'node:test';
import { openEtcdStore } from '../../src/apiserver/storage/etcd-store.ts';
import { etcdAvailable, startEtcd } from '../support/etcd.ts';
import { storeSuite } from './store-suite.ts';

describe('EtcdStore against a real etcd', {
  skip: etcdAvailable() ? false : 'etcd (Debian etcd-server) is not installed',
}, () => {
  let etcd: { endpoint: string; stop(): Promise<void> };
  let _n = 0;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd?.stop();
  });
  // Each test gets a fresh etcd key space by prefixing through a wrapper would hide behaviour; instead each test
  // uses its own keys under /t/ on a shared etcd, so the suite clears them first.
  storeSuite(async () => {
    const store = await openEtcdStore({ endpoints: [etcd.endpoint] });
    const { items } = await store.list('/t/');
    for (const item of items) await store.delete(item.key);
    _n++;
    return store;
  });
});
