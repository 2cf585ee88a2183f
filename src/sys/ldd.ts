import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';

/**
 * Facts about the host programs the process runtime shows in containers. sharedLibraries lists the files a
 * dynamically linked program loads at start (its libraries and the ELF loader, as `ldd` resolves them on this host);
 * empty for static programs, scripts and directories. Cached per path.
 */
const cache = new Map<string, string[]>();

export function sharedLibraries(path: string): string[] {
  const known = cache.get(path);
  if (known) return known;
  let libs: string[] = [];
  if (isElf(path)) {
    let out = '';
    try {
      out = execFileSync('ldd', [path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
    } catch {
      out = ''; // "not a dynamic executable": static
    }
    libs = [...out.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/g)].map((m) => m[1]!);
  }
  cache.set(path, libs);
  return libs;
}

function isElf(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    const fd = openSync(path, 'r');
    try {
      const magic = Buffer.alloc(4);
      readSync(fd, magic, 0, 4, 0);
      return magic.toString('latin1') === '\x7fELF';
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** busyboxApplets lists the applets of the host's busybox (empty when it cannot be run). */
export function busyboxApplets(): string[] {
  try {
    return execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8', timeout: 10_000 })
      .trim()
      .split('\n')
      .filter(Boolean);
  } catch {
    return [];
  }
}
