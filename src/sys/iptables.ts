import { HostCommandError, commandExists, run } from './run.ts';

/**
 * IptablesHost is what iptables mode (its backend and --cleanup) needs of the host (Iptables runs the real tools; unit tests pass
 * src/proxy/testing/fake-iptables.ts). Every method throws HostCommandError when the tool fails.
 */
export interface IptablesHost {
  /** restore applies `iptables-restore --noflush` input: declared chains are flushed and refilled, others kept. */
  restore(text: string): Promise<void>;
  /** chains lists a table's chains (built-in ones included). */
  chains(table: 'nat' | 'filter'): Promise<string[]>;
  /** hasRule tells whether `iptables -C` finds the rule. */
  hasRule(table: string, chain: string, args: readonly string[]): Promise<boolean>;
  /** ensureRule inserts the rule at the top of chain unless it is there; true when it was inserted. */
  ensureRule(table: string, chain: string, args: readonly string[]): Promise<boolean>;
  /** deleteRule removes the rule if it is there (a missing rule or chain is not an error). */
  deleteRule(table: string, chain: string, args: readonly string[]): Promise<void>;
}

/**
 * Iptables is the host edge of kube-proxy: `iptables-restore --noflush --counters` with the ruleset on stdin,
 * waiting for the xtables lock like upstream (`-w 5 -W 100000`), listing chains with `iptables-save`, and
 * ensuring or removing single jump rules. The backend (iptables-nft or iptables-legacy) is chosen once, like
 * upstream: the one that already holds kube-proxy's (or the kubelet's) chains, else nft.
 */
export class Iptables implements IptablesHost {
  readonly backend: 'nft' | 'legacy';
  readonly #prefix: string;

  private constructor(backend: 'nft' | 'legacy') {
    this.backend = backend;
    this.#prefix = backend === 'nft' ? 'iptables-nft' : 'iptables-legacy';
  }

  /** detect picks the backend; it throws a clear error when no iptables is installed. */
  static async detect(): Promise<Iptables> {
    const hasNft = await commandExists('iptables-nft-restore');
    const hasLegacy = await commandExists('iptables-legacy-restore');
    if (!hasNft && !hasLegacy)
      throw new Error('Cannot find iptables-restore: install the iptables package (apt-get install iptables)');
    // Only look at legacy tables that exist: listing one with iptables-legacy-save would create it.
    const { readFile } = await import('node:fs/promises');
    const legacyTables = await readFile('/proc/net/ip_tables_names', 'utf8').catch(() => '');
    if (hasNft && hasLegacy && legacyTables.split('\n').includes('nat')) {
      const legacy = await run(['iptables-legacy-save', '-t', 'nat'], { timeoutMs: 10_000 }).then(
        (r) => r.stdout,
        () => '',
      );
      const nft = await run(['iptables-nft-save', '-t', 'nat'], { timeoutMs: 10_000 }).then(
        (r) => r.stdout,
        () => '',
      );
      if (/^:KUBE-/m.test(legacy) && !/^:KUBE-/m.test(nft)) return new Iptables('legacy');
    }
    return new Iptables(hasNft ? 'nft' : 'legacy');
  }

  /** restore applies a ruleset with --noflush: declared chains are flushed and refilled, others are left alone. */
  async restore(text: string): Promise<void> {
    try {
      // Large rulesets are slow in iptables-nft (minutes at 10,000 services): allow it, as upstream sets no timeout.
      await run([`${this.#prefix}-restore`, '-w', '5', '-W', '100000', '--noflush', '--counters'], {
        input: text,
        timeoutMs: 900_000,
      });
    } catch (error) {
      if (error instanceof HostCommandError) throw withFailedLine(error, text);
      throw error;
    }
  }

  /** chains lists the chains of a table (the nat table's, for deleting stale ones after a restart). */
  async chains(table: 'nat' | 'filter'): Promise<string[]> {
    const { stdout } = await run([`${this.#prefix}-save`, '-t', table], { timeoutMs: 60_000 });
    return stdout
      .split('\n')
      .filter((l) => l.startsWith(':'))
      .map((l) => l.slice(1).split(' ')[0]!);
  }

  /** hasRule tells whether `-C` finds a rule. */
  async hasRule(table: string, chain: string, args: readonly string[]): Promise<boolean> {
    try {
      await run([this.#prefix, '-w', '5', '-t', table, '-C', chain, ...args], { timeoutMs: 10_000 });
      return true;
    } catch (error) {
      if (error instanceof HostCommandError && error.exitCode === 1) return false;
      throw error;
    }
  }

  /** ensureRule inserts `-I chain args` at the top unless `-C` finds it already. */
  async ensureRule(table: string, chain: string, args: readonly string[]): Promise<boolean> {
    if (await this.hasRule(table, chain, args)) return false;
    await run([this.#prefix, '-w', '5', '-t', table, '-I', chain, ...args], { timeoutMs: 10_000 });
    return true;
  }

  /** deleteRule removes one rule if present (for --cleanup). */
  async deleteRule(table: string, chain: string, args: readonly string[]): Promise<void> {
    try {
      await run([this.#prefix, '-w', '5', '-t', table, '-D', chain, ...args], { timeoutMs: 10_000 });
    } catch (error) {
      // Exit 1 means no such rule (or chain), and a jump to a chain that does not exist cannot be there: already clean.
      if (!(error instanceof HostCommandError)) throw error;
      if (error.exitCode !== 1 && !/Chain '[^']+' does not exist/.test(error.stderr)) throw error;
    }
  }

  /** save prints a table as iptables-save does (for tests, debugging and `tskube proxy` cleanup). */
  async save(table: string): Promise<string> {
    return (await run([`${this.#prefix}-save`, '-t', table], { timeoutMs: 60_000 })).stdout;
  }
}

/** withFailedLine adds the input line iptables-restore complained about, with its neighbours, as upstream does. */
function withFailedLine(error: HostCommandError, text: string): HostCommandError {
  const m = /line:? (\d+)/i.exec(error.stderr);
  if (!m) return error;
  const lines = text.split('\n');
  const n = Number(m[1]);
  const context = lines
    .slice(Math.max(0, n - 3), n + 2)
    .map((l, i) => `${Math.max(1, n - 2) + i}: ${l}`)
    .join('\n');
  error.message += `\nthe failing input (line ${n}):\n${context}`;
  return error;
}
