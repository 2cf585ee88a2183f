/**
 * API server figures, per storage backend: 10,000 Service creates (50 in flight), listing them as a Table, and
 * watch delivery latency to 100 watchers. Then the price of security: the same creates over TLS with client
 * certificate authentication and RBAC authorization, next to the insecure port of the same server, same run.
 */
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { RestClient } from '../src/client/rest-client.ts';
import { kubectl } from '../test/support/kubectl.ts';
import { startApiServer } from '../test/support/apiserver.ts';
import { etcdAvailable, startEtcd } from '../test/support/etcd.ts';
import { sleep } from '../src/util/wait.ts';
import { inFlight, median, percentile } from './stats.ts';

const CREATES = Number(process.env.BENCH_SERVICES ?? 10_000);
const CONCURRENCY = 50;
const WATCHERS = 100;

export async function run(): Promise<void> {
  for (const backend of ['sqlite', 'etcd'] as const) {
    if (backend === 'etcd' && !etcdAvailable()) {
      process.stdout.write('etcd: skipped (etcd-server not installed)\n');
      continue;
    }
    const etcd = backend === 'etcd' ? await startEtcd() : undefined;
    const server = await startApiServer({ etcdServers: etcd ? [etcd.endpoint] : undefined });
    try {
      const services = server.client.resource('services');
      const latencies: number[] = [];
      const started = performance.now();
      await inFlight(CREATES, CONCURRENCY, async (i) => {
        const t = performance.now();
        await server.client.create(services, 'default', {
          metadata: { name: `bench-${i}` },
          spec: { selector: { app: `a${i}` }, ports: [{ port: 80 }] },
        });
        latencies.push(performance.now() - t);
      });
      const seconds = (performance.now() - started) / 1000;
      const pct = (p: number) => percentile(latencies, p).toFixed(1);
      process.stdout.write(
        `${backend}: ${CREATES} Service creates: ${(CREATES / seconds).toFixed(0)}/s, p50 ${pct(50)} ms, p99 ${pct(99)} ms\n`,
      );
      const listStart = performance.now();
      const res = await fetch(`${server.url}/api/v1/namespaces/default/services?limit=500`, {
        headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
      });
      const table = await res.json();
      process.stdout.write(
        `${backend}: list ${table.rows.length} Services as a Table: ${(performance.now() - listStart).toFixed(0)} ms\n`,
      );
      const cms = server.client.resource('configmaps');
      const aborts: AbortController[] = [];
      let pending = 0;
      let resolveRound: () => void = () => undefined;
      for (let w = 0; w < WATCHERS; w++) {
        const abort = new AbortController();
        aborts.push(abort);
        void server.client
          .watch(
            cms,
            { namespace: 'default', resourceVersion: String(await currentRv(server.url)), signal: abort.signal },
            () => {
              if (--pending === 0) resolveRound();
            },
          )
          .catch(() => undefined);
      }
      await sleep(500);
      const rounds: number[] = [];
      for (let i = 0; i < 20; i++) {
        pending = WATCHERS;
        const done = new Promise<void>((r) => (resolveRound = r));
        const t = performance.now();
        await server.client.create(cms, 'default', { metadata: { name: `w${i}` }, data: {} });
        await done;
        rounds.push(performance.now() - t);
      }
      for (const a of aborts) a.abort();
      process.stdout.write(
        `${backend}: watch delivery to ${WATCHERS} watchers (create → last watcher): p50 ${median(rounds).toFixed(1)} ms, max ${percentile(rounds, 100).toFixed(1)} ms\n`,
      );
    } finally {
      await server.stop();
      await etcd?.stop();
    }
  }
  await secureVersusInsecure();
}

/**
 * secureVersusInsecure creates Services on one server through its insecure port and through its secure port (TLS,
 * x509 authentication, Node,RBAC authorization) as a user whose rights come from a RoleBinding (so RBAC walks the
 * bindings) and as the admin (system:masters), in alternating rounds so drift hits all alike; ratio = secure time /
 * insecure time.
 */
export async function secureVersusInsecure(): Promise<void> {
  const server = await startApiServer({ secure: true, insecure: true });
  try {
    const cache = `${server.dir}/kubectl-cache`;
    await kubectl('1.33', server.kubeconfig, cache, [
      'create',
      'rolebinding',
      'bench-edit',
      '--clusterrole=edit',
      '--user=bench',
      '--namespace=default',
    ]);
    const insecure = new RestClient({ server: server.insecureUrl!, namespace: 'default' }, { userAgent: 'bench' });
    const rbacUser = new RestClient(
      await loadKubeconfig(await server.kubeconfigFor({ user: 'bench', groups: ['bench-group'] })),
      { userAgent: 'bench' },
    );
    const clients = {
      insecure,
      'TLS+x509+RBAC (RoleBinding)': rbacUser,
      'TLS+x509 (system:masters)': server.client,
    } as Record<string, RestClient>;
    const services = server.client.resource('services');
    const total: Record<string, number> = Object.fromEntries(Object.keys(clients).map((k) => [k, 0]));
    const rounds = 4;
    const perRound = Math.max(50, Math.floor(CREATES / 2 / rounds));
    let serial = 0;
    for (let round = 0; round < rounds; round++) {
      for (const [name, client] of Object.entries(clients)) {
        const started = performance.now();
        await inFlight(perRound, CONCURRENCY, async () => {
          const i = serial++;
          await client.create(services, 'default', {
            metadata: { name: `sec-${i}` },
            spec: { selector: { app: `s${i}` }, ports: [{ port: 80 }] },
          });
        });
        total[name]! += performance.now() - started;
      }
    }
    const n = perRound * rounds;
    const base = total.insecure!;
    for (const [name, ms] of Object.entries(total)) {
      process.stdout.write(
        `secure vs insecure: ${n} Service creates ${name}: ${(n / (ms / 1000)).toFixed(0)}/s${name === 'insecure' ? '' : `, ratio ${(ms / base).toFixed(2)}x the insecure port`}\n`,
      );
    }
    insecure.close();
    rbacUser.close();
  } finally {
    await server.stop();
  }
}

async function currentRv(url: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/namespaces/default/configmaps?limit=1`);
  return (await res.json()).metadata.resourceVersion;
}
