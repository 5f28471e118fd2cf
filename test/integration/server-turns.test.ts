// `GET /api/specimens/:id/turns`: the catalog's turns of a specimen's runs, for the charts' turn markers.
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { indexVault } from '../../src/catalog/index.js';
import type { TurnsResponse } from '../../src/server/api-types.js';
import { startServer } from '../../src/server/index.js';
import { addTurnRun, TURN_SPECIMEN, vaultWithTurns } from '../support/turns-vault.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

describe('GET /api/specimens/:id/turns', () => {
  it('answers the turns the index recorded, with null steps where a metric has none', async () => {
    const vault = await vaultWithTurns();
    made.push(vault.root);
    const run = await addTurnRun(vault, 1000);
    await indexVault(vault.root);
    const server = await startServer({ vaultRoot: vault.root, port: 0, index: false });
    try {
      const res = await fetch(`${server.url}api/specimens/${TURN_SPECIMEN}/turns`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as TurnsResponse;
      expect(body.specimen_id).toBe(TURN_SPECIMEN);
      expect(body.turns.map((t) => [t.run_id, t.metric, t.step === null])).toEqual([
        [run, 'test_loss', false],
        [run, 'train_loss', true],
      ]);
      expect(Math.abs(body.turns[0]!.step! - 1000)).toBeLessThanOrEqual(20);
      expect((await fetch(`${server.url}api/specimens/2025_01_02_absent/turns`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
