// `specimen import tensorboard` on a logdir written by tensorboardX, checked value for value against
// TensorBoard's own EventAccumulator: scalars (old-style and scalars-plugin tensors), histograms and tensors
// as tensor series, text summaries as notes; a resumed run, nested run directories, damaged event files.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openTensor } from '../../src/storage/tensors/index.js';
import { runCli } from '../support/helpers.js';
import {
  byStepTime,
  expectedJson,
  importedRuns,
  importFixtures,
  importVenvAvailable,
  newVault,
  num,
  seriesOf,
} from '../support/import-fixtures.js';

interface Point {
  step: number;
  wall_time: number;
}
interface ExpectedRun {
  scalars: Record<string, (Point & { value: number | string })[]>;
  histograms: Record<
    string,
    (Point & {
      min: number;
      max: number;
      num: number;
      sum: number;
      sum_squares: number;
      bucket_limit: number[];
      bucket: number[];
    })[]
  >;
  tensors: Record<string, (Point & { shape: number[]; values: (number | string)[]; plugin: string })[]>;
}

const available = importVenvAvailable();

describe.skipIf(!available)('specimen import tensorboard', () => {
  let fx: string;
  beforeAll(() => {
    fx = path.join(importFixtures(), 'tensorboard');
  }, 900_000);

  async function check(vault: string, expected: Record<string, ExpectedRun>): Promise<void> {
    const runs = [...(await importedRuns(vault)).values()];
    expect(runs.length).toBe(Object.keys(expected).length);
    for (const [rel, want] of Object.entries(expected)) {
      const run = runs.find((r) => String(r.manifest.imported_from.source_run_id).startsWith(`${rel}/`))!;
      expect(run, rel).toBeDefined();
      expect(run.manifest.imported_from.tool).toBe('tensorboard');
      const series = await seriesOf(run);
      // Scalars: old-style simple values and scalars-plugin tensors are both metrics.
      const scalarTags = [
        ...Object.keys(want.scalars),
        ...Object.entries(want.tensors)
          .filter(([, ev]) => ev[0]?.plugin === 'scalars')
          .map(([t]) => t),
      ].sort();
      expect([...series.keys()].sort()).toEqual(scalarTags);
      for (const tag of scalarTags) {
        const points =
          want.scalars[tag]?.map((p) => ({ step: p.step, value: num(p.value), wallTime: p.wall_time })) ??
          want.tensors[tag]!.map((p) => ({ step: p.step, value: num(p.values[0]), wallTime: p.wall_time }));
        expect(series.get(tag)!.sort(byStepTime), `${rel} ${tag}`).toEqual(points.sort(byStepTime));
      }
      const tensorSeries = (run.manifest.imported_from.tensor_series ?? []) as {
        name: string;
        tag: string;
        kind: string;
      }[];
      for (const [tag, events] of Object.entries(want.histograms)) {
        const t = tensorSeries.find((x) => x.tag === tag && x.kind === 'histogram')!;
        const values = await openTensor(path.join(run.dir, `${t.name}.zarr`));
        const { data, shape } = await values.readAll();
        const steps = (await (await openTensor(path.join(run.dir, `${t.name}.step.zarr`))).readAll()).data;
        const walls = (await (await openTensor(path.join(run.dir, `${t.name}.wall_time.zarr`))).readAll())
          .data;
        const stats = (await (await openTensor(path.join(run.dir, `${t.name}.stats.zarr`))).readAll()).data;
        expect(shape[0]).toBe(events.length);
        events.forEach((e, i) => {
          expect(Number(steps[i])).toBe(e.step);
          expect(walls[i]).toBe(e.wall_time);
          expect([...(stats as Float64Array).subarray(i * 5, i * 5 + 5)]).toEqual([
            e.min,
            e.max,
            e.num,
            e.sum,
            e.sum_squares,
          ]);
          const k = shape[1]!;
          const row = [...(data as Float64Array).subarray(i * k * 2, (i + 1) * k * 2)];
          const pairs = e.bucket_limit.flatMap((l, j) => [l, e.bucket[j]!]);
          expect(row.slice(0, pairs.length)).toEqual(pairs);
          expect(row.slice(pairs.length).every(Number.isNaN)).toBe(true);
        });
      }
      for (const [tag, events] of Object.entries(want.tensors)) {
        const plugin = events[0]!.plugin;
        if (plugin === 'scalars') continue;
        if (plugin === 'text') {
          const notes = fs.readFileSync(path.join(run.dir, 'notes.md'), 'utf8');
          for (const e of events) {
            expect(notes).toContain(`## ${tag}`);
            expect(notes).toContain(`### step ${e.step}`);
            expect(notes).toContain(String(e.values[0]));
          }
          continue;
        }
        const t = tensorSeries.find((x) => x.tag === tag && x.kind === 'tensor')!;
        const { data, shape } = await (await openTensor(path.join(run.dir, `${t.name}.zarr`))).readAll();
        expect(shape).toEqual([events.length, ...events[0]!.shape]);
        expect([...(data as Float64Array)]).toEqual(events.flatMap((e) => e.values.map(num)));
      }
    }
  }

  it('imports a logdir value for value against EventAccumulator; a re-import adds nothing', async () => {
    const vault = newVault();
    const r = await runCli(['import', 'tensorboard', path.join(fx, 'logs'), '--vault', vault]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 specimen\(s\) \(1 new\), 2 run\(s\) imported/);
    await check(vault, expectedJson(fx, '.'));
    // The eval metric keeps its own steps; the resumed run's second file continues the same run.
    const train = [...(await importedRuns(vault)).values()].find((x) =>
      String(x.manifest.imported_from.source_run_id).startsWith('train/'),
    )!;
    const series = await seriesOf(train);
    expect(series.get('eval/accuracy')!.map((p) => p.step)).toEqual([0, 10, 20, 30, 40]);
    expect(series.get('train/loss')!.length).toBe(60);
    const again = await runCli(['import', 'tensorboard', path.join(fx, 'logs'), '--vault', vault]);
    expect(again.stdout).toMatch(/0 run\(s\) imported, 2 skipped as already imported/);
  });

  it('keeps the complete records of a truncated file, as TensorBoard does, and says where it stopped (exit 1)', async () => {
    const vault = newVault();
    const r = await runCli(['import', 'tensorboard', path.join(fx, 'bad', 'truncated'), '--vault', vault]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /bad\/truncated\/run\/events\.out\.tfevents\.[^:]+: truncated record at byte \d+/,
    );
    await check(vault, expectedJson(fx, path.join('bad', 'truncated')));
  });

  it('imports the good run beside a corrupt file and refuses an unknown event version', async () => {
    const vault = newVault();
    const r = await runCli(['import', 'tensorboard', path.join(fx, 'bad', 'corrupt'), '--vault', vault]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /broken\/events\.out\.tfevents\.[^:]+: corrupt record data \(checksum mismatch\)/,
    );
    const unknown = await runCli([
      'import',
      'tensorboard',
      path.join(fx, 'bad', 'unknown-version'),
      '--vault',
      vault,
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown event file version "brain.Event:9"');
    expect(fs.existsSync(path.join(vault, '.specimen-import'))).toBe(true);
    expect(fs.readdirSync(path.join(vault, '.specimen-import'))).toEqual([]);
  });
});
