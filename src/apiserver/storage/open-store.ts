import { openEtcdStore } from './etcd-store.ts';
import { openSqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';

/** openStore picks the backend: etcd v3 when servers are named (as upstream's --etcd-servers), else embedded SQLite. */
export async function openStore(options: {
  etcdServers?: string[];
  dataDir: string;
  history?: number;
}): Promise<Store> {
  if (options.etcdServers && options.etcdServers.length > 0) {
    return openEtcdStore({ endpoints: options.etcdServers });
  }
  return openSqliteStore({ dataDir: options.dataDir, history: options.history });
}
