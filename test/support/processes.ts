import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** TSKUBE is the project's binary (runs on the project's own Node). */
export const TSKUBE = fileURLToPath(new URL('../../bin/tskube', import.meta.url));
/** NODE is the project's own Node, for tests that start TypeScript files directly. */
export const NODE = fileURLToPath(new URL('../../node_modules/node/bin/node', import.meta.url));

/** freePort asks the kernel for an unused loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** StartedProcess is a child started by a test; stop() kills it by PID and waits for it. */
export interface StartedProcess {
  child: ChildProcess;
  pid: number;
  /** stop sends SIGTERM (or the given signal), then SIGKILL after 5 s, and resolves when the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** output is everything written to stdout and stderr so far (also written to logFile when given). */
  output(): string;
}

/** startProcess spawns argv with its output captured; it never goes through a shell. */
export function startProcess(
  argv: string[],
  options: { env?: Record<string, string>; logFile?: string } = {},
): StartedProcess {
  const child = spawn(argv[0]!, argv.slice(1), {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  const collect = (b: Buffer) => {
    text += b.toString();
    if (text.length > 2_000_000) text = text.slice(-1_000_000);
    log?.write(b);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    pid: child.pid!,
    output: () => text,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      log?.end();
    },
  };
}
