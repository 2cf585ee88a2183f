import { closeSync, openSync, renameSync } from 'node:fs';
import koffi from 'koffi';

/**
 * Seccomp filters compiled by libseccomp (the library runc and crun use), called through koffi: a profile (allowed
 * syscalls, argument conditions, a default errno) becomes the classic BPF program that `bwrap --seccomp FD` loads.
 * Profiles use the OCI/Docker vocabulary, so a Localhost profile in that JSON format compiles the same way.
 */
export interface SeccompArg {
  index: number;
  op: 'ne' | 'lt' | 'le' | 'eq' | 'ge' | 'gt' | 'masked-eq';
  value: number;
  valueTwo?: number;
}

export interface SeccompRule {
  names: string[];
  /** Fail with this errno instead of allowing. */
  errno?: number;
  args?: SeccompArg[];
}

export interface SeccompProfile {
  /** What every syscall no rule allows returns (EPERM = 1). */
  defaultErrno: number;
  rules: SeccompRule[];
}

const ACT_ALLOW = 0x7fff0000;
const ACT_ERRNO = (errno: number) => (0x00050000 | (errno & 0xffff)) >>> 0;
const OPS = { ne: 1, lt: 2, le: 3, eq: 4, ge: 5, gt: 6, 'masked-eq': 7 } as const;
const ARCH_X86_64 = 0xc000003e;
const ARCH_X86 = 0x40000003;
const ARCH_X32 = 0x4000003e;
const NR_ERROR = -1;

let lib: ReturnType<typeof bind> | undefined;

function bind() {
  const so = koffi.load('libseccomp.so.2');
  return {
    init: so.func('void *seccomp_init(uint32_t def_action)'),
    release: so.func('void seccomp_release(void *ctx)'),
    archNative: so.func('uint32_t seccomp_arch_native()'),
    archAdd: so.func('int seccomp_arch_add(void *ctx, uint32_t arch_token)'),
    resolve: so.func('int seccomp_syscall_resolve_name(const char *name)'),
    ruleAdd: so.func(
      'int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, void *arg_array)',
    ),
    exportBpf: so.func('int seccomp_export_bpf(void *ctx, int fd)'),
  };
}

/** compileSeccomp writes the BPF program of a profile to file (atomically, so readers never see half of it). */
export function compileSeccomp(profile: SeccompProfile, file: string): void {
  lib ??= bind();
  const ctx = lib.init(ACT_ERRNO(profile.defaultErrno));
  if (!ctx) throw new Error('seccomp_init failed');
  try {
    // Like container runtimes, also filter the 32-bit ABIs of x86-64, so they cannot bypass the rules.
    if (lib.archNative() === ARCH_X86_64) for (const arch of [ARCH_X86, ARCH_X32]) lib.archAdd(ctx, arch);
    for (const rule of profile.rules) {
      const action = rule.errno === undefined ? ACT_ALLOW : ACT_ERRNO(rule.errno);
      const args = rule.args ?? [];
      const cmp = Buffer.alloc(24 * Math.max(1, args.length));
      args.forEach((a, i) => {
        cmp.writeUInt32LE(a.index, i * 24);
        cmp.writeUInt32LE(OPS[a.op], i * 24 + 4);
        cmp.writeBigUInt64LE(BigInt(a.value), i * 24 + 8);
        cmp.writeBigUInt64LE(BigInt(a.valueTwo ?? 0), i * 24 + 16);
      });
      for (const name of rule.names) {
        const nr = lib.resolve(name);
        // Names this libseccomp does not know (newer syscalls) cannot be called through it either: skip them.
        if (nr === NR_ERROR) continue;
        const rc = lib.ruleAdd(ctx, action, nr, args.length, cmp);
        // -EACCES: the rule's action is the default one anyway; -EEXIST: already there.
        if (rc < 0 && rc !== -13 && rc !== -17) throw new Error(`seccomp rule for ${name} failed: errno ${-rc}`);
      }
    }
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      const rc = lib.exportBpf(ctx, fd);
      if (rc < 0) throw new Error(`seccomp_export_bpf failed: errno ${-rc}`);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } finally {
    lib.release(ctx);
  }
}

/** parseSeccompJson reads an OCI/Docker seccomp profile (a Localhost profile) into the compiler's shape. */
export function parseSeccompJson(text: string): SeccompProfile {
  const doc = JSON.parse(text) as {
    defaultAction?: string;
    defaultErrnoRet?: number;
    syscalls?: {
      names?: string[];
      name?: string;
      action: string;
      errnoRet?: number;
      args?: { index: number; op: string; value: number; valueTwo?: number }[];
    }[];
  };
  const errnoOf = (action: string | undefined, ret: number | undefined) =>
    action === 'SCMP_ACT_ALLOW' ? undefined : action === 'SCMP_ACT_ERRNO' ? (ret ?? 1) : 1;
  if (doc.defaultAction === 'SCMP_ACT_ALLOW') throw new Error('profiles that allow by default are not supported');
  return {
    defaultErrno: errnoOf(doc.defaultAction, doc.defaultErrnoRet) ?? 1,
    rules: (doc.syscalls ?? []).map((s) => ({
      names: s.names ?? (s.name ? [s.name] : []),
      errno: errnoOf(s.action, s.errnoRet),
      args: s.args?.map((a) => ({
        index: a.index,
        op: a.op
          .replace(/^SCMP_CMP_/, '')
          .toLowerCase()
          .replace('_', '-') as SeccompArg['op'],
        value: a.value,
        valueTwo: a.valueTwo,
      })),
    })),
  };
}
