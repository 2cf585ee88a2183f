import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod, PodSpec, Service, ServiceSpec } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
// ServiceCIDR and IPAddress have the same shape in v1alpha1 (the newest kubernetes-types has) as in the served version.
import type { IPAddress, ServiceCIDR } from 'kubernetes-types/networking/v1alpha1.js';
import type { KubeObject } from '../../api/objects.ts';
import { displayValue } from '../../api/own-properties.ts';
import type { StatusCause } from '../../api/status.ts';
import { parseIPv4 } from '../../net/ipv4.ts';
import { type Decoded, type PerKind, handlerFor, isOneOf } from '../per-kind.ts';
import { RBAC_KINDS, validateRbac } from './rbac.ts';

interface ValidatedKinds {
  Service: Decoded<Service>;
  Pod: Decoded<Pod>;
  Deployment: Decoded<Deployment>;
  ReplicaSet: Decoded<ReplicaSet>;
  IPAddress: Decoded<IPAddress>;
  ServiceCIDR: Decoded<ServiceCIDR>;
  EndpointSlice: Decoded<EndpointSlice>;
}

/** The checks per kind, after the name and label checks every kind gets. */
const VALIDATORS: PerKind<ValidatedKinds, (errs: Causes) => void> = {
  Service: (svc, old) => (errs) => service(errs, svc, old),
  Pod: (pod, old) => (errs) => {
    podSpec(errs, 'spec', pod.spec);
    if (old?.spec?.nodeName && pod.spec?.nodeName !== old.spec.nodeName)
      errs.invalid('spec.nodeName', pod.spec?.nodeName, 'field is immutable');
  },
  Deployment: (d, old) => (errs) => workload(errs, d, old),
  ReplicaSet: (rs, old) => (errs) => workload(errs, rs, old),
  IPAddress: (ip, old) => (errs) => {
    const name = ip.metadata?.name ?? '';
    if (parseIPv4(name) === undefined)
      errs.invalid('metadata.name', name, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
    if (!ip.spec?.parentRef) errs.required('spec.parentRef');
    else {
      if (!ip.spec.parentRef.resource) errs.required('spec.parentRef.resource');
      if (!ip.spec.parentRef.name) errs.required('spec.parentRef.name');
    }
    if (old && JSON.stringify(old.spec?.parentRef) !== JSON.stringify(ip.spec?.parentRef))
      errs.invalid('spec.parentRef', ip.spec?.parentRef, 'field is immutable');
  },
  ServiceCIDR: (cidr, old) => (errs) => {
    if (!Array.isArray(cidr.spec?.cidrs) || cidr.spec.cidrs.length === 0) errs.required('spec.cidrs');
    if (old && JSON.stringify(old.spec?.cidrs) !== JSON.stringify(cidr.spec?.cidrs))
      errs.invalid('spec.cidrs', cidr.spec?.cidrs, 'field is immutable');
  },
  EndpointSlice: (slice) => (errs) => {
    if (!isOneOf(['IPv4', 'IPv6', 'FQDN'], slice.addressType)) {
      if (slice.addressType === undefined) errs.required('addressType');
      else errs.unsupported('addressType', slice.addressType, ['FQDN', 'IPv4', 'IPv6']);
    }
  },
};

/**
 * validate checks an object of a served kind (and an update against the old object) with upstream's rules and
 * messages, returning one cause per bad field; kubectl prints them as `The Service "x" is invalid: <field>: <msg>`.
 */
export function validate(kind: string, object: KubeObject, old?: KubeObject): StatusCause[] {
  if (RBAC_KINDS.has(kind)) return validateRbac(kind, object, old);
  const errs = new Causes();
  const name = object.metadata?.name ?? '';
  if (kind === 'Service') dns1035Label(errs, 'metadata.name', name);
  else if (kind === 'Namespace') dns1123Label(errs, 'metadata.name', name);
  else if (kind !== 'Event' && kind !== 'Lease' && kind !== 'Node') dns1123Subdomain(errs, 'metadata.name', name);
  labels(errs, 'metadata.labels', object.metadata?.labels);
  handlerFor(VALIDATORS, kind)?.(object, old)(errs);
  return errs.list;
}

export class Causes {
  list: StatusCause[] = [];
  invalid(field: string, value: unknown, detail: string): void {
    this.list.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${goValue(value)}: ${detail}`, field });
  }
  required(field: string, detail = ''): void {
    this.list.push({ reason: 'FieldValueRequired', message: `Required value${detail ? `: ${detail}` : ''}`, field });
  }
  unsupported(field: string, value: unknown, supported: string[]): void {
    this.list.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${goValue(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}`,
      field,
    });
  }
  forbidden(field: string, detail: string): void {
    this.list.push({ reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field });
  }
  duplicate(field: string, value: unknown): void {
    this.list.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${goValue(value)}`, field });
  }
}

/** goValue prints a value the way upstream's field errors do (%#v-like for strings and maps). */
function goValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `map[string]string{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(', ')}}`;
  }
  return displayValue(value);
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export function dns1123Subdomain(errs: Causes, field: string, value: string): void {
  if (value.length > 253) errs.invalid(field, value, 'must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(value)) {
    errs.invalid(
      field,
      value,
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  }
}

export function dns1123Label(errs: Causes, field: string, value: string): void {
  if (value.length > 63) errs.invalid(field, value, 'must be no more than 63 characters');
  if (!DNS1123_LABEL.test(value)) {
    errs.invalid(
      field,
      value,
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
  }
}

function dns1035Label(errs: Causes, field: string, value: string): void {
  if (value.length > 63) errs.invalid(field, value, 'must be no more than 63 characters');
  if (!DNS1035_LABEL.test(value)) {
    errs.invalid(
      field,
      value,
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    );
  }
}

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function labels(errs: Causes, field: string, map: Record<string, string> | undefined): void {
  for (const [key, value] of Object.entries(map ?? {})) {
    const slash = key.lastIndexOf('/');
    const name = slash === -1 ? key : key.slice(slash + 1);
    const prefix = slash === -1 ? undefined : key.slice(0, slash);
    if (!QUALIFIED_NAME.test(name) || name.length > 63 || (prefix !== undefined && !DNS1123_SUBDOMAIN.test(prefix))) {
      errs.invalid(
        field,
        key,
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
      );
    }
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
      errs.invalid(
        field,
        value,
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
      );
    }
  }
}

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function port(errs: Causes, field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535)
    errs.invalid(field, value, 'must be between 1 and 65535, inclusive');
}

function service(errs: Causes, svc: Decoded<Service>, old: Decoded<Service> | undefined): void {
  const spec: Decoded<ServiceSpec> = svc.spec ?? {};
  const types = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
  if (!isOneOf(types, spec.type)) errs.unsupported('spec.type', spec.type, types);
  const ports = spec.ports ?? [];
  if (spec.type !== 'ExternalName' && ports.length === 0 && spec.clusterIP !== 'None') errs.required('spec.ports');
  const seen = new Set<string>();
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const f = `spec.ports[${i}]`;
    if (ports.length > 1 && !p.name) errs.required(`${f}.name`);
    if (p.name) {
      dns1123Label(errs, `${f}.name`, p.name);
      if (names.has(p.name)) errs.duplicate(`${f}.name`, p.name);
      names.add(p.name);
    }
    port(errs, `${f}.port`, p.port);
    if (!isOneOf(PROTOCOLS, p.protocol)) errs.unsupported(`${f}.protocol`, p.protocol, PROTOCOLS);
    if (typeof p.targetPort === 'number') port(errs, `${f}.targetPort`, p.targetPort);
    else if (typeof p.targetPort === 'string' && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p.targetPort))
      errs.invalid(
        `${f}.targetPort`,
        p.targetPort,
        'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      );
    if (p.nodePort !== undefined && p.nodePort !== 0) {
      if (spec.type === 'ClusterIP') errs.forbidden(`${f}.nodePort`, "may not be used when `type` is 'ClusterIP'");
      else port(errs, `${f}.nodePort`, p.nodePort);
    }
    const id = `${p.port}/${p.protocol}`;
    if (seen.has(id)) errs.duplicate(`${f}`, { port: String(p.port), protocol: String(p.protocol) });
    seen.add(id);
  });
  if (spec.clusterIP && spec.clusterIP !== 'None' && parseIPv4(spec.clusterIP) === undefined) {
    errs.invalid('spec.clusterIPs[0]', spec.clusterIP, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
  }
  if (
    old?.spec?.clusterIP &&
    spec.clusterIP !== old.spec.clusterIP &&
    old.spec.type !== 'ExternalName' &&
    spec.type !== 'ExternalName'
  ) {
    errs.invalid('spec.clusterIPs[0]', spec.clusterIP, 'may not change once set');
  }
  for (const [i, ip] of (spec.externalIPs ?? []).entries()) {
    if (typeof ip !== 'string' || parseIPv4(ip) === undefined)
      errs.invalid(`spec.externalIPs[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
  }
  if (!isOneOf(['None', 'ClientIP'], spec.sessionAffinity))
    errs.unsupported('spec.sessionAffinity', spec.sessionAffinity, ['ClientIP', 'None']);
  labels(errs, 'spec.selector', spec.selector);
}

export function podSpec(errs: Causes, field: string, spec: Decoded<PodSpec> | undefined): void {
  const containers = spec?.containers ?? [];
  if (containers.length === 0) errs.required(`${field}.containers`);
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const f = `${field}.containers[${i}]`;
    if (!c.name) errs.required(`${f}.name`);
    else {
      dns1123Label(errs, `${f}.name`, c.name);
      if (names.has(c.name)) errs.duplicate(`${f}.name`, c.name);
      names.add(c.name);
    }
    if (!c.image) errs.required(`${f}.image`);
    (c.ports ?? []).forEach((p, j) => {
      port(errs, `${f}.ports[${j}].containerPort`, p.containerPort);
      if (p.protocol && !isOneOf(PROTOCOLS, p.protocol))
        errs.unsupported(`${f}.ports[${j}].protocol`, p.protocol, PROTOCOLS);
    });
  });
  const policies = ['Always', 'Never', 'OnFailure'];
  if (spec && !isOneOf(policies, spec.restartPolicy))
    errs.unsupported(`${field}.restartPolicy`, spec.restartPolicy, policies);
}

/** workload checks a Deployment or ReplicaSet: a selector that selects the template, and never changes. */
function workload(
  errs: Causes,
  object: Decoded<Deployment | ReplicaSet>,
  old: Decoded<Deployment | ReplicaSet> | undefined,
): void {
  const spec = object.spec ?? {};
  if (typeof spec.replicas === 'number' && spec.replicas < 0)
    errs.invalid('spec.replicas', spec.replicas, 'must be greater than or equal to 0');
  const selector = spec.selector;
  if (!selector || (!Object.keys(selector.matchLabels ?? {}).length && !(selector.matchExpressions ?? []).length)) {
    errs.required('spec.selector');
  } else {
    const templateLabels = spec.template?.metadata?.labels ?? {};
    const matchLabels = selector.matchLabels ?? {};
    const ok = Object.entries(matchLabels).every(([k, v]) => templateLabels[k] === v);
    if (!ok)
      errs.invalid('spec.template.metadata.labels', templateLabels, '`selector` does not match template `labels`');
    // apps/v1 selectors never change (upstream's strategies: only extensions/v1beta1 allowed it for ReplicaSets).
    if (old && JSON.stringify(old.spec?.selector) !== JSON.stringify(selector)) {
      errs.invalid('spec.selector', selector, 'field is immutable');
    }
  }
  labels(errs, 'spec.template.metadata.labels', spec.template?.metadata?.labels);
  podSpec(errs, 'spec.template.spec', spec.template?.spec);
}
