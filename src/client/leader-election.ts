import type { Lease, LeaseSpec } from 'kubernetes-types/coordination/v1.js';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Stored } from '../api/objects.ts';
import { isStatusError } from '../api/status.ts';
import type { Logger } from '../log/klog.ts';
import type { RestClient } from './rest-client.ts';
import { microTimestamp } from '../api/time.ts';
import { sleep } from '../util/wait.ts';

export interface LeaderElectionOptions {
  client: RestClient;
  /** The Lease, e.g. kube-system/kube-controller-manager. */
  namespace: string;
  name: string;
  logger: Logger;
  leaseDurationMs?: number;
  renewPeriodMs?: number;
}

/**
 * runLeaderElection holds a coordination.k8s.io Lease so that of several replicas of a component only one acts,
 * as client-go's leaderelection does: acquire when absent or expired, renew on a period, and call onLost when a
 * renewal fails past the lease duration (upstream components then exit). Resolves once leadership is acquired.
 */
export async function runLeaderElection(
  options: LeaderElectionOptions,
  onLost: () => void,
): Promise<{ identity: string; stop(): void }> {
  const duration = options.leaseDurationMs ?? 15_000;
  const renewEvery = options.renewPeriodMs ?? 2_000;
  const identity = `${hostname()}_${randomBytes(8).toString('hex')}`;
  const leases = options.client.typed('leases');
  const log = options.logger;
  const tryAcquire = async (): Promise<boolean> => {
    const now = new Date();
    const stamp = microTimestamp(now);
    let lease: Stored<Lease>;
    try {
      lease = await options.client.get(leases, options.namespace, options.name);
    } catch (error) {
      if (!isStatusError(error, 404)) throw error;
      await options.client.create(leases, options.namespace, {
        metadata: { name: options.name },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: duration / 1000,
          acquireTime: stamp,
          renewTime: stamp,
          leaseTransitions: 0,
        },
      });
      return true;
    }
    const spec: LeaseSpec = lease.spec ?? {};
    const expired =
      Date.parse(spec.renewTime ?? '0') + (spec.leaseDurationSeconds ?? duration / 1000) * 1000 < now.getTime();
    if (spec.holderIdentity !== identity && !expired) return false;
    const next: LeaseSpec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds: duration / 1000,
      renewTime: stamp,
    };
    if (spec.holderIdentity !== identity) {
      next.acquireTime = stamp;
      next.leaseTransitions = (spec.leaseTransitions ?? 0) + 1;
    }
    await options.client.update(leases, { ...lease, spec: next });
    return true;
  };
  log.info('attempting to acquire leader lease', { lease: `${options.namespace}/${options.name}` });
  for (;;) {
    const acquired = await tryAcquire().catch((error) => {
      if (!isStatusError(error, 409)) log.v(2).info('Failed to acquire lease', { error });
      return false;
    });
    if (acquired) break;
    await sleep(renewEvery);
  }
  log.info('successfully acquired lease', { lease: `${options.namespace}/${options.name}`, identity });
  let lastRenew = Date.now();
  const timer = setInterval(() => {
    tryAcquire().then(
      (held) => {
        if (held) lastRenew = Date.now();
        else {
          clearInterval(timer);
          log.error('leaderelection lost', { lease: `${options.namespace}/${options.name}` });
          onLost();
        }
      },
      (error) => {
        log.warning('Failed to renew lease', { error });
        if (Date.now() - lastRenew > duration) {
          clearInterval(timer);
          onLost();
        }
      },
    );
  }, renewEvery);
  return { identity, stop: () => clearInterval(timer) };
}
