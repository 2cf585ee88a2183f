import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeconfig } from '../../src/client/kubeconfig.ts';
import { RestClient } from '../../src/client/rest-client.ts';
import { run } from '../../src/sys/run.ts';
import { TSKUBE } from './processes.ts';

/** TestCluster is a `tskube up` cluster for one end-to-end file, with a kubectl cache and an admin client. */
export interface TestCluster {
  /** The state directory (a fresh temporary one): admin.conf, logs, processes.json. */
  stateDir: string;
  /** kubectl's cache directory (discovery and OpenAPI), temporary too. */
  cache: string;
  /** The admin kubeconfig. */
  admin: string;
  client: RestClient;
  /** `--name` and `--state-dir`, for the other cluster subcommands (up --repair, status, down). */
  flags: string[];
  /** What `tskube up` printed. */
  output: string;
  /** down runs `tskube down` and removes the temporary directories. */
  down(): Promise<void>;
}

export interface TestClusterOptions {
  name: string;
  lanCidr: string;
  /** How long `tskube up` may take (default 240 s) and `tskube down` (default 60 s). */
  upTimeoutMs?: number;
  downTimeoutMs?: number;
  /** The admin client's User-Agent (default `test`). */
  userAgent?: string;
  /** The state directory's mode (default 0700, as mkdtemp makes it). */
  stateDirMode?: number;
}

/**
 * upCluster runs `tskube up --name=<name> --lan-cidr=<lanCidr>` in a fresh state directory. When up fails, what it
 * made is taken down before the error is thrown, so an after() that calls `cluster?.down()` has nothing to do.
 */
export async function upCluster(options: TestClusterOptions): Promise<TestCluster> {
  const stateDir = await mkdtemp(join(tmpdir(), `tskube-${options.name}-`));
  if (options.stateDirMode !== undefined) await chmod(stateDir, options.stateDirMode);
  const cache = await mkdtemp(join(tmpdir(), 'kubectl-cache-'));
  const flags = [`--name=${options.name}`, `--state-dir=${stateDir}`];
  const admin = join(stateDir, 'admin.conf');
  let client: RestClient | undefined;
  const down = async () => {
    client?.close();
    try {
      await run([TSKUBE, 'down', ...flags], { timeoutMs: options.downTimeoutMs ?? 60_000 });
    } finally {
      await rm(cache, { recursive: true, force: true });
      await rm(stateDir, { recursive: true, force: true });
    }
  };
  try {
    const { stdout } = await run([TSKUBE, 'up', ...flags, `--lan-cidr=${options.lanCidr}`], {
      timeoutMs: options.upTimeoutMs ?? 240_000,
    });
    client = new RestClient(await loadKubeconfig(admin), { userAgent: options.userAgent ?? 'test' });
    return { stateDir, cache, admin, client, flags, output: stdout, down };
  } catch (error) {
    await down().catch(() => undefined);
    throw error;
  }
}
