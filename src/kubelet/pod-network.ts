import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatCidr, nthAddress, parseCidr, parseIPv4, type Cidr } from '../net/ipv4.ts';
import { addNetns, deleteNetns, ipAddresses, ipBatch, linkExists } from '../sys/ip.ts';
import { Iptables } from '../sys/iptables.ts';
import { run } from '../sys/run.ts';

/**
 * PodNetwork wires pods onto the node's pod bridge (docker0 by default, as in the lab): the bridge with a fixed MAC
 * and the subnet's first address, then per pod a network namespace, a veth on the bridge with hairpin on, an IP
 * from the subnet handed out round-robin (so a freed IP is not reused at once) and remembered on disk, a default
 * route, and a gratuitous ARP; teardown removes the namespace and the node's neighbour entry.
 */
export class PodNetwork {
  readonly bridge: string;
  readonly cidr: Cidr;
  readonly gateway: string;
  #stateFile: string;
  #state: { last: number; allocated: Record<string, string> };

  #onWarning: (message: string) => void;
  #wired = new Set<string>();

  constructor(options: { bridge: string; podCidr: string; rootDir: string; onWarning?: (message: string) => void }) {
    this.#onWarning = options.onWarning ?? (() => undefined);
    this.bridge = options.bridge;
    this.cidr = parseCidr(options.podCidr);
    this.gateway = nthAddress(this.cidr, 1);
    mkdirSync(options.rootDir, { recursive: true });
    this.#stateFile = join(options.rootDir, 'pod-ips.json');
    this.#state = existsSync(this.#stateFile)
      ? JSON.parse(readFileSync(this.#stateFile, 'utf8'))
      : { last: 1, allocated: {} };
  }

  /** ensureBridge makes the pod bridge with the gateway address (keeps an existing address, as Docker's bip). */
  async ensureBridge(): Promise<void> {
    if (!(await linkExists(this.bridge))) {
      const mac = `02:42:${[...parseIPv4(this.gateway)!.toString(16).padStart(8, '0').match(/../g)!].join(':')}`;
      await ipBatch([`link add ${this.bridge} address ${mac} type bridge`]);
    }
    const addresses = (await ipAddresses(this.bridge))[0]?.addr_info ?? [];
    if (!addresses.some((a) => a.family === 'inet' && a.local === this.gateway))
      await ipBatch([`addr add ${this.gateway}/${this.cidr.prefix} dev ${this.bridge}`]);
    await ipBatch([`link set ${this.bridge} up`]);
  }

  /**
   * ensureMasquerade does for pods what Docker does on the lab's nodes: traffic from the pod subnet that leaves the
   * node for anything outside nonMasqueradeCidr (the cluster's pod network) goes out with the node's address, so
   * pods reach the control plane and the LAN, which have no route back to pod subnets. Pod-to-pod traffic keeps its
   * source. One rule in the node's own nat POSTROUTING (never the machine's root namespace).
   */
  async ensureMasquerade(nonMasqueradeCidr: string): Promise<void> {
    const iptables = await Iptables.detect();
    const cidr = formatCidr(this.cidr);
    await iptables.ensureRule('nat', 'POSTROUTING', [
      '-s',
      cidr,
      '!',
      '-d',
      nonMasqueradeCidr,
      '!',
      '-o',
      this.bridge,
      '-m',
      'comment',
      '--comment',
      'tskube: SNAT for outbound traffic from pods',
      '-j',
      'MASQUERADE',
    ]);
  }

  /** setUp wires one pod and returns its IP; calling it again for the same pod returns the same IP. */
  async setUp(podUid: string, netns: string): Promise<string> {
    const ip = this.#allocate(podUid);
    // Pods wired by this process need no more checks (each would be an `ip` process, for every pod, every sync).
    if (this.#wired.has(podUid)) return ip;
    await addNetns(netns);
    const hostDev = `veth${podUid.replace(/-/g, '').slice(0, 8)}`;
    const created = !(await linkExists(hostDev));
    if (created)
      await ipBatch([
        `link add ${hostDev} type veth peer name eth0 netns ${netns}`,
        `link set ${hostDev} master ${this.bridge}`,
        `link set ${hostDev} type bridge_slave hairpin on`,
        `link set ${hostDev} up`,
      ]);
    // Idempotent, and done whenever this process has not wired the pod yet: a setup that failed half-way (veth made,
    // no address or route) is completed on the next sync instead of leaving the pod without a network for good.
    await ipBatch(
      [
        `addr replace ${ip}/${this.cidr.prefix} dev eth0`,
        'link set eth0 up',
        `route replace default via ${this.gateway}`,
      ],
      netns,
    );
    if (created) {
      // Tell the node (and other pods) the new MAC at once: a reused IP would otherwise hit a stale ARP entry.
      // Not awaited: arping waits for replies a gratuitous ARP never gets.
      void run(
        [
          'nsenter',
          `--net=/run/netns/${netns}`,
          '--',
          '/bin/busybox',
          'arping',
          '-U',
          '-c',
          '1',
          '-w',
          '1',
          '-I',
          'eth0',
          ip,
        ],
        { timeoutMs: 3000 },
      ).catch((error) => this.#onWarning(`gratuitous ARP for ${ip} failed: ${error.message}`));
    }
    this.#wired.add(podUid);
    return ip;
  }

  /** tearDown removes the pod's namespace (its veth goes with it) and forgets its IP. */
  async tearDown(podUid: string, netns: string): Promise<void> {
    this.#wired.delete(podUid);
    const ip = this.#state.allocated[podUid];
    await deleteNetns(netns);
    if (ip) {
      await ipBatch([`neigh del ${ip} dev ${this.bridge}`]).catch(() => undefined);
      delete this.#state.allocated[podUid];
      this.#save();
    }
  }

  /** ipOf returns the IP a pod holds, if any. */
  ipOf(podUid: string): string | undefined {
    return this.#state.allocated[podUid];
  }

  #allocate(podUid: string): string {
    const existing = this.#state.allocated[podUid];
    if (existing) return existing;
    const used = new Set(Object.values(this.#state.allocated));
    // Host addresses run from .2 (after the gateway) to the last before broadcast.
    const first = 2;
    const last = this.cidr.size - 2;
    for (let i = 0; i <= last - first; i++) {
      const n = first + ((this.#state.last - first + 1 + i) % (last - first + 1));
      const ip = nthAddress(this.cidr, n);
      if (!used.has(ip)) {
        this.#state.last = n;
        this.#state.allocated[podUid] = ip;
        this.#save();
        return ip;
      }
    }
    throw new Error(`Cannot allocate a pod IP: ${formatCidr(this.cidr)} is full`);
  }

  #save(): void {
    writeFileSync(this.#stateFile, JSON.stringify(this.#state));
  }
}
