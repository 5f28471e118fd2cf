// The `turns` table: computed at index time for the vault config's turn metrics, kept beside the catalog
// so an incremental index does not compute them again, and reported by `findTurns` (`specimen turns`).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findTurns, indexVault, VaultQuery } from '../../../src/catalog/index.js';
import { addTurnRun as addRun, TURN_SPECIMEN as ID, vaultWithTurns } from '../../support/turns-vault.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

async function turnRows(root: string): Promise<Record<string, unknown>[]> {
  const q = await VaultQuery.open(root);
  try {
    return await q.rows(
      'SELECT run_id, metric, step, onset_step, end_step, direction, method, score > 0 AS scored FROM turns ORDER BY run_id, metric',
    );
  } finally {
    q.close();
  }
}

describe('turns table', () => {
  it('holds the turn of each sealed run and configured metric after index, and keeps them on an incremental index', async () => {
    const vault = await vaultWithTurns();
    made.push(vault.root);
    const first = await addRun(vault, 800);
    await indexVault(vault.root);
    let rows = await turnRows(vault.root);
    expect(rows).toHaveLength(2);
    const loss = rows.find((r) => r.metric === 'test_loss')!;
    expect(loss).toMatchObject({ run_id: first, direction: 'down', method: 'log-slope-v3', scored: true });
    expect(Math.abs(Number(loss.step) - 800)).toBeLessThanOrEqual(20);
    expect(Number(loss.onset_step)).toBeLessThan(800);
    expect(Number(loss.end_step)).toBeGreaterThan(800);
    // A slow exponential decay has no turn: a row with NULL step says it was looked at.
    expect(rows.find((r) => r.metric === 'train_loss')).toMatchObject({ step: null, scored: null });

    // The kept result is what an incremental index uses: alter it, add a run, and the first run's row
    // shows the altered step (it was not computed again) while the new run's turn is computed.
    const cacheFile = path.join(vault.root, 'vault.duckdb.d', 'turns', `${ID}.json`);
    const kept = JSON.parse(fs.readFileSync(cacheFile, 'utf8'));
    kept[first].turns.test_loss.step = 777;
    fs.writeFileSync(cacheFile, JSON.stringify(kept));
    await new Promise((r) => setTimeout(r, 1100)); // run IDs have one-second resolution
    const second = await addRun(vault, 1400);
    const report = await indexVault(vault.root);
    expect(report.full).toBe(false);
    rows = await turnRows(vault.root);
    expect(rows.filter((r) => r.metric === 'test_loss').map((r) => [r.run_id, r.step])).toEqual([
      [first, 777],
      [second, expect.any(Number)],
    ]);
    const late = rows.find((r) => r.run_id === second && r.metric === 'test_loss')!;
    expect(Math.abs(Number(late.step) - 1400)).toBeLessThanOrEqual(20);

    // A full rebuild keeps them too; a run without a turn reports none.
    await addRun(vault, null);
    await indexVault(vault.root, { full: true });
    rows = await turnRows(vault.root);
    expect(rows.filter((r) => r.metric === 'test_loss').map((r) => r.step)).toEqual([777, late.step, null]);
  }, 30_000);

  it('findTurns reports every run, with any metric asked for', async () => {
    const vault = await vaultWithTurns();
    made.push(vault.root);
    const run = await addRun(vault, 600);
    const found = await findTurns(vault.root, { metrics: ['test_loss'] });
    expect(found).toEqual([
      {
        specimenId: ID,
        runId: run,
        turns: { test_loss: expect.objectContaining({ direction: 'down', method: 'log-slope-v3' }) },
      },
    ]);
    expect(Math.abs(found[0]!.turns.test_loss!.step - 600)).toBeLessThanOrEqual(20);
    const all = await findTurns(vault.root);
    expect(Object.keys(all[0]!.turns).sort()).toEqual(['test_loss', 'train_loss']);
  });
});
