import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capabilityMask, capabilitySet, containerSecurity, DEFAULT_CAPABILITIES } from './security-context.ts';

const pod = (sc: object = {}) => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u-1' },
  spec: { securityContext: sc },
});

test("the default capability set is the runtimes' (CapEff 00000000a80425fb), with add and drop applied", () => {
  assert.equal(capabilityMask(DEFAULT_CAPABILITIES), '00000000a80425fb');
  assert.deepEqual(capabilitySet({ drop: ['ALL'], add: ['NET_BIND_SERVICE'] }), ['NET_BIND_SERVICE']);
  assert.deepEqual(capabilitySet({ drop: ['cap_net_raw', 'MKNOD'] }).includes('NET_RAW'), false);
  assert.equal(capabilitySet({ add: ['SYS_ADMIN'] }).includes('SYS_ADMIN'), true);
});

test('privileged gets every capability and no seccomp filter; RuntimeDefault is the default', () => {
  const priv = containerSecurity(pod(), { name: 'c', securityContext: { privileged: true } });
  assert.ok(!('error' in priv));
  assert.equal(priv.capabilities.length, 41);
  assert.equal(priv.seccomp.type, 'Unconfined');
  const plain = containerSecurity(pod(), { name: 'c' });
  assert.ok(
    !('error' in plain) && plain.seccomp.type === 'RuntimeDefault' && plain.uid === 0 && !plain.readOnlyRootFilesystem,
  );
});

test("container fields win over the pod's; groups gather supplementalGroups and fsGroup", () => {
  const s = containerSecurity(pod({ runAsUser: 1000, runAsGroup: 2000, supplementalGroups: [5], fsGroup: 7 }), {
    name: 'c',
    securityContext: { runAsUser: 1001, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
  });
  assert.ok(!('error' in s));
  assert.deepEqual(
    [s.uid, s.gid, s.groups, s.readOnlyRootFilesystem, s.noNewPrivileges],
    [1001, 2000, [5, 7], true, true],
  );
});

test("runAsNonRoot with a root user fails with upstream's messages", () => {
  assert.deepEqual(containerSecurity(pod({ runAsNonRoot: true }), { name: 'c' }), {
    error: 'container has runAsNonRoot and image will run as root (pod: "p_ns(u-1)", container: c)',
  });
  assert.deepEqual(containerSecurity(pod({ runAsNonRoot: true }), { name: 'c', securityContext: { runAsUser: 0 } }), {
    error: 'container\'s runAsUser breaks non-root policy (pod: "p_ns(u-1)", container: c)',
  });
  assert.ok(!('error' in containerSecurity(pod({ runAsNonRoot: true }), { name: 'c' }, { uid: 101, gid: 101 })));
  assert.ok(
    'error' in
      containerSecurity(pod(), {
        name: 'c',
        securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: '../x.json' } },
      }),
  );
});
