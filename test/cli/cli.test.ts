/**
 * The tskube command line as a user meets it: each subcommand's --help shows its own flags, every mistake gets an
 * error line that says what to do, and exit codes follow conventions (0 success, 1 failure, 2 usage). No root needed:
 * nothing here creates a namespace. HOME is a temp dir so no real cluster state is read.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostCommandError, run } from '../../src/sys/run.ts';
import { TSKUBE } from '../support/processes.ts';

describe('tskube command line', () => {
  let home: string;
  const tskube = async (args: string[]) => {
    try {
      const r = await run([TSKUBE, ...args], { env: { HOME: home } });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (error) {
      if (!(error instanceof HostCommandError)) throw error;
      return { code: error.exitCode, stdout: error.stdout, stderr: error.stderr };
    }
  };

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'tskube-cli-'));
  });
  after(async () => {
    await rm(home, { recursive: true, force: true });
  });

  test("each cluster subcommand's --help shows its own usage and flags only", async () => {
    const up = await tskube(['up', '--help']);
    assert.equal(up.code, 0);
    assert.match(up.stdout, /--lab\b/);
    assert.match(up.stdout, /--etcd-servers/);
    for (const sub of ['down', 'status', 'logs', 'exec']) {
      const help = await tskube([sub, '--help']);
      assert.equal(help.code, 0, sub);
      assert.match(help.stdout, new RegExp(`Usage:\\n  tskube ${sub}`), sub);
      assert.match(help.stdout, /--name/, sub);
      assert.doesNotMatch(help.stdout, /^ +--(lab|etcd-servers|lan-cidr|repair)\b/m, `${sub} --help shows up's flags`);
    }
    assert.match((await tskube(['logs', '--help'])).stdout, /--node/);
    assert.match((await tskube(['exec', '--help'])).stdout, /tskube exec NODE -- COMMAND/);
  });

  test('a cluster that is not up: status, logs and exec exit 1 and say how to start it', async () => {
    for (const args of [['status'], ['logs', 'apiserver'], ['status', '--name=other']]) {
      const r = await tskube(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(
        r.stderr,
        /^Error: cluster "\w+" is not up .*start it with `.*tskube up( --name=other)?`/m,
        args.join(' '),
      );
      assert.equal(r.stdout, '');
    }
  });

  test('unknown flags and missing arguments are usage errors (exit 2) that point to --help', async () => {
    const bogus = await tskube(['status', '--lab']);
    assert.equal(bogus.code, 2);
    assert.match(bogus.stderr, /Error: unknown flag: --lab\nRun 'tskube status --help' for usage\./);
    const render = await tskube(['proxy', 'render']);
    assert.equal(render.code, 2);
    assert.match(render.stderr, /Error: required flag\(s\) "filename" not set/);
    assert.match(render.stderr, /Run 'tskube proxy render --help' for usage\./);
    assert.equal((await tskube(['nosuch'])).code, 2);
  });

  test('proxy render names a file it cannot read instead of a raw ENOENT', async () => {
    const r = await tskube(['proxy', 'render', '-f', join(home, 'missing.yaml')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: Cannot read ".*missing\.yaml": no such file$/m);
    assert.doesNotMatch(r.stderr, /ENOENT/);
  });
});
