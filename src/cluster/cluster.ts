import { chmodSync } from 'node:fs';
import http from 'node:http';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import https from 'node:https';
import { isStatusError } from '../api/status.ts';
import { loadKubeconfig } from '../client/kubeconfig.ts';
import { RestClient } from '../client/rest-client.ts';
import { CLUSTER_ACCESS_OBJECTS, createClusterPki, type ClusterPki } from './cluster-pki.ts';
import { removeCgroups } from '../sys/cgroups.ts';
import { run } from '../sys/run.ts';
import { clusterLayout, type ClusterLayout, type ClusterOptions } from './layout.ts';
import { Supervisor } from './supervisor.ts';
import { applyClusterDns } from './cluster-dns.ts';
import { TSKUBE_IMAGE } from '../kubelet/image-map.ts';
import { writeConfigText } from '../proxy/config.ts';
import { assertLanFree, createTopology, destroyTopology } from './topology.ts';
import { waitFor } from '../util/wait.ts';

/** How `up` waits: every 100 ms, and an error thrown by the check (a component that died) ends the wait at once. */
const POLL = { intervalMs: 100, failFast: true };

const TSKUBE = fileURLToPath(new URL('../../bin/tskube', import.meta.url));

/** Progress prints one line per step with the time since `up` began. */
type Progress = (line: string) => void;

/**
 * up brings the lab's cluster up on this machine: namespaces, control plane, and per node a kubelet, flatnet and
 * kube-proxy (in --lab mode: kubelets only, docker0 overlapping, as the lab starts). Returns when every node is
 * Ready and every proxy has synced.
 */
export async function up(options: ClusterOptions & { repair: boolean }, progress: Progress): Promise<ClusterLayout> {
  const layout = clusterLayout(options);
  const supervisor = new Supervisor(layout.dir);
  if (supervisor.records.length > 0) {
    // The supervisor restarts whatever exits; after a reboot or a kill of the supervisor itself, start it again.
    const running = supervisor.daemonPid() !== undefined;
    const dead = supervisor.records.filter((r) => !supervisor.alive(r));
    if (running && dead.length === 0) {
      progress(`Cluster "${options.name}" is already up (state in ${layout.dir}); nothing to do`);
      return layout;
    }
    if (!options.repair && !running) {
      throw new Error(
        `Cluster "${options.name}" is up but its supervisor stopped${dead.length ? ` (and ${dead.map((r) => (r.node ? `${r.component}/${r.node}` : r.component)).join(', ')} with it)` : ''}: run \`tskube up --repair\` to restart it, or \`tskube down\``,
      );
    }
    supervisor.ensureDaemon();
    for (const r of dead) progress(`Restarting ${r.node ? `${r.component} on ${r.node}` : r.component}`);
    await waitFor('every component to run', async () => supervisor.records.every((r) => supervisor.alive(r)), {
      ...POLL,
      timeoutMs: 30_000,
    });
    await waitReady(layout, progress);
    return layout;
  }
  if (existsSync(join('/run/netns', layout.lanNetns))) await destroyTopology(layout);
  await assertLanFree(layout);
  mkdirSync(layout.dir, { recursive: true, mode: 0o700 });
  chmodSync(layout.dir, 0o700);
  writeFileSync(join(layout.dir, 'cluster.json'), JSON.stringify(options, null, 2));
  await createTopology(layout);
  progress(
    `Created the LAN ${options.lanCidr} (namespace ${layout.lanNetns}) and ${layout.nodes.length} node namespaces: ${layout.nodes.map((n) => `${n.name} ${n.ip}`).join(', ')}`,
  );
  const pki = await createClusterPki(layout, layout.apiserverUrl);
  progress(
    options.lab
      ? `Wrote the cluster CA and kubelet certificates in ${pki.dir}; the API server is the lab's: plain HTTP on ${layout.apiserverUrl}, no authentication or authorization (anyone who reaches it controls the cluster)`
      : `Wrote the cluster CA, certificates and a kubeconfig per component and node (${pki.dir}, mode 0600): TLS on ${layout.apiserverUrl}, Node,RBAC authorization`,
  );
  const log = (name: string, node?: string) => join(layout.dir, 'logs', node ? `${node}-${name}.log` : `${name}.log`);
  const apiserver = await supervisor.start(
    'apiserver',
    [
      TSKUBE,
      'apiserver',
      ...(options.etcdServers.length
        ? [`--etcd-servers=${options.etcdServers.join(',')}`]
        : [`--data-dir=${join(layout.dir, 'apiserver')}`]),
      `--service-cluster-ip-range=${options.serviceCidr}`,
      `--advertise-address=${layout.controlPlaneIp}`,
      ...apiserverSecurityFlags(layout, pki),
    ],
    { log: log('apiserver') },
  );
  const client = new RestClient(await loadKubeconfig(pki.admin), { userAgent: 'tskube-up' });
  // Ready only counts while our own process lives: an answer from anyone else's server is not our cluster.
  await waitFor(
    'the API server',
    async () => {
      if (!supervisor.alive(apiserver)) throw new Error(`The API server exited: ${lastLines(apiserver.log)}`);
      return readyz(layout.apiserverUrl, readFileSync(pki.caCert));
    },
    { ...POLL, timeoutMs: 30_000 },
  );
  if (!supervisor.alive(apiserver)) throw new Error(`The API server exited: ${lastLines(apiserver.log)}`);
  progress(
    `API server ready on ${layout.apiserverUrl} (${options.etcdServers.length ? 'etcd' : 'embedded SQLite'} store)`,
  );
  for (const [resource, object] of CLUSTER_ACCESS_OBJECTS) {
    await client.create(client.resource(resource, 'rbac.authorization.k8s.io'), undefined, object).catch((error) => {
      if (!isStatusError(error, 409)) throw error;
    });
  }
  const cmFlags = options.lab
    ? []
    : ['--allocate-node-cidrs', `--cluster-cidr=${options.clusterCidr}`, '--node-cidr-mask-size=16'];
  await supervisor.start(
    'controller-manager',
    [TSKUBE, 'controller-manager', `--kubeconfig=${pki.controllerManager}`, `--root-ca-file=${pki.caCert}`, ...cmFlags],
    { log: log('controller-manager') },
  );
  await supervisor.start('scheduler', [TSKUBE, 'scheduler', `--kubeconfig=${pki.scheduler}`], {
    log: log('scheduler'),
  });
  progress('Controller manager and scheduler started');
  // Outside --lab, pods use the cluster DNS and reach the control plane through their node (masqueraded, as Docker does).
  const dnsFlags = options.lab
    ? []
    : [
        `--cluster-dns=${layout.dnsServiceIp}`,
        `--cluster-domain=${layout.clusterDomain}`,
        `--non-masquerade-cidr=${options.clusterCidr}`,
      ];
  for (const node of layout.nodes) {
    mkdirSync(node.dir, { recursive: true });
    const files = pki.nodes[node.name]!;
    const kubeletSecurity = [
      `--tls-cert-file=${files.servingCert}`,
      `--tls-private-key-file=${files.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      '--anonymous-auth=false',
      '--authentication-token-webhook',
      '--authorization-mode=Webhook',
    ];
    await supervisor.start(
      'kubelet',
      [
        TSKUBE,
        'kubelet',
        `--kubeconfig=${files.kubelet}`,
        ...kubeletSecurity,
        `--hostname-override=${node.name}`,
        `--node-ip=${node.ip}`,
        `--root-dir=${join(node.dir, 'kubelet')}`,
        `--netns-prefix=${node.netns}`,
        '--pod-infra-container-image=k8s.gcr.io/pause:3.1',
        '--allow-privileged=true',
        ...dnsFlags,
      ],
      { node: node.name, enter: node.enter, log: log('kubelet', node.name) },
    );
  }
  progress(`Kubelets started on ${layout.nodes.map((n) => n.name).join(', ')}`);
  await waitFor(
    'every node to be Ready',
    async () => {
      const nodes = (await client.list(client.typed('nodes')).catch(() => ({ items: [] }))).items;
      return (
        nodes.length === layout.nodes.length &&
        nodes.every(
          (n) =>
            (options.lab || n.spec?.podCIDR) &&
            (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
        )
      );
    },
    { ...POLL, timeoutMs: 60_000 },
  );
  progress('Every node is Ready');
  if (!options.lab) {
    for (const node of layout.nodes) {
      await supervisor.start(
        'flatnet',
        [TSKUBE, 'flatnet', `--kubeconfig=${pki.nodes[node.name]!.kubelet}`, `--hostname-override=${node.name}`],
        { node: node.name, enter: node.enter, log: log('flatnet', node.name) },
      );
      const configFile = join(node.dir, 'kube-proxy-config');
      await run([...node.enter, TSKUBE, 'proxy', `--write-config-to=${configFile}`]);
      const config = parseYaml(readFileSync(configFile, 'utf8'));
      config.clientConnection.kubeconfig = pki.nodes[node.name]!.proxy;
      config.clusterCIDR = options.clusterCidr;
      config.hostnameOverride = node.name;
      writeFileSync(configFile, writeConfigText(config));
      await supervisor.start('proxy', [TSKUBE, 'proxy', `--config=${configFile}`], {
        node: node.name,
        enter: node.enter,
        log: log('proxy', node.name),
      });
    }
    progress('flatnet and kube-proxy started on every node');
  }
  await waitReady(layout, progress);
  if (!options.lab) {
    // In-cluster config: the pods' ServiceAccount token and the kubernetes Service (10.0.0.1:443), as CoreDNS does.
    await applyClusterDns(client, {
      serviceIP: layout.dnsServiceIp,
      clusterDomain: layout.clusterDomain,
      image: TSKUBE_IMAGE,
    });
    await waitForDns(layout, client);
    progress(
      `Cluster DNS ready: Service kube-system/kube-dns on ${layout.dnsServiceIp} (Deployment coredns, tskube dns)`,
    );
  }
  client.close();
  return layout;
}

/**
 * apiserverSecurityFlags: TLS with client certificates and ServiceAccount tokens, Node,RBAC (the defaults) and the
 * API server's own certificate towards kubelets; in --lab mode the lab's insecure port instead, as the lab starts it.
 */
function apiserverSecurityFlags(layout: ClusterLayout, pki: ClusterPki): string[] {
  const kubelets = [
    `--kubelet-client-certificate=${pki.kubeletClientCert}`,
    `--kubelet-client-key=${pki.kubeletClientKey}`,
    `--kubelet-certificate-authority=${pki.caCert}`,
  ];
  if (layout.options.lab)
    return [
      `--insecure-bind-address=${layout.controlPlaneIp}`,
      '--insecure-port=8080',
      '--secure-port=0',
      '--disable-admission-plugins=ServiceAccount',
      ...kubelets,
    ];
  return [
    `--bind-address=${layout.controlPlaneIp}`,
    '--secure-port=6443',
    `--tls-cert-file=${pki.apiserverCert}`,
    `--tls-private-key-file=${pki.apiserverKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    `--service-account-issuer=https://kubernetes.default.svc.${layout.clusterDomain}`,
    '--authorization-mode=Node,RBAC',
    ...kubelets,
  ];
}

/** readyz asks /readyz as a health check does (anonymously), trusting the cluster CA. */
function readyz(url: string, ca: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const req = (url.startsWith('https:') ? https : http).get(
      `${url}/readyz`,
      { ca, agent: false, timeout: 2000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/** waitForDns waits for a ready kube-dns endpoint and an answer through the Service's IP from every node. */
async function waitForDns(layout: ClusterLayout, client: RestClient): Promise<void> {
  await waitFor(
    'the cluster DNS pods to be ready',
    async () => {
      const slices = (
        await client
          .list(client.typed('endpointslices'), {
            namespace: 'kube-system',
            labelSelector: 'kubernetes.io/service-name=kube-dns',
          })
          .catch(() => ({ items: [] }))
      ).items;
      return slices.some((s) => (s.endpoints ?? []).some((e) => e.conditions?.ready !== false));
    },
    { ...POLL, timeoutMs: 120_000 },
  );
  for (const node of layout.nodes) {
    await waitFor(
      `the cluster DNS to answer on ${node.name}`,
      async () => {
        const r = await run(
          [
            ...node.enter,
            '/bin/busybox',
            'nslookup',
            `kubernetes.default.svc.${layout.clusterDomain}`,
            layout.dnsServiceIp,
          ],
          { timeoutMs: 10_000 },
        ).catch(() => undefined);
        return r?.stdout.includes('Address') === true;
      },
      { ...POLL, timeoutMs: 60_000 },
    );
  }
}

/** waitReady waits for Ready nodes and, outside --lab mode, for every proxy's first sync. */
async function waitReady(layout: ClusterLayout, progress: Progress): Promise<void> {
  if (layout.options.lab) return;
  for (const node of layout.nodes) {
    await waitFor(
      `kube-proxy on ${node.name} to sync`,
      async () => {
        const r = await run([...node.enter, 'curl', '-s', '-m', '1', 'http://127.0.0.1:10256/livez']).catch(() => ({
          stdout: '',
        }));
        return r.stdout.includes('"healthy":true');
      },
      { ...POLL, timeoutMs: 60_000 },
    );
  }
  progress('kube-proxy synced on every node');
}

/** down stops every process of the cluster by PID and removes its namespaces, root link and state directory. */
export async function down(options: ClusterOptions, progress: Progress): Promise<void> {
  const layout = clusterLayout(options);
  const supervisor = new Supervisor(layout.dir);
  const count = supervisor.records.length;
  await supervisor.stopAll();
  progress(`Stopped ${count} processes`);
  await destroyTopology(layout);
  progress('Removed the namespaces (nodes, pods, LAN) and the root link');
  // Pods' cgroups outlive their killed processes: remove them from what each kubelet recorded.
  for (const node of layout.nodes) {
    const containers = join(node.dir, 'kubelet', 'containers');
    if (!existsSync(containers)) continue;
    for (const uid of readdirSync(containers)) removeCgroups(uid, readdirSync(join(containers, uid)));
  }
  rmSync(layout.dir, { recursive: true, force: true });
  progress(`Removed ${layout.dir}`);
}

/** status lists the cluster's components with PID, state and log file. */
export async function status(options: ClusterOptions): Promise<string> {
  const layout = clusterLayout(options);
  const supervisor = new Supervisor(layout.dir);
  if (supervisor.records.length === 0) return `Cluster "${options.name}" is not up (no state in ${layout.dir})\n`;
  const rows = [['COMPONENT', 'NODE', 'PID', 'STATE', 'RESTARTS', 'LAST EXIT', 'LOG']];
  for (const r of supervisor.records) {
    const lastExit = r.lastExit ? `${r.lastExit} (${r.lastExitAt ?? '?'})` : '-';
    rows.push([
      r.component,
      r.node ?? '-',
      r.pid > 0 ? String(r.pid) : '-',
      supervisor.alive(r) ? 'running' : r.pid === 0 ? 'restarting' : 'stopped',
      String(r.restarts ?? 0),
      lastExit,
      r.log,
    ]);
  }
  const daemon = supervisor.daemonPid();
  rows.push([
    'supervisor',
    '-',
    daemon ? String(daemon) : '-',
    daemon ? 'running' : 'stopped',
    '-',
    '-',
    join(layout.dir, 'logs', 'supervisor.log'),
  ]);
  const width = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return `${rows
    .map((row) =>
      row
        .map((c, i) => c.padEnd(width[i]!))
        .join('   ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/** lastLines is the end of a component's log, for an error that says why it stopped. */
function lastLines(log: string, count = 3): string {
  const lines = existsSync(log) ? readFileSync(log, 'utf8').trimEnd().split('\n') : [];
  return lines.length ? lines.slice(-count).join('\n') : `(no log in ${log})`;
}
