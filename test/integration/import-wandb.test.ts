// `specimen import wandb` on offline runs written by wandb itself (the .wandb transaction log) and a history
// export, checked value for value against what the generator logged (wandb 0.31 ships no offline reader;
// see scripts/import-fixtures/generate.py); custom step metrics, saved files, damaged logs.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/helpers.js';
import {
  expectedJson,
  importedRuns,
  importFixtures,
  importVenvAvailable,
  newVault,
  num,
  seriesOf,
} from '../support/import-fixtures.js';

interface ExpectedRun {
  project: string;
  config: Record<string, unknown>;
  rows: ({ _step: number } & Record<string, number | string>)[];
  exit_code: number;
  tags: string[];
  notes: string;
  group: string;
  files: string[];
  step_metrics: Record<string, string>;
  summary: Record<string, number>;
}

function pointsOf(rows: ExpectedRun['rows'], key: string): { step: number; value: number }[] {
  return rows.filter((r) => key in r).map((r) => ({ step: r._step, value: num(r[key]) }));
}

const available = importVenvAvailable();

describe.skipIf(!available)('specimen import wandb', () => {
  let fx: string;
  beforeAll(() => {
    fx = path.join(importFixtures(), 'wandb');
  }, 900_000);

  it('imports offline runs value for value, with custom step metrics and saved files', async () => {
    const vault = newVault();
    const r = await runCli(['import', 'wandb', path.join(fx, 'wandb'), '--vault', vault]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wandb \(0\.\d+/);
    const expected = expectedJson<Record<string, ExpectedRun>>(fx, '.');
    const runs = await importedRuns(vault);
    expect(runs.size).toBe(Object.keys(expected).length);
    for (const [id, want] of Object.entries(expected)) {
      const got = runs.get(id)!;
      expect(got, id).toBeDefined();
      const m = got.manifest;
      expect(got.specimenId).toMatch(/^\d{4}_\d{2}_\d{2}_wandb_sweep$/);
      expect(m.config).toEqual(want.config);
      expect(m.status).toBe(want.exit_code === 0 ? 'succeeded' : 'failed');
      expect(m.imported_from.source_status).toBe(`exit code ${want.exit_code}`);
      expect(m.imported_from.tags).toMatchObject({ group: want.group, tags: want.tags.join(',') });
      expect(m.imported_from.step_metrics).toEqual(want.step_metrics);
      expect(m.summary).toMatchObject(want.summary);
      expect(fs.readFileSync(path.join(got.dir, 'notes.md'), 'utf8')).toContain(want.notes);
      const files = Object.keys(m.files as object);
      for (const f of want.files) expect(files).toContain(`artifacts/${f}`);

      const series = await seriesOf(got);
      const keys = new Set(want.rows.flatMap((row) => Object.keys(row)).filter((k) => k !== '_step'));
      for (const key of keys) {
        const gotPoints = series.get(key)!;
        expect(
          gotPoints.map((p) => ({ step: p.step, value: p.value })),
          `${id} ${key}`,
        ).toEqual(pointsOf(want.rows, key));
        for (const p of gotPoints) expect(Number.isFinite(p.wallTime)).toBe(true);
      }
      // The eval metric keeps its own steps, and its x axis (epoch) sits on the same rows.
      const evalSteps = series.get('eval/accuracy')!.map((p) => p.step);
      expect(series.get('epoch')!.map((p) => p.step)).toEqual(evalSteps);
      expect(evalSteps.length).toBe(4);
    }
    const again = await runCli(['import', 'wandb', path.join(fx, 'wandb'), '--vault', vault]);
    expect(again.stdout).toMatch(/0 run\(s\) imported, 2 skipped as already imported/);
  });

  it('imports a history export with its own timestamps', async () => {
    const vault = newVault();
    const r = await runCli(['import', 'wandb', path.join(fx, 'exports'), '--vault', vault]);
    expect(r.code, r.stderr).toBe(0);
    // The generator exported the sweep's first run (run_index 0).
    const expected = Object.values(expectedJson<Record<string, ExpectedRun>>(fx, '.')).find(
      (r) => r.config.run_index === 0,
    )!;
    const run = (await importedRuns(vault)).get('exported-run')!;
    expect(run.specimenId).toBe('2023_11_14_wandb_sweep');
    const series = await seriesOf(run);
    expect(series.get('train/loss')!.map((p) => ({ step: p.step, value: p.value }))).toEqual(
      pointsOf(expected.rows, 'train/loss'),
    );
    expect(series.get('train/loss')![0]!.wallTime).toBe(1700000000);
  });

  it('reports a truncated log, an unknown log version and a missing saved file with path and reason', async () => {
    const truncated = await runCli([
      'import',
      'wandb',
      path.join(fx, 'bad', 'truncated'),
      '--vault',
      newVault(),
    ]);
    expect(truncated.code, truncated.stderr).toBe(1);
    expect(truncated.stderr).toMatch(
      /bad\/truncated\/run-\w+\.wandb: (truncated record|the last record is incomplete)/,
    );

    const future = await runCli([
      'import',
      'wandb',
      path.join(fx, 'bad', 'future-version'),
      '--vault',
      newVault(),
    ]);
    expect(future.code).toBe(2);
    expect(future.stderr).toContain('unknown W&B transaction log version 9');

    const vault = newVault();
    const missing = await runCli(['import', 'wandb', path.join(fx, 'bad', 'missing-file'), '--vault', vault]);
    expect(missing.code, missing.stderr).toBe(1);
    expect(missing.stderr).toMatch(/files\/model\.txt: artifact missing on disk/);
    expect((await importedRuns(vault)).size).toBe(1);
  });
});
