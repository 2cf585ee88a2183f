import type { Container, PodSecurityContext, SecurityContext } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
/**
 * The effective security settings of a container, from its pod's and its own securityContext (the container's
 * fields win), the way the kubelet hands them to a runtime: the capability set (the runtimes' default set, plus
 * `add`, minus `drop`; everything when privileged), the user and groups, the seccomp profile, the read-only root.
 */
export const DEFAULT_CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'NET_RAW',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
];

/** Every capability Linux knows, by number (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40). */
export const ALL_CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
];

export type SeccompChoice =
  | { type: 'RuntimeDefault' }
  | { type: 'Unconfined' }
  | { type: 'Localhost'; profile: string };

export interface ContainerSecurity {
  privileged: boolean;
  /** Capability names without the CAP_ prefix, in ALL_CAPABILITIES order. */
  capabilities: string[];
  uid: number;
  gid: number;
  /** Supplementary groups (supplementalGroups, then fsGroup). */
  groups: number[];
  readOnlyRootFilesystem: boolean;
  /** allowPrivilegeEscalation: false (the runtime sets no_new_privs in every case; see process-runtime). */
  noNewPrivileges: boolean;
  seccomp: SeccompChoice;
}

/** An image's user, as its config would say (numeric uid/gid; root when unset). */
export interface ImageUser {
  uid: number;
  gid: number;
}

/**
 * containerSecurity resolves the settings, or returns the message of a CreateContainerConfigError (what upstream's
 * kubelet reports when the container must not start, e.g. runAsNonRoot with a root user).
 */
export function containerSecurity(
  pod: { metadata?: ObjectMeta; spec?: { securityContext?: PodSecurityContext } },
  container: Pick<Container, 'name' | 'securityContext'>,
  image: ImageUser = { uid: 0, gid: 0 },
): ContainerSecurity | { error: string } {
  const psc: PodSecurityContext = pod.spec?.securityContext ?? {};
  const csc: SecurityContext = container.securityContext ?? {};
  /** pick is a setting of the container's securityContext, else the pod's. */
  const pick = <K extends 'runAsUser' | 'runAsGroup' | 'runAsNonRoot'>(name: K) => csc[name] ?? psc[name];
  const privileged = csc.privileged === true;
  const runAsUser = pick('runAsUser');
  const uid = runAsUser ?? image.uid;
  if (pick('runAsNonRoot') === true && uid === 0) {
    const m = pod.metadata;
    const who = `pod: "${m?.name}_${m?.namespace}(${m?.uid})", container: ${container.name}`;
    return {
      error:
        runAsUser === 0
          ? `container's runAsUser breaks non-root policy (${who})`
          : `container has runAsNonRoot and image will run as root (${who})`,
    };
  }
  const gid = pick('runAsGroup') ?? (runAsUser !== undefined && runAsUser !== image.uid ? 0 : image.gid);
  const groups = [...(psc.supplementalGroups ?? []), ...(psc.fsGroup !== undefined ? [psc.fsGroup] : [])].filter(
    (g, i, all) => all.indexOf(g) === i,
  );
  const capabilities = privileged ? [...ALL_CAPABILITIES] : capabilitySet(csc.capabilities);
  const profile = csc.seccompProfile ?? psc.seccompProfile;
  let seccomp: SeccompChoice = { type: 'RuntimeDefault' };
  if (privileged || profile?.type === 'Unconfined') seccomp = { type: 'Unconfined' };
  else if (profile?.type === 'Localhost') {
    if (
      typeof profile.localhostProfile !== 'string' ||
      profile.localhostProfile === '' ||
      profile.localhostProfile.split('/').includes('..')
    )
      return {
        error: `invalid localhostProfile "${profile.localhostProfile ?? ''}": a relative path without ".." is required`,
      };
    seccomp = { type: 'Localhost', profile: profile.localhostProfile };
  }
  return {
    privileged,
    capabilities,
    uid,
    gid,
    groups,
    readOnlyRootFilesystem: csc.readOnlyRootFilesystem === true,
    noNewPrivileges: !privileged && csc.allowPrivilegeEscalation === false,
    seccomp,
  };
}

/** capabilitySet applies `add` and `drop` (names with or without CAP_, any case; "ALL" as upstream) to the defaults. */
export function capabilitySet(spec: { add?: string[]; drop?: string[] } | undefined): string[] {
  const norm = (c: string) => c.toUpperCase().replace(/^CAP_/, '');
  const drop = new Set((spec?.drop ?? []).map(norm));
  const add = new Set((spec?.add ?? []).map(norm));
  const held = new Set(drop.has('ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drop.has(c)));
  for (const c of add) {
    if (c === 'ALL') for (const x of ALL_CAPABILITIES) held.add(x);
    else if (ALL_CAPABILITIES.includes(c)) held.add(c);
  }
  return ALL_CAPABILITIES.filter((c) => held.has(c));
}

/** capabilityMask is the hexadecimal mask /proc/<pid>/status shows for a set (CapEff and friends). */
export function capabilityMask(caps: readonly string[]): string {
  let mask = 0n;
  for (const c of caps) mask |= 1n << BigInt(ALL_CAPABILITIES.indexOf(c));
  return mask.toString(16).padStart(16, '0');
}
