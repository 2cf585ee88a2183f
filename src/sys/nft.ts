import { HostCommandError, commandExists, run } from './run.ts';

/**
 * NftHost is the host edge of nftables mode: one `nft -f -` per transaction, with the commands on stdin (as
 * knftables does). A long-lived `nft -i` was measured and does not help: it re-reads the kernel's chains before
 * every command just as a new process does, and gives no end-of-command signal to wait on. Nft runs the real tool;
 * unit tests pass src/proxy/testing/fake-nft.ts.
 */
export interface NftHost {
  /** run applies the commands as one transaction; it throws HostCommandError (with the failing line) on error. */
  run(script: string): Promise<void>;
}

/** Nft runs the `nft` binary. */
export class Nft implements NftHost {
  /** detect checks that nft is installed, with a clear error when it is not. */
  static async detect(): Promise<Nft> {
    if (!(await commandExists('nft')))
      throw new Error('Cannot find nft: install the nftables package (apt-get install nftables)');
    return new Nft();
  }

  async run(script: string): Promise<void> {
    try {
      await run(['nft', '-f', '-'], { input: script, timeoutMs: 900_000 });
    } catch (error) {
      if (error instanceof HostCommandError) throw withFailedLine(error, script);
      throw error;
    }
  }

  /** deleteTable removes a table if it exists (for --cleanup); it tells whether there was one. */
  async deleteTable(family: string, table: string): Promise<boolean> {
    try {
      await run(['nft', 'delete', 'table', family, table], { timeoutMs: 60_000 });
      return true;
    } catch (error) {
      if (error instanceof HostCommandError && isNotFound(error)) return false;
      throw error;
    }
  }

  /** list prints a table as `nft list table` does (for tests and debugging; never on the sync path). */
  async list(family: string, table: string): Promise<string> {
    return (await run(['nft', 'list', 'table', family, table], { timeoutMs: 600_000 })).stdout;
  }
}

/** isNotFound tells nft's "No such file or directory" (the object does not exist), as knftables.IsNotFound. */
export function isNotFound(error: HostCommandError): boolean {
  return /No such file or directory/.test(error.stderr);
}

/** withFailedLine adds the input line nft complained about (`-:LINE:COL`) to the error message. */
function withFailedLine(error: HostCommandError, script: string): HostCommandError {
  const m = /^(?:-|\/dev\/stdin):(\d+):/m.exec(error.stderr);
  if (!m) return error;
  const n = Number(m[1]);
  error.message += `\nthe failing input (line ${n}): ${script.split('\n')[n - 1] ?? ''}`;
  return error;
}
