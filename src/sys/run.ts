import { type ChildProcess, type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * HostCommandError is thrown for every host command that fails: it carries the argv, the exit status or signal and
 * the trimmed stderr. Its message reads `iptables-restore exited with status 2: <first stderr line>`.
 */
export class HostCommandError extends Error {
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly stdout: string;
  constructor(
    argv: readonly string[],
    result: { exitCode: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string },
    cause?: unknown,
  ) {
    const name = argv[0]?.split('/').pop() ?? '?';
    const firstLine = result.stderr.trim().split('\n')[0] ?? '';
    const how = result.signal !== null ? `was killed by ${result.signal}` : `exited with status ${result.exitCode}`;
    super(`${name} ${how}${firstLine ? `: ${firstLine}` : ''}`, cause === undefined ? undefined : { cause });
    this.name = 'HostCommandError';
    this.argv = argv;
    this.exitCode = result.exitCode;
    this.signal = result.signal;
    this.stderr = result.stderr.trim();
    this.stdout = result.stdout;
  }
}

export interface RunOptions {
  /** Text fed to stdin (bulk input such as an iptables-restore ruleset). */
  input?: string;
  /** Kill the command after this many milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Extra environment; LC_ALL=C is always set so error texts can be matched. */
  env?: Record<string, string>;
  signal?: AbortSignal;
  /** Use env as the whole environment (nothing inherited, no LC_ALL): commands run inside containers. */
  exactEnv?: boolean;
  /** Descriptors the command gets as fds 3, 4, ... */
  extraFds?: number[];
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** run executes argv (never through a shell) and resolves with its output; it rejects with HostCommandError. */
export function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      env: options.exactEnv ? options.env : { ...process.env, ...options.env, LC_ALL: 'C' },
      stdio: ['pipe', 'pipe', 'pipe', ...(options.extraFds ?? [])] as ('pipe' | number)[],
      timeout: options.timeoutMs ?? 30_000,
      signal: options.signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', (error) => {
      reject(new HostCommandError(argv, { exitCode: null, signal: null, stderr: error.message, stdout: '' }, error));
    });
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (code === 0) resolve({ stdout, stderr });
      else reject(new HostCommandError(argv, { exitCode: code, signal, stderr, stdout }));
    });
    child.stdin!.on('error', () => {
      // The command may exit before reading all of stdin; its exit status reports what went wrong.
    });
    child.stdin!.end(options.input ?? '');
  });
}

/** commandExists tells whether an executable is on PATH (to report a missing tool clearly). */
export async function commandExists(name: string): Promise<boolean> {
  const { access, constants } = await import('node:fs/promises');
  const dirs = (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':');
  for (const dir of [...dirs, '/usr/sbin', '/sbin']) {
    try {
      await access(`${dir}/${name}`, constants.X_OK);
      return true;
    } catch {
      // not in this directory: keep looking
    }
  }
  return false;
}

/**
 * runAttached runs argv on this terminal (stdin, stdout and stderr inherited) and resolves with its exit status
 * (128 when a signal ended it). Signals sent to this process (SIGTERM, SIGINT, SIGHUP) are passed on to it.
 */
export function runAttached(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, forward);
  return new Promise((resolve) => {
    const done = (status: number) => {
      for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.off(signal, forward);
      resolve(status);
    };
    child.on('error', () => done(127));
    child.on('exit', (code, signal) => done(code ?? (signal ? 128 : 1)));
  });
}

/** PipedProcess is a program with its stdin, stdout and stderr as pipes (a streaming exec, a port-forward dial). */
export interface PipedProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /**
   * The exit status, once the program ended and its stdout and stderr closed (128 + the signal's number when a
   * signal ended it, as a shell reports it: 139 for SIGSEGV); rejects when the program cannot start.
   */
  exit: Promise<number>;
  /** kill ends it at once (SIGKILL). */
  kill(): void;
}

/**
 * spawnPiped starts argv with exactly env (default: this process's) and pipes for stdin, stdout and stderr; the
 * descriptors in extraFds become its fds 3, 4, ... (they may be closed once this returns).
 */
export function spawnPiped(
  argv: readonly string[],
  options: { env?: Record<string, string>; extraFds?: number[] } = {},
): PipedProcess {
  const child = spawn(argv[0]!, argv.slice(1), {
    stdio: ['pipe', 'pipe', 'pipe', ...(options.extraFds ?? [])] as ('pipe' | number)[],
    env: options.env ?? process.env,
  }) as ChildProcessWithoutNullStreams;
  const exit = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 9) : 9)));
  });
  // A caller that only kills the program need not wait for it.
  exit.catch(() => undefined);
  return { stdin: child.stdin, stdout: child.stdout, stderr: child.stderr, exit, kill: () => child.kill('SIGKILL') };
}

/**
 * ProcessExit is how a detached program ended: `status` as a shell reports it (the exit code; 128 + 9 when a signal
 * ended it; 127 when it could not start), with the exit code or signal, or the error that kept it from starting.
 */
export interface ProcessExit {
  status: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

export interface DetachedOptions {
  /** The whole environment of the program (default: this process's). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * Where stdout and stderr go: an open descriptor (the caller closes it), or a file appended to (its folder made);
   * stdin is /dev/null.
   */
  output: number | string;
  /** Descriptors the program gets as fds 3, 4, ... */
  extraFds?: number[];
  /** Called once when the program ends (or fails to start) while this process lives. */
  onExit?: (exit: ProcessExit) => void;
}

/**
 * spawnDetached starts argv in its own process group (signalGroup reaches its children), not holding this process
 * open, so it outlives it (a container's program, a cluster component); it returns the PID. When the program cannot
 * start it throws, and onExit reports why (status 127).
 */
export function spawnDetached(argv: readonly string[], options: DetachedOptions): number {
  let output = options.output;
  if (typeof output === 'string') {
    mkdirSync(dirname(output), { recursive: true });
    output = openSync(output, 'a');
  }
  let child: ChildProcess;
  try {
    child = spawn(argv[0]!, argv.slice(1), {
      detached: true,
      stdio: ['ignore', output, output, ...(options.extraFds ?? [])],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
  } finally {
    if (typeof options.output === 'string') closeSync(output);
  }
  let reported = false;
  const report = (exit: ProcessExit) => {
    if (reported) return;
    reported = true;
    options.onExit?.(exit);
  };
  child.on('exit', (code, signal) => report({ status: code ?? (signal ? 128 + 9 : 0), code, signal }));
  child.on('error', (error) => report({ status: 127, code: null, signal: null, error }));
  child.unref();
  if (child.pid === undefined) throw new Error(`cannot start ${argv[0]}`);
  return child.pid;
}
