/**
 * The everyday kubectl workflow on a `tskube up` cluster, with the real kubectl 1.33 (and 1.30 where it differs:
 * typed clients, SPDY port-forward): the create commands, expose, scale, set image, rollout
 * status|history|undo|restart, label, annotate, patch, edit, apply (client and server side), diff, wait, explain,
 * port-forward, cp, logs -f, and deleting the namespace, which takes its pods, Services and proxy rules with it.
 * Each step checks what a user would see. Cluster "tkw" on LAN 192.168.236.0/24; `tskube down` in after().
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/sys/run.ts';
import { kubectl, kubectlAvailable, kubectlPath } from '../support/kubectl.ts';
import { NOT_ROOT } from '../support/netns.ts';
import { TSKUBE, freePort } from '../support/processes.ts';
import { waitFor } from '../../src/util/wait.ts';
import { type TestCluster, upCluster } from '../support/cluster.ts';

const NAME = 'tkw';
const NS = 'shop';

describe('the everyday kubectl workflow', {
  skip: NOT_ROOT || (!kubectlAvailable('1.33') && 'kubectl 1.33 is not installed'),
}, () => {
  let cluster: TestCluster | undefined;
  let stateDir: string;
  let work: string;
  const flags = () => [`--name=${NAME}`, `--state-dir=${stateDir}`];
  const kubeconfig = () => join(stateDir, 'admin.conf');
  const k = (args: string[], options: { version?: string; input?: string; env?: Record<string, string> } = {}) =>
    kubectl(options.version ?? '1.33', kubeconfig(), join(work, `cache-${options.version ?? '1.33'}`), args, {
      input: options.input,
      timeoutMs: 150_000,
      cwd: work,
    });
  const ok = async (args: string[], options: { version?: string; input?: string } = {}) => {
    const result = await k(args, options);
    assert.equal(result.code, 0, `kubectl ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const inNode = (node: string, argv: string[]) =>
    run([TSKUBE, 'exec', node, ...flags(), '--', ...argv], { timeoutMs: 15_000 });
  const json = async (args: string[]) => JSON.parse(await ok([...args, '-o', 'json']));

  before(async () => {
    cluster = await upCluster({ name: NAME, lanCidr: '192.168.236.0/24', downTimeoutMs: 90_000 });
    // kubectl's working directory (manifests written by the tests) and its caches.
    ({ stateDir, cache: work } = cluster);
  });

  after(async () => {
    await cluster?.down();
    const left = (await run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`${NAME}-`));
    assert.deepEqual(left, [], 'down leaves no namespace');
  });

  test('create namespace, deployment, service, configmap, secret, serviceaccount', async () => {
    assert.equal(await ok(['create', 'namespace', NS]), `namespace/${NS} created\n`);
    assert.equal(
      await ok(['create', 'deployment', 'web', '--image=nginx', '--replicas=2', '-n', NS]),
      'deployment.apps/web created\n',
    );
    assert.equal(
      await ok(['create', 'service', 'clusterip', 'api', '--tcp=8080:80', '-n', NS]),
      'service/api created\n',
    );
    assert.equal(
      await ok(['create', 'configmap', 'cfg', '--from-literal=color=blue', '-n', NS]),
      'configmap/cfg created\n',
    );
    assert.equal(
      await ok(['create', 'secret', 'generic', 'creds', '--from-literal=user=admin', '-n', NS]),
      'secret/creds created\n',
    );
    assert.equal(
      await ok(['get', 'secret', 'creds', '-n', NS, '-o', 'jsonpath={.data.user}']),
      Buffer.from('admin').toString('base64'),
    );
    assert.equal(await ok(['create', 'serviceaccount', 'robot', '-n', NS]), 'serviceaccount/robot created\n');
    const sas = await waitFor('default and robot', async () => {
      const out = await ok(['get', 'serviceaccounts', '-n', NS]);
      return /^default\s+0\s/m.test(out) && /^robot\s+0\s/m.test(out) ? out : undefined;
    });
    assert.match(sas, /^NAME\s+SECRETS\s+AGE$/m);
  });

  test('rollout status waits for the Deployment, expose makes a Service that answers on its ClusterIP', async () => {
    assert.match(
      await ok(['rollout', 'status', 'deployment/web', '-n', NS, '--timeout=120s']),
      /deployment "web" successfully rolled out/,
    );
    assert.equal(await ok(['expose', 'deployment', 'web', '--port=80', '-n', NS]), 'service/web exposed\n');
    const svc = await json(['get', 'service', 'web', '-n', NS]);
    const page = await waitFor(
      'the page through the ClusterIP',
      async () => {
        const { stdout } = await inNode('nodea', ['curl', '-s', '-m', '3', `http://${svc.spec.clusterIP}/`]).catch(
          () => ({ stdout: '' }),
        );
        return stdout.includes('Welcome to nginx!') ? stdout : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.match(page, /Welcome to nginx!/);
  });

  test('scale and set image roll the Deployment; rollout history, undo and restart work on its revisions', async () => {
    assert.equal(await ok(['scale', 'deployment', 'web', '--replicas=3', '-n', NS]), 'deployment.apps/web scaled\n');
    await ok(['rollout', 'status', 'deployment/web', '-n', NS, '--timeout=120s']);
    assert.equal((await json(['get', 'deployment', 'web', '-n', NS])).status.readyReplicas, 3);
    assert.equal(
      await ok(['set', 'image', 'deployment/web', 'nginx=nginx:1.25', '-n', NS]),
      'deployment.apps/web image updated\n',
    );
    assert.match(
      await ok(['rollout', 'status', 'deployment/web', '-n', NS, '--timeout=120s']),
      /successfully rolled out/,
    );
    const history = await ok(['rollout', 'history', 'deployment/web', '-n', NS]);
    assert.match(history, /^deployment\.apps\/web\s*\nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    assert.match(await ok(['rollout', 'history', 'deployment/web', '-n', NS, '--revision=2']), /Image:\s+nginx:1\.25/);
    assert.equal(await ok(['rollout', 'undo', 'deployment/web', '-n', NS]), 'deployment.apps/web rolled back\n');
    await ok(['rollout', 'status', 'deployment/web', '-n', NS, '--timeout=120s']);
    assert.equal((await json(['get', 'deployment', 'web', '-n', NS])).spec.template.spec.containers[0].image, 'nginx');
    assert.match(await ok(['rollout', 'history', 'deployment/web', '-n', NS]), /^2\s+<none>\n3\s+<none>\n/m);
    assert.equal(await ok(['rollout', 'restart', 'deployment/web', '-n', NS]), 'deployment.apps/web restarted\n');
    await ok(['rollout', 'status', 'deployment/web', '-n', NS, '--timeout=120s']);
    assert.ok(
      (await json(['get', 'deployment', 'web', '-n', NS])).spec.template.metadata.annotations[
        'kubectl.kubernetes.io/restartedAt'
      ],
    );
  });

  test('label, annotate, patch and edit change what get shows', async () => {
    assert.equal(await ok(['label', 'deployment', 'web', 'tier=frontend', '-n', NS]), 'deployment.apps/web labeled\n');
    assert.equal(
      await ok(['annotate', 'deployment', 'web', 'owner=shop-team', '-n', NS]),
      'deployment.apps/web annotated\n',
    );
    assert.equal(
      await ok(['patch', 'deployment', 'web', '-n', NS, '-p', '{"spec":{"revisionHistoryLimit":5}}']),
      'deployment.apps/web patched\n',
    );
    const d = await json(['get', 'deployment', 'web', '-n', NS]);
    assert.equal(d.metadata.labels.tier, 'frontend');
    assert.equal(d.metadata.annotations.owner, 'shop-team');
    assert.equal(d.spec.revisionHistoryLimit, 5);
    assert.match(await ok(['get', 'deployments', '-n', NS, '-l', 'tier=frontend']), /^web\s+3\/3\s+3\s+3\s/m);
    const editor = join(work, 'editor.sh');
    await writeFile(editor, '#!/bin/sh\nsed -i "s/color: blue/color: green/" "$1"\n');
    await chmod(editor, 0o755);
    const edited = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(
        kubectlPath('1.33'),
        [
          `--kubeconfig=${kubeconfig()}`,
          `--cache-dir=${join(work, 'cache-1.33')}`,
          'edit',
          'configmap',
          'cfg',
          '-n',
          NS,
        ],
        { env: { ...process.env, HOME: work, EDITOR: editor, KUBE_EDITOR: editor } },
      );
      let out = '';
      child.stdout.on('data', (b) => (out += b));
      child.stderr.on('data', (b) => (out += b));
      child.on('close', (code) => resolve({ code, out }));
    });
    assert.equal(edited.out, 'configmap/cfg edited\n');
    assert.equal(await ok(['get', 'configmap', 'cfg', '-n', NS, '-o', 'jsonpath={.data.color}']), 'green');
  });

  test('apply creates and configures, diff shows a pending change, server-side apply takes it', async () => {
    const manifest = (replicas: number, color: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: ${NS}
data:
  color: ${color}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: ${NS}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: nginx
        image: nginx
        ports:
        - containerPort: 80
`;
    await writeFile(join(work, 'app.yaml'), manifest(1, 'red'));
    assert.equal(await ok(['apply', '-f', 'app.yaml']), 'configmap/settings created\ndeployment.apps/api created\n');
    assert.equal(
      await ok(['apply', '-f', 'app.yaml']),
      'configmap/settings unchanged\ndeployment.apps/api unchanged\n',
    );
    await writeFile(join(work, 'app.yaml'), manifest(2, 'red'));
    assert.equal(
      await ok(['apply', '-f', 'app.yaml']),
      'configmap/settings unchanged\ndeployment.apps/api configured\n',
    );
    assert.equal(
      (await json(['get', 'deployment', 'api', '-n', NS])).spec.template.spec.containers[0].ports[0].containerPort,
      80,
    );
    await writeFile(join(work, 'app.yaml'), manifest(2, 'yellow'));
    const diff = await k(['diff', '-f', 'app.yaml']);
    assert.equal(diff.code, 1, diff.stderr);
    assert.match(diff.stdout, /^-\s+color: red$/m);
    assert.match(diff.stdout, /^\+\s+color: yellow$/m);
    assert.equal(
      await ok(['apply', '--server-side', '--force-conflicts', '-f', 'app.yaml']),
      'configmap/settings serverside-applied\ndeployment.apps/api serverside-applied\n',
    );
    assert.equal(await ok(['get', 'configmap', 'settings', '-n', NS, '-o', 'jsonpath={.data.color}']), 'yellow');
    assert.equal((await k(['diff', '-f', 'app.yaml'])).code, 0);
  });

  test('create job runs to completion: wait, logs; create cronjob shows its schedule', async () => {
    assert.equal(
      await ok(['create', 'job', 'hello', '--image=busybox', '-n', NS, '--', 'sh', '-c', 'echo hello from the job']),
      'job.batch/hello created\n',
    );
    assert.equal(
      await ok(['wait', '--for=condition=complete', 'job/hello', '-n', NS, '--timeout=120s']),
      'job.batch/hello condition met\n',
    );
    assert.equal(await ok(['logs', 'job/hello', '-n', NS]), 'hello from the job\n');
    assert.match(await ok(['get', 'jobs', '-n', NS]), /^hello\s+Complete\s+1\/1\s+\d+s\s+\d+s$/m);
    assert.equal(
      await ok([
        'create',
        'cronjob',
        'tick',
        '--image=busybox',
        '--schedule=*/5 * * * *',
        '-n',
        NS,
        '--',
        'echo',
        'tick',
      ]),
      'cronjob.batch/tick created\n',
    );
    assert.match(
      await ok(['get', 'cronjobs', '-n', NS]),
      /^tick\s+\*\/5 \* \* \* \*\s+<none>\s+False\s+0\s+<none>\s+\d+s$/m,
    );
    assert.equal(
      await ok(['create', 'job', 'tick-now', '--from=cronjob/tick', '-n', NS]),
      'job.batch/tick-now created\n',
    );
    assert.equal(
      await ok(['wait', '--for=condition=complete', 'job/tick-now', '-n', NS, '--timeout=120s']),
      'job.batch/tick-now condition met\n',
    );
  });

  test('explain describes a field from the served schema', async () => {
    const out = await ok(['explain', 'deployment.spec.replicas']);
    assert.match(out, /^GROUP:\s+apps$/m);
    assert.match(out, /^FIELD:\s+replicas <integer>$/m);
  });

  for (const version of ['1.33', '1.30'].filter(kubectlAvailable)) {
    test(`kubectl ${version} port-forward: a request through the forwarded port answers`, async () => {
      const local = await freePort();
      const child = spawn(
        kubectlPath(version),
        [
          `--kubeconfig=${kubeconfig()}`,
          `--cache-dir=${join(work, `cache-${version}`)}`,
          'port-forward',
          'deployment/web',
          `${local}:80`,
          '-n',
          NS,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: work } },
      );
      let out = '';
      child.stdout.on('data', (b) => (out += b));
      child.stderr.on('data', (b) => (out += b));
      try {
        await waitFor('Forwarding from', async () => out.includes(`Forwarding from 127.0.0.1:${local} -> 80`), {
          timeoutMs: 20_000,
        });
        const body = await (await fetch(`http://127.0.0.1:${local}/`)).text();
        assert.match(body, /Welcome to nginx!/);
      } finally {
        child.kill('SIGTERM');
      }
    });
  }

  test('cp copies a file into a pod and back; logs -f and attach follow new lines', async () => {
    assert.equal(
      await ok([
        'run',
        'box',
        '--image=busybox',
        '-n',
        NS,
        '--restart=Never',
        '--',
        'sh',
        '-c',
        'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.5; done',
      ]),
      'pod/box created\n',
    );
    await ok(['wait', '--for=condition=Ready', 'pod/box', '-n', NS, '--timeout=60s']);
    await writeFile(join(work, 'note.txt'), 'copied both ways\n');
    assert.equal(await ok(['cp', 'note.txt', `${NS}/box:/tmp/note.txt`]), '');
    assert.equal(await ok(['exec', 'box', '-n', NS, '--', 'cat', '/tmp/note.txt']), 'copied both ways\n');
    await ok(['cp', `${NS}/box:/tmp/note.txt`, 'back.txt']);
    assert.equal(await readFile(join(work, 'back.txt'), 'utf8'), 'copied both ways\n');
    const lines = await new Promise<string[]>((resolve, reject) => {
      const child = spawn(
        kubectlPath('1.33'),
        [
          `--kubeconfig=${kubeconfig()}`,
          `--cache-dir=${join(work, 'cache-1.33')}`,
          'logs',
          '-f',
          '--tail=1',
          'box',
          '-n',
          NS,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: work } },
      );
      let out = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`logs -f printed only: ${out}`));
      }, 20_000);
      child.stdout.on('data', (b) => {
        out += b;
        const got = out.split('\n').filter(Boolean);
        if (got.length >= 4) {
          clearTimeout(timer);
          child.kill('SIGTERM');
          resolve(got);
        }
      });
    });
    const numbers = lines.map((l) => Number(/^line (\d+)$/.exec(l)?.[1]));
    assert.ok(
      numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1),
      `consecutive lines: ${lines.join(',')}`,
    );

    const attached = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        kubectlPath('1.33'),
        [`--kubeconfig=${kubeconfig()}`, `--cache-dir=${join(work, 'cache-1.33')}`, 'attach', 'box', '-n', NS],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: work } },
      );
      let out = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`attach printed only: ${out}`));
      }, 20_000);
      child.stdout.on('data', (b) => {
        out += b;
        if (/line \d+\n.*line \d+\n/s.test(out)) {
          clearTimeout(timer);
          child.kill('SIGTERM');
          resolve(out);
        }
      });
    });
    assert.match(attached, /^line \d+$/m);
  });

  test('kubectl 1.30 typed create commands work too', {
    skip: !kubectlAvailable('1.30') && 'kubectl 1.30 is not installed',
  }, async () => {
    assert.equal(
      await ok(['create', 'deployment', 'old', '--image=nginx', '-n', NS], { version: '1.30' }),
      'deployment.apps/old created\n',
    );
    assert.equal(
      await ok(['create', 'secret', 'generic', 'old', '--from-literal=a=b', '-n', NS], { version: '1.30' }),
      'secret/old created\n',
    );
    assert.equal(
      await ok(['create', 'job', 'old', '--image=busybox', '-n', NS, '--', 'true'], { version: '1.30' }),
      'job.batch/old created\n',
    );
    assert.match(
      await ok(['rollout', 'status', 'deployment/old', '-n', NS, '--timeout=120s'], { version: '1.30' }),
      /successfully rolled out/,
    );
  });

  test('delete namespace removes its pods, Services and their proxy rules', async () => {
    const svc = await json(['get', 'service', 'web', '-n', NS]);
    const rules = async () => {
      const nat = (await inNode('nodea', ['iptables-save', '-t', 'nat']).catch(() => ({ stdout: '' }))).stdout;
      const nft = (await inNode('nodea', ['nft', 'list', 'ruleset']).catch(() => ({ stdout: '' }))).stdout;
      return nat + nft;
    };
    assert.ok((await rules()).includes(svc.spec.clusterIP), 'the Service has rules before');
    assert.equal(await ok(['delete', 'namespace', NS, '--timeout=120s']), `namespace "${NS}" deleted\n`);
    const gone = await k(['get', 'namespace', NS]);
    assert.match(gone.stderr, /namespaces "shop" not found/);
    assert.equal(
      await ok([
        'get',
        'pods',
        '-A',
        '-o',
        'jsonpath={range .items[?(@.metadata.namespace=="shop")]}{.metadata.name}{end}',
      ]),
      '',
    );
    await waitFor(
      'no proxy rules for the namespace',
      async () => !(await rules()).includes(svc.spec.clusterIP) && !(await rules()).includes(`${NS}/`),
      { timeoutMs: 30_000 },
    );
  });
});
