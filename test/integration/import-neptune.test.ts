// `specimen import neptune` on Parquet files in the layout and schema of Neptune's exporter (written by
// pyarrow: the exporter itself is not on PyPI and needs Neptune's servers), checked value for value against
// what pyarrow reads back from them; multi-part runs, unfinished exports, damaged files.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openTensor } from '../../src/storage/tensors/index.js';
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

interface Row {
  attribute_path: string;
  attribute_type: string;
  step: number | null;
  timestamp: number | null;
  float_value: number | string | null;
  int_value: number | null;
  string_value: string | null;
  bool_value: boolean | null;
  histogram_value: { edges: number[]; values: number[] } | null;
}

const available = importVenvAvailable();

describe.skipIf(!available)('specimen import neptune', () => {
  let fx: string;
  beforeAll(() => {
    fx = path.join(importFixtures(), 'neptune');
  }, 900_000);

  it('imports exporter Parquet value for value; a re-import adds nothing', async () => {
    const vault = newVault();
    const r = await runCli(['import', 'neptune', path.join(fx, 'data'), '--vault', vault]);
    expect(r.code, r.stderr).toBe(0);
    const expected = expectedJson<Record<string, Row[]>>(fx, '.');
    const runs = await importedRuns(vault);
    expect(runs.size).toBe(2);
    for (const [id, rows] of Object.entries(expected)) {
      const got = runs.get(id)!;
      expect(got.specimenId).toBe('2025_03_04_vision');
      const m = got.manifest;
      const failed = rows.find((x) => x.attribute_path === 'sys/failed')!.bool_value;
      expect(m.status).toBe(failed ? 'failed' : 'succeeded');
      expect(m.started).toBe('2025-03-04T10:00:00.000Z');
      expect(m.imported_from.source_run_name).toBe(
        rows.find((x) => x.attribute_path === 'sys/name')!.string_value,
      );
      expect(m.config).toEqual({
        'parameters/lr': rows.find((x) => x.attribute_path === 'parameters/lr')!.float_value,
        'parameters/epochs': 3,
        'parameters/optimizer': 'adamw',
        'parameters/use_amp': true,
      });
      const series = await seriesOf(got);
      for (const metric of ['train/loss', 'eval/accuracy']) {
        const want = rows
          .filter((x) => x.attribute_path === metric)
          .map((x) => ({ step: x.step, value: num(x.float_value), wallTime: x.timestamp }));
        expect(series.get(metric), `${id} ${metric}`).toEqual(want);
      }
      expect(series.get('eval/accuracy')!.map((p) => p.step)).toEqual([0, 10, 20]);
      const hist = (m.imported_from.tensor_series as { name: string; tag: string }[]).find(
        (t) => t.tag === 'weights',
      )!;
      const { data, shape } = await (await openTensor(path.join(got.dir, `${hist.name}.zarr`))).readAll();
      const wantHist = rows.filter((x) => x.attribute_type === 'histogram_series');
      expect(shape).toEqual([wantHist.length, 4, 2]);
      expect([...(data as Float64Array).subarray(0, 8)]).toEqual(
        wantHist[0]!.histogram_value!.edges.flatMap((e, i) => [
          e,
          i === 0 ? 0 : wantHist[0]!.histogram_value!.values[i - 1]!,
        ]),
      );
      expect(fs.readFileSync(path.join(got.dir, 'notes.md'), 'utf8')).toContain('epoch 0 done');
      expect(Object.keys(m.files as object)).toContain(
        `artifacts/team/vision/${id.split('/').at(-1)}/files/model.txt`,
      );
    }
    const again = await runCli(['import', 'neptune', path.join(fx, 'data'), '--vault', vault]);
    expect(again.stdout).toMatch(/0 run\(s\) imported, 2 skipped as already imported/);
  });

  it('skips an unfinished export, and reports a truncated file and an unknown schema', async () => {
    const unfinished = await runCli([
      'import',
      'neptune',
      path.join(fx, 'bad', 'unfinished'),
      '--vault',
      newVault(),
    ]);
    expect(unfinished.code, unfinished.stderr).toBe(1);
    expect(unfinished.stderr).toMatch(/VIS-3_part_0\.parquet\.tmp: unfinished export/);
    expect(unfinished.stdout).toMatch(/1 run\(s\) imported/);
    const truncated = await runCli([
      'import',
      'neptune',
      path.join(fx, 'bad', 'truncated'),
      '--vault',
      newVault(),
    ]);
    expect(truncated.code).toBe(2);
    expect(truncated.stderr).toMatch(/VIS-2_part_0\.parquet: not a readable Parquet file/);
    const unknown = await runCli([
      'import',
      'neptune',
      path.join(fx, 'bad', 'unknown-schema'),
      '--vault',
      newVault(),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown Neptune export schema: no column "project_id"');
  });
});
