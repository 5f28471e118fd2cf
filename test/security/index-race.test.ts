// Queries during index updates: an indexer adds runs in a loop (through the delta, and now and then by
// rewriting the catalog file into a new generation) while queries run in a loop. Every query sees the old
// catalog or the new one, never an error about files of a delta that was switched away.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeUserQuerySessions, indexVault, runUserQuery } from '../../src/catalog/index.js';
import { runCli } from '../support/helpers.js';
import { DEMO, demoVault, type TestVault } from './harness.js';

let v: TestVault;

beforeAll(async () => {
  v = await demoVault('sv-race-');
});

afterAll(async () => {
  await closeUserQuerySessions();
  v?.cleanup();
});

describe('queries during index updates', () => {
  it('see one generation or the next, never an error', async () => {
    const specimen = path.join(v.root, 'specimens', DEMO);
    const source = path.join(specimen, 'runs', v.runId, 'metrics.parquet');
    const ROUNDS = 9;
    let indexing = true;
    const errors: string[] = [];
    const seen: number[] = [];
    const queries = (async () => {
      const sqls = [
        `SELECT count(*) AS n FROM exp_${DEMO}`,
        "SELECT count(*) AS n FROM metrics WHERE metric = 'loss'",
        'SELECT count(*) AS n FROM runs',
        'SELECT count(*) AS n FROM metric_summaries',
      ];
      let i = 0;
      while (indexing) {
        const sql = sqls[i++ % sqls.length]!;
        try {
          const r = await runUserQuery(v.root, sql, { readOnly: true });
          if (i % sqls.length === 1) seen.push(Number(r.rows[0]!.n));
        } catch (err) {
          errors.push(`${sql}: ${(err as Error).message}`);
        }
      }
    })();
    for (let round = 0; round < ROUNDS; round++) {
      const run = path.join(specimen, 'runs', `20300101_0000${String(round).padStart(2, '0')}`);
      // Made whole beside the vault, then moved in with one rename, as a finished run appears.
      const staging = path.join(v.dir, `staging-${round}`);
      fs.mkdirSync(staging);
      fs.copyFileSync(source, path.join(staging, 'metrics.parquet'));
      fs.renameSync(staging, run);
      // Every third round from another process, as `specimen index` beside a running server, so the
      // switch also happens while a query is inside DuckDB rather than between two of them.
      if (round % 3 === 1) {
        const r = await runCli(['index', '--vault', v.root]);
        expect(r.code, r.stderr).toBe(0);
      } else await indexVault(v.root, round % 3 === 2 ? { full: true } : {});
    }
    indexing = false;
    await queries;
    expect(errors).toEqual([]);
    expect(seen.length).toBeGreaterThan(ROUNDS);
    // Each view count is a whole number of runs, and never goes back.
    for (let i = 0; i < seen.length; i++) {
      expect(seen[i]! % 100).toBe(0);
      if (i > 0) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    }
    const last = await runUserQuery(v.root, `SELECT count(*) AS n FROM exp_${DEMO}`, { readOnly: true });
    expect(last.rows).toEqual([{ n: 100 * (ROUNDS + 1) }]);
  });
});
