import { Informer, type ResourceTypes, type RestClient } from '../client/client.ts';
import type { Logger } from '../log/klog.ts';
import { DeploymentController } from './deployment.ts';
import { EndpointsController } from './endpoints-controller.ts';
import { EndpointSliceMirroringController } from './endpointslice-mirroring.ts';
import { EventRecorder } from '../client/event-recorder.ts';
import { CronJobController } from './cronjob-controller.ts';
import { DaemonSetController } from './daemonset-controller.ts';
import { GarbageCollector } from './garbage-collector.ts';
import { JobController } from './job-controller.ts';
import { TtlAfterFinishedController } from './ttl-after-finished.ts';
import { NodeIpamController } from './node-ipam.ts';
import { NodeLifecycleController } from './node-lifecycle.ts';
import { NamespaceController } from './namespace-controller.ts';
import { REPLICATION_CONTROLLER, ReplicaSetController } from './replicaset.ts';
import { ResourceQuotaController } from './resourcequota-controller.ts';
import { ServiceAccountsController } from './serviceaccounts-controller.ts';
import { RootCaPublisher } from './root-ca-publisher.ts';
import type { ControllerContext } from './context.ts';

export interface ControllerManagerOptions {
  client: RestClient;
  logger: Logger;
  /** Node IPAM: set with --allocate-node-cidrs. */
  allocateNodeCidrs?: { clusterCidr: string; nodeCidrMaskSize: number };
  nodeMonitorGracePeriodMs: number;
  /** --root-ca-file's PEM: the root-ca-cert-publisher puts it in every namespace's kube-root-ca.crt ConfigMap. */
  rootCa?: string;
}

/**
 * startControllers runs the controllers of kube-controller-manager that the lab needs, on shared informers: they
 * start acting only once every cache has its first list, so a restart never duplicates pods.
 */
export async function startControllers(options: ControllerManagerOptions): Promise<{ stop(): Promise<void> }> {
  const { client, logger } = options;
  const informer = <R extends keyof ResourceTypes>(resource: R, extra: { namespace?: string } = {}) =>
    new Informer(client, client.typed(resource), {}, { logger, ...extra });
  let markSynced: () => void = () => undefined;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  const ctx: ControllerContext = {
    client,
    logger,
    synced,
    events: new EventRecorder(client, 'deployment-controller', logger),
    informers: {
      pods: informer('pods'),
      replicasets: informer('replicasets'),
      deployments: informer('deployments'),
      services: informer('services'),
      endpointslices: informer('endpointslices'),
      endpoints: informer('endpoints'),
      nodes: informer('nodes'),
      leases: informer('leases', { namespace: 'kube-node-lease' }),
      namespaces: informer('namespaces'),
      serviceaccounts: informer('serviceaccounts'),
      replicationcontrollers: informer('replicationcontrollers'),
      jobs: informer('jobs'),
      cronjobs: informer('cronjobs'),
      daemonsets: informer('daemonsets'),
      controllerrevisions: informer('controllerrevisions'),
      resourcequotas: informer('resourcequotas'),
    },
  };
  const rsEvents = { ...ctx, events: new EventRecorder(client, 'replicaset-controller', logger) };
  new DeploymentController(ctx);
  new ReplicaSetController(rsEvents);
  new ReplicaSetController(
    { ...ctx, events: new EventRecorder(client, 'replication-controller', logger) },
    REPLICATION_CONTROLLER,
  );
  new EndpointsController(ctx);
  new EndpointSliceMirroringController({
    ...ctx,
    events: new EventRecorder(client, 'endpointslicemirroring-controller', logger),
  });
  new GarbageCollector(ctx);
  new NamespaceController({ ...ctx, events: new EventRecorder(client, 'namespace-controller', logger) });
  new ServiceAccountsController(ctx);
  new ResourceQuotaController(ctx);
  new JobController({ ...ctx, events: new EventRecorder(client, 'job-controller', logger) });
  new TtlAfterFinishedController(ctx);
  new CronJobController({ ...ctx, events: new EventRecorder(client, 'cronjob-controller', logger) });
  new DaemonSetController({ ...ctx, events: new EventRecorder(client, 'daemonset-controller', logger) });
  if (options.allocateNodeCidrs)
    new NodeIpamController(
      { ...ctx, events: new EventRecorder(client, 'cidrAllocator', logger) },
      options.allocateNodeCidrs,
    );
  const lifecycle = new NodeLifecycleController(
    { ...ctx, events: new EventRecorder(client, 'node-controller', logger) },
    { gracePeriodMs: options.nodeMonitorGracePeriodMs },
  );
  const publisher = options.rootCa
    ? new RootCaPublisher(
        { ...ctx, events: new EventRecorder(client, 'root-ca-cert-publisher', logger) },
        options.rootCa,
      )
    : undefined;
  // Handlers are registered: now fill the caches, and only then let events flow to the controllers.
  const all = [...Object.values(ctx.informers), ...(publisher ? [publisher.informer] : [])];
  for (const i of all) i.start();
  await Promise.all(all.map((i) => i.waitForSync()));
  markSynced();
  logger.info('Caches are synced', {
    controllers:
      'deployment,replicaset,endpoint,endpointslice,endpointslicemirroring,garbagecollector,namespace,serviceaccount,resourcequota,replicationcontroller,job,ttlafterfinished,cronjob,daemonset,nodeipam,nodelifecycle',
  });
  lifecycle.start();
  return {
    async stop() {
      lifecycle.stop();
      await Promise.all(all.map((i) => i.stop()));
    },
  };
}
