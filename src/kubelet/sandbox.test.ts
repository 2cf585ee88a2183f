import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enterArgv, sandboxArgv, type SandboxSpec } from './sandbox.ts';
import { containerSecurity, type ContainerSecurity } from './security-context.ts';

const security = (sc: object = {}): ContainerSecurity =>
  containerSecurity(
    { metadata: { name: 'p', namespace: 'n', uid: 'u' }, spec: {} },
    { name: 'c', securityContext: sc },
  ) as ContainerSecurity;
const spec = (sec: ContainerSecurity): SandboxSpec => ({
  layer: '/l',
  upper: '/u',
  work: '/w',
  root: '/r',
  files: [{ from: '/bin/busybox', path: '/bin/busybox' }],
  mounts: [
    { source: '/pod/hosts', target: '/etc/hosts', readOnly: false },
    { source: '/cm', target: '/config', readOnly: true },
  ],
  shm: '/shm',
  sysfs: '/sys-stage',
  security: sec,
  seccompFd: 3,
});
const after = (argv: string[], flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));

test('a container gets its own root, PID namespace, masked /proc, the default capabilities and seccomp', () => {
  const argv = sandboxArgv(spec(security()), ['sleep', '1'], false);
  assert.deepEqual(argv.slice(0, 5), ['bwrap', '--unshare-pid', '--bind', '/r', '/']);
  assert.ok(argv.join(' ').includes('--ro-bind /bin/busybox /bin/busybox'), 'image');
  assert.ok(
    argv.join(' ').includes('--bind /pod/hosts /etc/hosts') && argv.join(' ').includes('--ro-bind /cm /config'),
    'mounts',
  );
  assert.ok(
    argv.join(' ').includes('--ro-bind /proc/sys /proc/sys') && argv.join(' ').includes('--ro-bind /sys-stage /sys'),
    'proc, sys',
  );
  assert.ok(!after(argv, '--remount-ro').includes('/'), 'a writable root');
  const caps = after(argv, '--cap-add');
  assert.ok(caps.includes('CAP_CHOWN') && caps.includes('CAP_NET_RAW') && !caps.includes('CAP_SYS_ADMIN'));
  assert.deepEqual(after(argv, '--seccomp'), ['3']);
  assert.ok(argv.includes('--reuid=0') && argv.some((a) => a.startsWith('--bounding-set=-all,+chown,+dac_override')));
  assert.deepEqual(argv.slice(-3), ['--', 'sleep', '1']);
});

test("readOnlyRootFilesystem remounts / read-only; runAsUser reaches setpriv; privileged keeps the host's /dev and /sys", () => {
  const ro = sandboxArgv(
    spec(
      security({ readOnlyRootFilesystem: true, runAsUser: 1000, runAsGroup: 2000, allowPrivilegeEscalation: false }),
    ),
    ['id'],
    false,
  );
  assert.deepEqual(after(ro, '--remount-ro').at(-1), '/');
  assert.ok(
    ro.includes('--reuid=1000') &&
      ro.includes('--regid=2000') &&
      ro.includes('--groups=2000') &&
      ro.includes('--no-new-privs'),
  );
  const priv = sandboxArgv(spec(security({ privileged: true })), ['id'], true);
  assert.ok(!priv.includes('--unshare-pid'), 'hostPID');
  assert.ok(priv.join(' ').includes('--dev-bind /dev /dev') && priv.join(' ').includes('--bind /sys /sys'));
  assert.deepEqual(after(priv, '--cap-add'), ['ALL']);
  assert.ok(!priv.some((a) => a.startsWith('--bounding-set')));
});

test('entering a container runs its own bwrap from /.tskube with the same privileges', () => {
  const argv = enterArgv(spec(security()), ['ps']);
  assert.deepEqual(argv.slice(0, 7), [
    '/.tskube/ld.so',
    '--library-path',
    '/.tskube',
    '/.tskube/bwrap',
    '--die-with-parent',
    '--dev-bind',
    '/',
  ]);
  assert.deepEqual(argv.slice(-2), ['--', 'ps']);
  assert.deepEqual(after(argv, '--seccomp'), ['3']);
});
