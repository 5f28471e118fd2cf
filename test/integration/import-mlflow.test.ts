// `specimen import mlflow` on a SQLite tracking database and a file store written by MLflow itself, checked
// value for value against MlflowClient (get_metric_history, search_runs, list_artifacts); then re-import,
// dry run, mapping, and damaged inputs.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/helpers.js';
import {
  expectedJson,
  type ImportedRunOnDisk,
  importedRuns,
  importFixtures,
  importVenvAvailable,
  newVault,
  num,
  seriesOf,
} from '../support/import-fixtures.js';

interface ExpectedRun {
  run_id: string;
  run_name: string;
  status: string;
  start_time: number;
  end_time: number;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, { step: number; value: number | string; timestamp: number }[]>;
  artifacts: { path: string; bytes: number }[];
}
interface Expected {
  experiments: Record<string, { experiment_id: string; creation_time: number; runs: ExpectedRun[] }>;
}

const STATUS: Record<string, string> = { FINISHED: 'succeeded', FAILED: 'failed', KILLED: 'interrupted' };

const available = importVenvAvailable();

describe.skipIf(!available)('specimen import mlflow', () => {
  let fx: string;
  beforeAll(() => {
    fx = path.join(importFixtures(), 'mlflow');
  }, 900_000);

  async function checkAgainstMlflow(vault: string, expected: Expected): Promise<void> {
    const runs = await importedRuns(vault);
    let count = 0;
    for (const [name, exp] of Object.entries(expected.experiments)) {
      for (const want of exp.runs) {
        count++;
        const got = runs.get(want.run_id) as ImportedRunOnDisk;
        expect(got, `run ${want.run_id} of ${name}`).toBeDefined();
        const m = got.manifest;
        const day = new Date(exp.creation_time).toISOString().slice(0, 10).replaceAll('-', '_');
        expect(got.specimenId.startsWith(day)).toBe(true);
        expect(m.status).toBe(STATUS[want.status]);
        expect(m.imported_from.source_status).toBe(want.status);
        expect(m.imported_from.tool).toBe('mlflow');
        expect(m.imported_from.source_experiment_name).toBe(name);
        expect(m.imported_from.source_run_name).toBe(want.run_name);
        expect(Date.parse(m.started as string)).toBe(want.start_time);
        expect(Date.parse(m.ended as string)).toBe(want.end_time);
        expect(m.config).toEqual(want.params);
        expect(m.imported_from.tags).toEqual(want.tags);
        const commit = want.tags['mlflow.source.git.commit'];
        if (commit) expect((m.git as { commit: string }).commit).toBe(commit);
        expect(m.command).toBe(want.tags['mlflow.source.name']);
        expect(m.sealed_at).toBeTypeOf('string');

        const series = await seriesOf(got);
        expect([...series.keys()].sort()).toEqual(Object.keys(want.metrics).sort());
        for (const [key, history] of Object.entries(want.metrics)) {
          const wantPoints = history
            .map((p) => ({ step: p.step, value: num(p.value), ms: p.timestamp }))
            .sort((a, b) => a.step - b.step || a.ms - b.ms || a.value - b.value);
          const gotPoints = series
            .get(key)!
            .map((p) => ({ step: p.step, value: p.value, ms: Math.round(p.wallTime * 1000) }))
            .sort((a, b) => a.step - b.step || a.ms - b.ms || a.value - b.value);
          expect(gotPoints, `${want.run_id} ${key}`).toEqual(wantPoints);
        }

        const files = m.files as Record<string, { bytes: number; sha256: string }>;
        const artifacts = Object.entries(files)
          .filter(([p]) => p.startsWith('artifacts/'))
          .map(([p, e]) => ({ path: p.slice('artifacts/'.length), bytes: e.bytes }))
          .sort((a, b) => a.path.localeCompare(b.path));
        expect(artifacts).toEqual(want.artifacts);
        for (const [p, e] of Object.entries(files)) expect(e.sha256, p).toMatch(/^[0-9a-f]{64}$/);
      }
    }
    expect(runs.size).toBe(count);
  }

  it('imports a SQLite tracking database value for value, and a re-import adds nothing', async () => {
    const vault = newVault();
    const r = await runCli(['import', 'mlflow', path.join(fx, 'mlflow.db'), '--vault', vault]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 specimen\(s\) \(2 new\), 5 run\(s\) imported, 0 skipped/);
    await checkAgainstMlflow(vault, expectedJson<Expected>(fx, '.', 'expected-sqlite.json'));

    const again = await runCli(['import', 'mlflow', fx, '--vault', vault]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/0 run\(s\) imported, 5 skipped as already imported/);
    expect((await importedRuns(vault)).size).toBe(5);
    expect(fs.readdirSync(path.join(vault, '.specimen-import'))).toEqual([]);
  });

  it('imports the legacy mlruns/ file store value for value', async () => {
    const vault = newVault();
    const r = await runCli(['import', 'mlflow', path.join(fx, 'filestore'), '--vault', vault]);
    expect(r.code, r.stderr).toBe(0);
    await checkAgainstMlflow(vault, expectedJson<Expected>(fx, '.', 'expected-filestore.json'));
  });

  it('keeps an eval metric on its own steps and a repeated step as two rows', async () => {
    const vault = newVault();
    expect((await runCli(['import', 'mlflow', path.join(fx, 'mlflow.db'), '--vault', vault])).code).toBe(0);
    const run = [...(await importedRuns(vault)).values()].find(
      (r) => r.manifest.imported_from.source_run_name === 'sweep-0',
    )!;
    const series = await seriesOf(run);
    expect(series.get('eval/accuracy')!.map((p) => p.step)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(series.get('loss')!.length).toBe(60);
    expect(series.get('repeated')!.map((p) => [p.step, p.value])).toEqual([
      [5, 1],
      [5, 2],
    ]);
    expect(Number.isNaN(series.get('lr')!.find((p) => p.step === 7)!.value)).toBe(true);
  });

  it('lists what would be created on --dry-run and writes nothing', async () => {
    const vault = newVault();
    const r = await runCli(['import', 'mlflow', path.join(fx, 'mlflow.db'), '--dry-run', '--vault', vault]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /would import [0-9a-f]{32} → \d{4}_\d{2}_\d{2}_baseline_sweep \(60 rows|61 rows/,
    );
    expect(r.stdout).toContain('dry run, nothing written');
    expect(fs.readdirSync(path.join(vault, 'specimens'))).toEqual([]);
  });

  it('puts runs where --specimen and --map say', async () => {
    const vault = newVault();
    const one = await runCli([
      'import',
      'mlflow',
      path.join(fx, 'mlflow.db'),
      '--specimen',
      '2025_01_02_everything',
      '--vault',
      vault,
    ]);
    expect(one.code, one.stderr).toBe(0);
    expect(fs.readdirSync(path.join(vault, 'specimens'))).toEqual(['2025_01_02_everything']);

    const other = newVault();
    const mapped = await runCli([
      'import',
      'mlflow',
      path.join(fx, 'filestore'),
      '--map',
      'Baseline Sweep=2025_03_04_sweep',
      '--vault',
      other,
    ]);
    expect(mapped.code, mapped.stderr).toBe(0);
    const ids = fs.readdirSync(path.join(other, 'specimens')).sort();
    expect(ids).toContain('2025_03_04_sweep');
    expect(ids.some((id) => id.endsWith('_nested_experiment'))).toBe(true);
  });

  it('refuses a taxonomy the vault does not know before reading anything (exit 2)', async () => {
    const vault = newVault();
    const r = await runCli([
      'import',
      'mlflow',
      path.join(fx, 'mlflow.db'),
      '--domain',
      'cooking',
      '--vault',
      vault,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cooking');
    expect(fs.readdirSync(path.join(vault, 'specimens'))).toEqual([]);
  });

  it('reports damaged databases with path and reason (exit 2) and leaves nothing behind', async () => {
    const vault = newVault();
    for (const [file, reason] of [
      ['truncated.db', 'not a readable SQLite database'],
      ['not-a-database.db', 'not a readable SQLite database'],
      ['unknown-schema.db', 'unknown MLflow schema version ffffffffffff: no table "metrics"'],
    ] as const) {
      const r = await runCli(['import', 'mlflow', path.join(fx, 'bad', file), '--vault', vault]);
      expect(r.code, `${file}: ${r.stdout}${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(path.join(fx, 'bad', file));
      expect(r.stderr).toContain(reason);
    }
    expect(fs.readdirSync(path.join(vault, 'specimens'))).toEqual([]);
    const missing = await runCli(['import', 'mlflow', path.join(fx, 'nope.db'), '--vault', vault]);
    expect(missing.code).toBe(3);
  });

  it('imports the rest when an artifact is missing on disk (exit 1) and names the file', async () => {
    const vault = newVault();
    const r = await runCli(['import', 'mlflow', path.join(fx, 'bad', 'missing-artifact'), '--vault', vault]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/missing-artifact\/.*\/artifacts\/notes\.txt: artifact missing on disk/);
    const runs = await importedRuns(vault);
    expect(runs.size).toBe(5);
    const hurt = [...runs.values()].find((x) => x.manifest.imported_from.problems);
    expect(hurt?.manifest.status).toBe('succeeded');
    expect(Object.keys(hurt!.manifest.files as object)).toContain('artifacts/model/weights.bin');
  });
});
