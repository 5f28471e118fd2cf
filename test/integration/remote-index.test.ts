// `specimen index --remote` against a real S3-compatible server (versitygw), through the built CLI: the
// catalog of a vault that has never pulled holds the remote's runs, incremental by ETag, and the stubs it
// leaves give way to real runs on pull without confusing push or verify.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Vault } from '../../src/storage/vault.js';
import { addRuns, addSpecimen, localRunIds, SPECIMEN, teamVault } from '../support/remote-vault.js';
import { s3ServerBinary, useS3Server } from '../support/s3-server.js';

const HAVE_SERVER = s3ServerBinary() !== false;

/** Every file under a directory, relative, sorted. */
function filesUnder(dir: string): string[] {
  return fs.existsSync(dir)
    ? (fs.readdirSync(dir, { recursive: true }) as string[])
        .filter((f) => fs.statSync(path.join(dir, f)).isFile())
        .map((f) => f.split(path.sep).join('/'))
        .sort()
    : [];
}

describe.skipIf(!HAVE_SERVER)('specimen index --remote', () => {
  const s3 = useS3Server('team');
  const cli = (args: string[]) => s3.cli(args, 200_000);
  const query = async (vault: Vault, sql: string): Promise<unknown> => {
    const q = await cli(['query', sql, '--format', 'json', '--vault', vault.root]);
    expect(q.code, q.stderr).toBe(0);
    return JSON.parse(q.stdout);
  };

  it('catalogs the remote from its listing and run manifests, reading only what moved', async () => {
    const a = await teamVault(s3.server(), 'team', { prefix: 'idx' });
    await addSpecimen(a);
    const first = await addRuns(a, 3, { steps: 30 });
    expect((await cli(['push', '--vault', a.root])).code).toBe(0);

    const b = await teamVault(s3.server(), 'team', { prefix: 'idx' });
    const indexed = await cli(['index', '--remote', '--vault', b.root]);
    expect(indexed.code, indexed.stderr).toBe(0);
    expect(indexed.stdout).toContain('1 specimen(s), 3 run(s) new or changed, 0 unchanged');
    // Specimen files and run manifests only: no metrics, tensors or logs came down.
    const runsDir = path.join(b.specimenDir(SPECIMEN), 'runs');
    expect(filesUnder(runsDir)).toEqual(
      first.flatMap((r) => [`${r}/.remote-stub`, `${r}/manifest.msgpack`]).sort(),
    );
    expect(fs.readFileSync(path.join(b.specimenDir(SPECIMEN), 'field_notes.md'), 'utf8')).toContain(
      '## Observations',
    );
    expect(
      await query(b, `SELECT run_id, status FROM runs WHERE specimen_id = '${SPECIMEN}' ORDER BY run_id`),
    ).toEqual(first.map((run_id) => ({ run_id, status: 'succeeded' })));
    // The summaries sealed into each manifest are in the catalog without the Parquet file.
    expect(
      await query(
        b,
        `SELECT run_id, "min" AS best, "count" AS n FROM metric_summaries WHERE metric = 'loss' ORDER BY run_id`,
      ),
    ).toEqual(first.map((run_id, i) => ({ run_id, best: (i + 1) / 30, n: 30 })));
    expect(
      await query(
        b,
        `SELECT name, kind, shape FROM artifacts WHERE run_id = '${first[0]}' AND kind = 'tensor'`,
      ),
    ).toEqual([{ name: 'w', kind: 'tensor', shape: [4, 16] }]);
    // Metrics not fetched are not in the views (a view naming absent files would fail every query).
    expect(await query(b, `SELECT count(*) AS n FROM metrics`)).toEqual([{ n: 0 }]);

    // Nothing moved: nothing is read but the listing.
    const again = await cli(['index', '--remote', '--vault', b.root]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('0 run(s) new or changed, 3 unchanged, 0 removed');
    expect(again.stdout).toContain('(0 objects read)');

    // Another host adds runs and edits the notes: only those are read.
    const more = await addRuns(a, 2, { seed: 10 });
    fs.appendFileSync(path.join(a.specimenDir(SPECIMEN), 'field_notes.md'), '- loss plateaus at 0.1\n');
    expect((await cli(['push', '--vault', a.root])).code).toBe(0);
    const third = await cli(['index', '--remote', '--vault', b.root]);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toContain('2 run(s) new or changed, 3 unchanged');
    expect(third.stdout).toContain('1 specimen file(s) updated (3 objects read)');
    expect(fs.readFileSync(path.join(b.specimenDir(SPECIMEN), 'field_notes.md'), 'utf8')).toContain(
      'loss plateaus',
    );
    expect(await query(b, `SELECT count(*) AS n FROM runs`)).toEqual([{ n: 5 }]);

    // Stubs are runs the remote has: push sends nothing, verify points at --remote.
    const pushed = await cli(['push', '--vault', b.root]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toContain('pushed 0 run(s)');
    expect(pushed.stdout).toContain('5 already there');
    const verified = await cli(['verify', '--vault', b.root]);
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toContain('0 sealed run(s) verified, 0 modified, 0 unsealed');
    expect(verified.stdout).toContain('5 remote-only');

    // Pull replaces each stub by the whole run, which then verifies and feeds the views.
    const pulled = await cli(['pull', '--all', '--vault', b.root]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toContain('pulled 5 run(s)');
    expect(localRunIds(b)).toEqual([...first, ...more]);
    expect(fs.existsSync(path.join(runsDir, first[0]!, '.remote-stub'))).toBe(false);
    const after = await cli(['verify', '--vault', b.root]);
    expect(after.stdout).toContain('5 sealed run(s) verified, 0 modified');
    expect((await cli(['index', '--quiet', '--vault', b.root])).code).toBe(0);
    expect(await query(b, `SELECT count(DISTINCT run_id) AS n FROM metrics WHERE metric = 'loss'`)).toEqual([
      { n: 5 },
    ]);
    // Now local, the runs are left alone by the remote index.
    const last = await cli(['index', '--remote', '--vault', b.root]);
    expect(last.stdout).toContain('0 run(s) new or changed, 0 unchanged, 0 removed, 5 also local');
  }, 240_000);

  it('removes stubs of runs the remote no longer has, and names an unreachable remote', async () => {
    const a = await teamVault(s3.server(), 'team', { prefix: 'idx-gone' });
    await addSpecimen(a);
    const [run] = await addRuns(a, 1);
    expect((await cli(['push', '--vault', a.root])).code).toBe(0);
    const b = await teamVault(s3.server(), 'team', { prefix: 'idx-gone' });
    expect((await cli(['index', '--remote', '--vault', b.root])).code).toBe(0);
    expect(localRunIds(b)).toEqual([run]);
    // The run's commit object goes (as a cleanup of the bucket would): the stub goes with it.
    fs.rmSync(s3.server().objectFile('team', `idx-gone/specimens/${SPECIMEN}/runs/${run}/manifest.msgpack`));
    const gone = await cli(['index', '--remote', '--vault', b.root]);
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.stdout).toContain('1 removed');
    expect(localRunIds(b)).toEqual([]);
    expect(await query(b, `SELECT count(*) AS n FROM runs`)).toEqual([{ n: 0 }]);

    const c = await teamVault(s3.server(), 'team', { remote: { endpoint: 'http://127.0.0.1:9' } });
    const down = await cli(['index', '--remote', '--vault', c.root]);
    expect(down.code).toBe(2);
    expect(down.stderr).toContain('127.0.0.1:9');
    expect(down.stderr).not.toMatch(/\n\s+at /);
  }, 240_000);
});
