/**
 * unknownFields lists the fields of an object that its kind does not have (paths like `spec.foo`), for
 * fieldValidation=Strict. The schema is a field tree: `true` accepts anything below a field.
 */
type Schema = { [field: string]: Schema | true };

const ANY = true as const;
const OBJECT_META: Schema = Object.fromEntries(['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields'].map((f) => [f, ANY]));
const TOP = (spec: Schema | true, extra: Schema = {}): Schema => ({ apiVersion: ANY, kind: ANY, metadata: OBJECT_META, spec, status: ANY, ...extra });

const PROBE = ANY;
const CONTAINER: Schema = Object.fromEntries(['name', 'image', 'command', 'args', 'workingDir', 'env', 'envFrom', 'resources', 'resizePolicy', 'restartPolicy', 'volumeMounts', 'volumeDevices', 'lifecycle', 'terminationMessagePath', 'terminationMessagePolicy', 'imagePullPolicy', 'securityContext', 'stdin', 'stdinOnce', 'tty'].map((f) => [f, ANY]));
CONTAINER.ports = { name: ANY, hostPort: ANY, containerPort: ANY, protocol: ANY, hostIP: ANY };
CONTAINER.livenessProbe = PROBE;
CONTAINER.readinessProbe = PROBE;
CONTAINER.startupProbe = PROBE;

const POD_SPEC: Schema = Object.fromEntries(['volumes', 'restartPolicy', 'terminationGracePeriodSeconds', 'activeDeadlineSeconds', 'dnsPolicy', 'nodeSelector', 'serviceAccountName', 'serviceAccount', 'automountServiceAccountToken', 'nodeName', 'hostNetwork', 'hostPID', 'hostIPC', 'shareProcessNamespace', 'securityContext', 'imagePullSecrets', 'hostname', 'subdomain', 'affinity', 'schedulerName', 'tolerations', 'hostAliases', 'priorityClassName', 'priority', 'dnsConfig', 'readinessGates', 'runtimeClassName', 'enableServiceLinks', 'preemptionPolicy', 'overhead', 'topologySpreadConstraints', 'setHostnameAsFQDN', 'os', 'hostUsers', 'schedulingGates', 'resourceClaims', 'ephemeralContainers'].map((f) => [f, ANY]));
POD_SPEC.containers = CONTAINER;
POD_SPEC.initContainers = CONTAINER;

const TEMPLATE: Schema = { metadata: OBJECT_META, spec: POD_SPEC };

const SCHEMAS: Record<string, Schema> = {
  Pod: TOP(POD_SPEC),
  Service: TOP({
    ports: { name: ANY, protocol: ANY, appProtocol: ANY, port: ANY, targetPort: ANY, nodePort: ANY },
    ...Object.fromEntries(['selector', 'clusterIP', 'clusterIPs', 'type', 'externalIPs', 'sessionAffinity', 'loadBalancerIP', 'loadBalancerSourceRanges', 'externalName', 'externalTrafficPolicy', 'healthCheckNodePort', 'publishNotReadyAddresses', 'sessionAffinityConfig', 'ipFamilies', 'ipFamilyPolicy', 'allocateLoadBalancerNodePorts', 'loadBalancerClass', 'internalTrafficPolicy', 'trafficDistribution'].map((f) => [f, ANY])),
  }),
  Deployment: TOP({ replicas: ANY, selector: ANY, template: TEMPLATE, strategy: ANY, minReadySeconds: ANY, revisionHistoryLimit: ANY, paused: ANY, progressDeadlineSeconds: ANY }),
  ReplicaSet: TOP({ replicas: ANY, minReadySeconds: ANY, selector: ANY, template: TEMPLATE }),
  Namespace: TOP(ANY),
  Node: TOP(ANY),
  Endpoints: { apiVersion: ANY, kind: ANY, metadata: OBJECT_META, subsets: ANY },
  EndpointSlice: { apiVersion: ANY, kind: ANY, metadata: OBJECT_META, addressType: ANY, endpoints: ANY, ports: ANY },
  ConfigMap: { apiVersion: ANY, kind: ANY, metadata: OBJECT_META, immutable: ANY, data: ANY, binaryData: ANY },
  Lease: TOP(ANY),
  Event: Object.fromEntries(['apiVersion', 'kind', 'involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime', 'series', 'action', 'related', 'reportingComponent', 'reportingInstance'].map((f) => [f, ANY as Schema | true]).concat([['metadata', OBJECT_META]])),
};

export function unknownFields(kind: string, object: unknown): string[] {
  const schema = SCHEMAS[kind];
  if (!schema) return [];
  const out: string[] = [];
  walk(schema, object, '', out);
  return out;
}

function walk(schema: Schema, value: unknown, path: string, out: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(schema, item, path, out);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const field = path ? `${path}.${key}` : key;
    const sub = schema[key];
    if (sub === undefined) out.push(field);
    else if (sub !== true) walk(sub, child, field, out);
  }
}
