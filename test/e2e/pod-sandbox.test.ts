/**
 * Pods are not host root, on a real `tskube up` cluster ("tsx", LAN 192.168.248.0/24; the pods run on nodea): inside a pod the
 * capabilities are the runtimes' default set with the RuntimeDefault seccomp filter, the host's files are neither
 * visible nor writable (nor /run/netns), the environment is the spec's plus the service variables; securityContext
 * users, runAsNonRoot and readOnlyRootFilesystem behave as upstream; hostNetwork shares the node's interfaces;
 * kubectl exec and cp work inside the container's own view; and nothing a pod's root makes is reachable by an
 * unprivileged local user.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RestClient } from '../../src/client/rest-client.ts';
import { run } from '../../src/sys/run.ts';
import { kubectl, kubectlAvailable } from '../support/kubectl.ts';
import { NOT_ROOT } from '../support/netns.ts';
import { waitFor } from '../../src/util/wait.ts';
import { type TestCluster, upCluster } from '../support/cluster.ts';
import type { Resource } from '../../src/client/client.ts';

const NAME = 'tsx';
const DEFAULT_CAPS = '00000000a80425fb';

describe('pod sandbox', { skip: NOT_ROOT || (!kubectlAvailable('1.33') && 'kubectl 1.33 is not installed') }, () => {
  let cluster: TestCluster | undefined;
  let stateDir: string;
  let cache: string;
  let client: RestClient;
  const marker = `/tskube-sandbox-marker-${process.pid}`;
  const pods = () => client.resource('pods') as Resource<any>;
  const k = (args: string[], input?: string) => kubectl('1.33', join(stateDir, 'admin.conf'), cache, args, { input });
  const sh = async (pod: string, script: string) => {
    const r = await k(['exec', pod, '--', 'sh', '-c', script]);
    return { ...r, out: r.stdout };
  };
  const create = (name: string, spec: Record<string, unknown>, container: Record<string, unknown> = {}) =>
    client.create(pods(), 'default', {
      metadata: { name },
      spec: {
        nodeName: 'nodea',
        terminationGracePeriodSeconds: 1,
        ...spec,
        containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], ...container }],
      },
    });
  const running = (name: string) =>
    waitFor(
      `${name} running`,
      async () => {
        const p = await client.get(pods(), 'default', name);
        return p.status?.phase === 'Running' ? p : undefined;
      },
      { timeoutMs: 60_000 },
    );

  before(async () => {
    await writeFile(marker, 'host\n');
    cluster = await upCluster({
      name: NAME,
      lanCidr: '192.168.248.0/24',
      upTimeoutMs: 300_000,
      downTimeoutMs: 120_000,
      // Open to everyone, so only the kubelet's own directory modes stand between local users and pods' files.
      stateDirMode: 0o755,
    });
    ({ stateDir, cache, client } = cluster);
    await create(
      'plain',
      {},
      {
        env: [
          { name: 'GREETING', value: 'hello' },
          { name: 'MESSAGE', value: '$(GREETING) world' },
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ],
      },
    );
    await running('plain');
  });

  after(async () => {
    await cluster?.down();
    await rm(marker, { force: true });
  });

  test('a container holds the default capability set, under seccomp and no_new_privs', async () => {
    const { out, code, stderr } = await sh(
      'plain',
      'grep -E "^(CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status; id',
    );
    assert.equal(code, 0, stderr);
    assert.match(
      out,
      new RegExp(
        `CapPrm:\\s+${DEFAULT_CAPS}\\nCapEff:\\s+${DEFAULT_CAPS}\\nCapBnd:\\s+${DEFAULT_CAPS}\\nCapAmb:\\s+0{16}\\nNoNewPrivs:\\s+1\\nSeccomp:\\s+2\\n`,
      ),
    );
    assert.match(out, /uid=0\(root\) gid=0\(root\)/);
    // RuntimeDefault refuses what CAP_SYS_ADMIN would guard: new namespaces, mounts.
    const unshare = await sh('plain', 'unshare -U true');
    assert.notEqual(unshare.code, 0);
    assert.match(unshare.stderr, /Operation not permitted/);
  });

  test("the host's root, /root and /run/netns are not visible and the host's files cannot be written", async () => {
    const { out } = await sh(
      'plain',
      `ls ${marker} /run/netns /proc/1/root${marker} 2>&1; ls -a /; touch /bin/busybox 2>&1; (echo x > /proc/sys/kernel/core_pattern) 2>&1; (echo b > /proc/sysrq-trigger) 2>&1; echo pod > /written-by-pod && cat /written-by-pod`,
    );
    assert.match(out, new RegExp(`${marker}: No such file or directory`));
    assert.match(out, /\/run\/netns: No such file or directory/);
    assert.doesNotMatch(out, /^(home|usr|opt|boot|srv|lib64)$/m, "none of the host's top-level directories");
    assert.match(out, /touch: \/bin\/busybox: Read-only file system/);
    assert.match(out, /core_pattern: Read-only file system/);
    assert.match(out, /sysrq-trigger: /, 'no writing sysrq-trigger (absent where the kernel has no magic SysRq)');
    assert.match(out, /^pod$/m, 'its own writable root');
    assert.equal(existsSync('/written-by-pod'), false);
    assert.equal(await readFile(marker, 'utf8'), 'host\n');
    assert.notEqual((await readFile('/proc/sys/kernel/core_pattern', 'utf8')).trim(), 'x');
  });

  test("the environment is the spec's and the service variables only, never the kubelet's", async () => {
    const { out } = await sh('plain', 'env');
    const names = out
      .trim()
      .split('\n')
      .map((l) => l.slice(0, l.indexOf('=')))
      .sort();
    const allowed = (n: string) =>
      ['GREETING', 'MESSAGE', 'POD_NAME', 'HOSTNAME', 'HOME', 'PATH', 'PWD', 'SHLVL'].includes(n) ||
      /^KUBERNETES_|_SERVICE_(HOST|PORT)|_PORT(_\d+_(TCP|UDP|SCTP)(_(ADDR|PORT|PROTO))?)?$/.test(n);
    assert.deepEqual(
      names.filter((n) => !allowed(n)),
      [],
    );
    assert.match(out, /^GREETING=hello$/m);
    assert.match(out, /^MESSAGE=hello world$/m);
    assert.match(out, /^POD_NAME=plain$/m);
    assert.match(out, /^KUBERNETES_SERVICE_HOST=/m);
  });

  test("kubectl exec runs in the container's view: its programs, processes and user; kubectl cp works", async () => {
    const { out } = await sh('plain', 'readlink /bin/wget; ps -o pid,comm; hostname');
    assert.match(out, /^busybox\n/, "wget is busybox's applet");
    assert.match(out, /^\s+1 bwrap\n\s+2 sleep$/m, "the container's processes");
    assert.match(out, /^plain$/m);
    const local = join(stateDir, 'to-pod.txt');
    await writeFile(local, 'copied in\n');
    const cp = await k(['cp', local, 'plain:/tmp/in.txt']);
    assert.equal(cp.code, 0, cp.stderr);
    assert.equal((await sh('plain', 'cat /tmp/in.txt')).out, 'copied in\n');
    const back = await k(['cp', 'plain:/tmp/in.txt', join(stateDir, 'back.txt')]);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(await readFile(join(stateDir, 'back.txt'), 'utf8'), 'copied in\n');
  });

  test("runAsNonRoot with a root image does not start: CreateContainerConfigError with upstream's message", async () => {
    const p = await create('nonroot', { securityContext: { runAsNonRoot: true } });
    const waiting = await waitFor(
      'the waiting reason',
      async () => (await client.get(pods(), 'default', 'nonroot')).status?.containerStatuses?.[0]?.state?.waiting,
      { timeoutMs: 30_000 },
    );
    assert.equal(waiting.reason, 'CreateContainerConfigError');
    assert.equal(
      waiting.message,
      `container has runAsNonRoot and image will run as root (pod: "nonroot_default(${p.metadata.uid})", container: c)`,
    );
  });

  test('runAsUser and runAsGroup set the user, without capabilities; readOnlyRootFilesystem refuses writes', async () => {
    await create(
      'user',
      {
        securityContext: { runAsUser: 1000, runAsGroup: 3000, runAsNonRoot: true },
        volumes: [{ name: 'scratch', emptyDir: {} }],
      },
      {
        securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
        volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
      },
    );
    await running('user');
    const { out } = await sh(
      'user',
      'id; grep CapEff /proc/self/status; touch /x 2>&1; touch /tmp/x 2>&1; echo ok > /scratch/f && cat /scratch/f',
    );
    assert.match(out, /^uid=1000 gid=3000/m);
    assert.match(out, /CapEff:\s+0{16}/);
    assert.match(out, /touch: \/x: Read-only file system/);
    assert.match(out, /touch: \/tmp\/x: Read-only file system/);
    assert.match(out, /^ok$/m, 'an emptyDir volume stays writable');
  });

  test("a hostNetwork and hostPID pod sees the node's interfaces and processes, and has the node's IP", async () => {
    await create('hostnet', { hostNetwork: true, hostPID: true });
    const p = await running('hostnet');
    const node = (
      await client.get(client.resource('nodes') as Resource<any>, undefined, 'nodea')
    ).status.addresses.find((a: any) => a.type === 'InternalIP').address;
    assert.equal(p.status.podIP, node);
    const { out } = await sh('hostnet', 'ip -o -4 addr; ls -d /proc/[0-9]* | wc -l');
    assert.ok(out.includes(` ${node}/`), out);
    assert.ok(Number(out.trim().split('\n').at(-1)) > 20, "the host's processes");
    const plain = await sh('plain', 'ip -o -4 addr');
    assert.ok(!plain.out.includes(` ${node}/`), 'a plain pod has its own network');
  });

  test("what a pod's root makes (a setuid copy of a shell) is out of an unprivileged local user's reach", async () => {
    const made = await sh('plain', 'cp /bin/busybox /tmp/rootsh && chmod 4755 /tmp/rootsh && ls -l /tmp/rootsh');
    assert.match(made.out, /^-rwsr-xr-x/);
    const p = await client.get(pods(), 'default', 'plain');
    const file = join(
      stateDir,
      'nodes',
      'nodea',
      'kubelet',
      'containers',
      p.metadata.uid,
      'c',
      'upper',
      'tmp',
      'rootsh',
    );
    assert.ok(existsSync(file), "the file is in the container's writable layer");
    // runuser drops every capability with the switch (setpriv would keep them).
    const nobody = (argv: string[]) =>
      run(['runuser', '-u', 'nobody', '--', ...argv]).then(
        (r) => r.stdout,
        (e) => `refused: ${e.message}`,
      );
    assert.match(
      await nobody(['/bin/busybox', 'ls', '-d', join(stateDir, 'nodes', 'nodea')]),
      /nodea/,
      "the node's directory is open",
    );
    assert.match(await nobody([file, 'id', '-u']), /^refused: .*Permission denied/);
  });
});
