import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { HostCommandError, run } from './run.ts';

/**
 * Persistent UTS namespaces: a node of `tskube up` is its own host, so it gets its own hostname, kept in a namespace
 * bind-mounted on a file (as `ip netns` keeps network namespaces) and entered with `nsenter --uts=FILE`.
 */

/** createUtsNamespace makes a UTS namespace with the given hostname, pinned on `file` (idempotent). */
export async function createUtsNamespace(file: string, hostname: string): Promise<void> {
  if (await isPinned(file)) await removeUtsNamespace(file);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, '');
  await run(['unshare', `--uts=${file}`, 'hostname', hostname]);
}

/** removeUtsNamespace unpins the namespace and removes its file (idempotent). */
export async function removeUtsNamespace(file: string): Promise<void> {
  if (!existsSync(file)) return;
  if (await isPinned(file)) await run(['umount', file]);
  rmSync(file, { force: true });
}

async function isPinned(file: string): Promise<boolean> {
  if (!existsSync(file)) return false;
  try {
    await run(['mountpoint', '-q', file]);
    return true;
  } catch (error) {
    if (error instanceof HostCommandError && error.exitCode !== null) return false;
    throw error;
  }
}
