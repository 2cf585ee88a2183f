import { startApiServer, type TestApiServer } from '../support/apiserver.ts';
import { etcdAvailable, startEtcd } from '../support/etcd.ts';

/** StoreBackend is one storage backend an API test runs on, with a real `tskube apiserver` over it. */
export interface StoreBackend {
  name: 'SQLite' | 'etcd';
  /** Why the backend cannot run here, or false. */
  skip: string | false;
  /** start runs etcd when needed and an API server on the store; stop ends both. */
  start(): Promise<{ server: TestApiServer; stop(): Promise<void> }>;
}

/** STORES are the backends API tests run against: the embedded SQLite store, and etcd when /usr/bin/etcd is there. */
export const STORES: readonly StoreBackend[] = [
  {
    name: 'SQLite',
    skip: false,
    start: async () => {
      const server = await startApiServer();
      return { server, stop: () => server.stop() };
    },
  },
  {
    name: 'etcd',
    skip: etcdAvailable() ? false : 'needs /usr/bin/etcd (Debian etcd-server)',
    start: async () => {
      const etcd = await startEtcd();
      const server = await startApiServer({ etcdServers: [etcd.endpoint] });
      return {
        server,
        stop: async () => {
          await server.stop();
          await etcd.stop();
        },
      };
    },
  },
];
