import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { sharedLibraries } from '../sys/ldd.ts';
import { ALL_CAPABILITIES, type ContainerSecurity } from './security-context.ts';

/**
 * A container's own root filesystem and privileges, built by bubblewrap (`bwrap`, Debian's bubblewrap): a private
 * mount namespace whose root is an overlay of the container's writable layer (made anew at each start) on the
 * image's layer (see ensureLayer), with the image's programs bound read-only, a fresh /dev, /proc (with upstream's masked and read-only paths), a
 * read-only /sys, the pod's files and volumes; never the host's /, /root or /run/netns. bwrap drops to the
 * container's capabilities, loads its seccomp filter and sets no_new_privs; then util-linux `setpriv` (shown at
 * /.tskube with its libraries) sets the user, groups and the bounding set, and execs the container's program.
 */
export interface ImageFile {
  /** Where the file or directory is on the host. */
  from: string;
  /** Where the container sees it. */
  path: string;
}

export interface SandboxMount {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface SandboxSpec {
  /** The image's layer: a shared read-only directory (links, placeholders, /etc/passwd), see ensureLayer. */
  layer: string;
  /** The container's writable layer (upper and work directories of the overlay) and where the overlay is mounted. */
  upper: string;
  work: string;
  root: string;
  /** The image: host files or directories shown read-only, with the libraries the programs among them load. */
  files: ImageFile[];
  /** The pod's /etc/hosts, /etc/resolv.conf, /etc/hostname, ServiceAccount files and volumes. */
  mounts: SandboxMount[];
  /** The pod's /dev/shm (a host directory all its containers share). */
  shm: string;
  /** A sysfs of the container's network namespace that the launcher mounts here (read-only in the container). */
  sysfs: string;
  security: ContainerSecurity;
  workingDir?: string;
  /** The file descriptor the BPF filter arrives on, when a seccomp profile applies. */
  seccompFd?: number;
}

const HELPER_DIR = '/.tskube';
const CAP_INDEX = new Map(ALL_CAPABILITIES.map((c, i) => [c, i]));
const HELPERS = ['/usr/bin/setpriv', '/usr/bin/bwrap'];

/** Upstream's masked paths (hidden behind /dev/null) and read-only paths under /proc. */
const MASKED = [
  '/proc/kcore',
  '/proc/keys',
  '/proc/timer_list',
  '/proc/latency_stats',
  '/proc/sched_debug',
  '/proc/timer_stats',
];
const MASKED_DIRS = ['/proc/acpi', '/proc/scsi'];
const READ_ONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** hostCapabilities is what this host lets a process hold (its bounding set), e.g. no SYS_RESOURCE in some sandboxes. */
let bounding: bigint | undefined;
export function hostCapabilityMask(): bigint {
  bounding ??= BigInt(`0x${/CapBnd:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`);
  return bounding;
}

/**
 * ensureLayer builds (once per content, under dir) the image's lower layer: the usual directories, /tmp, a minimal
 * /etc/passwd and /etc/group unless the image has its own, its symbolic links, and empty files where the image's
 * files and the pod's files are bound, so starting a container creates nearly nothing on disk.
 */
export function ensureLayer(dir: string, files: readonly ImageFile[], links: Record<string, string>): string {
  const all = [
    ...imageFiles(files),
    ...helperFiles(),
    ...['/etc/hosts', '/etc/resolv.conf', '/etc/hostname'].map((p) => ({ from: p, path: p })),
  ];
  const key = createHash('sha256')
    .update(JSON.stringify([all.map((f) => [f.path, isDirectory(f.from)]), links]))
    .digest('hex')
    .slice(0, 16);
  const layer = join(dir, key);
  if (existsSync(layer)) return layer;
  const tmp = `${layer}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true, mode: 0o755 });
  for (const d of ['tmp', 'var/tmp']) {
    mkdirSync(join(tmp, d), { recursive: true });
    chmodSync(join(tmp, d), 0o1777);
  }
  for (const d of ['etc', 'run', 'root', 'dev', 'proc', 'sys']) mkdirSync(join(tmp, d), { recursive: true });
  const given = new Set(files.map((f) => f.path));
  if (!given.has('/etc/passwd'))
    writeFileSync(
      join(tmp, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nwww-data:x:33:33:www-data:/var/www:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
    );
  if (!given.has('/etc/group'))
    writeFileSync(join(tmp, 'etc/group'), 'root:x:0:\ndaemon:x:1:\nwww-data:x:33:\nnogroup:x:65534:\n');
  for (const f of all) {
    const at = join(tmp, f.path);
    if (existsSync(at)) continue;
    if (isDirectory(f.from)) mkdirSync(at, { recursive: true });
    else {
      mkdirSync(dirname(at), { recursive: true });
      writeFileSync(at, '');
    }
  }
  for (const [path, target] of Object.entries(links)) {
    const at = join(tmp, path);
    if (given.has(path) || existsSync(at)) continue;
    mkdirSync(dirname(at), { recursive: true });
    symlinkSync(target, at);
  }
  try {
    renameSync(tmp, layer);
  } catch (error) {
    // Another kubelet on this machine built it at the same time.
    if (!existsSync(layer)) throw error;
    rmSync(tmp, { recursive: true, force: true });
  }
  return layer;
}

/** prepareWritable empties the container's writable layer: each start begins from the image, as upstream. */
export function prepareWritable(spec: SandboxSpec): void {
  for (const d of [spec.upper, spec.work]) rmSync(d, { recursive: true, force: true });
  for (const d of [spec.upper, spec.work, spec.root, spec.sysfs]) mkdirSync(d, { recursive: true });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * helperFiles are setpriv and bwrap with what they load, shown under /.tskube: each runs through the loader from
 * there, so they work in any image (commands entering a container run bwrap from inside its root).
 */
function helperFiles(): ImageFile[] {
  const out = new Map<string, ImageFile>();
  for (const h of HELPERS) {
    out.set(h, { from: h, path: `${HELPER_DIR}/${basename(h)}` });
    for (const lib of sharedLibraries(h))
      out.set(lib, {
        from: lib,
        path: `${HELPER_DIR}/${basename(lib).startsWith('ld-linux') ? 'ld.so' : basename(lib)}`,
      });
  }
  return [...out.values()];
}

const helper = (name: string) => [`${HELPER_DIR}/ld.so`, '--library-path', HELPER_DIR, `${HELPER_DIR}/${name}`];

/** imageFiles adds to the image's files the libraries its programs load, each at its host path. */
export function imageFiles(files: readonly ImageFile[]): ImageFile[] {
  const out = new Map<string, ImageFile>();
  for (const f of files) {
    out.set(f.path, f);
    for (const lib of sharedLibraries(f.from)) if (!out.has(lib)) out.set(lib, { from: lib, path: lib });
  }
  return [...out.values()];
}

/**
 * sandboxArgv is the bwrap command line that starts the container: its root, and (unless hostPID) a PID namespace
 * of its own whose init is bwrap's, inside the root (so no process the container sees has the host's root).
 */
export function sandboxArgv(spec: SandboxSpec, command: readonly string[], hostPID: boolean): string[] {
  const sec = spec.security;
  const a: string[] = ['bwrap', ...(hostPID ? [] : ['--unshare-pid']), '--bind', spec.root, '/'];
  for (const f of imageFiles(spec.files)) a.push('--ro-bind', f.from, f.path);
  if (sec.privileged) a.push('--dev-bind', '/dev', '/dev');
  else a.push('--dev', '/dev');
  a.push('--bind', spec.shm, '/dev/shm', '--proc', '/proc');
  if (sec.privileged) {
    a.push('--bind', '/sys', '/sys');
  } else {
    for (const p of MASKED) if (existsSync(p)) a.push('--ro-bind', '/dev/null', p);
    for (const p of MASKED_DIRS) if (existsSync(p)) a.push('--tmpfs', p, '--remount-ro', p);
    for (const p of READ_ONLY) if (existsSync(p)) a.push('--ro-bind', p, p);
    a.push('--ro-bind', spec.sysfs, '/sys');
  }
  for (const m of spec.mounts) a.push(m.readOnly ? '--ro-bind' : '--bind', m.source, m.target);
  for (const f of helperFiles()) a.push('--ro-bind', f.from, f.path);
  if (sec.readOnlyRootFilesystem) a.push('--remount-ro', '/');
  return [...a, ...privileges(spec), ...command];
}

/**
 * enterArgv runs a command in a running container: after nsenter has joined the container's namespaces (its mount
 * namespace, so the container's root), the container's own /.tskube/bwrap makes a mount namespace with the same
 * view and applies the same privileges. Nothing outside the container's root is reachable on the way.
 */
export function enterArgv(spec: SandboxSpec, command: readonly string[]): string[] {
  return [...helper('bwrap'), '--die-with-parent', '--dev-bind', '/', '/', ...privileges(spec), ...command];
}

/** privileges are bwrap's last options and setpriv's, which leave the container's user, groups and capabilities. */
function privileges(spec: SandboxSpec): string[] {
  const sec = spec.security;
  const a = ['--chdir', spec.workingDir || '/'];
  // bwrap keeps what setpriv needs to switch user and bounding set; setpriv leaves only the container's set.
  const available = hostCapabilityMask();
  const allowed = (c: string) => ((available >> BigInt(CAP_INDEX.get(c) ?? 63)) & 1n) === 1n;
  a.push('--cap-drop', 'ALL');
  if (sec.privileged) a.push('--cap-add', 'ALL');
  else
    for (const c of new Set([...sec.capabilities, 'SETUID', 'SETGID', 'SETPCAP']))
      if (allowed(c)) a.push('--cap-add', `CAP_${c}`);
  if (spec.seccompFd !== undefined) a.push('--seccomp', String(spec.seccompFd));
  const groups = [sec.gid, ...sec.groups].filter((g, i, all) => all.indexOf(g) === i);
  a.push(
    '--',
    ...helper('setpriv'),
    `--reuid=${sec.uid}`,
    `--regid=${sec.gid}`,
    `--groups=${groups.join(',')}`,
    '--inh-caps=-all',
  );
  if (!sec.privileged)
    a.push(
      `--bounding-set=${['-all', ...sec.capabilities.filter(allowed).map((c) => `+${c.toLowerCase()}`)].join(',')}`,
    );
  if (sec.noNewPrivileges) a.push('--no-new-privs');
  a.push('--');
  return a;
}
