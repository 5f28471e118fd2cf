/**
 * Report benchmark: wall time of writing a standalone HTML report (`buildReportData` + `renderReportHtml`:
 * run descriptions, summaries, min/max downsampling of series beyond the embedding limit, turns, JSON and
 * HTML) against reading the same runs' metrics tables alone (`readRunMetrics`, the floor any report pays),
 * in the same run; target ≤ 3×. Details give the report's size against the metrics files'.
 *
 * @example
 * npm run build && node --expose-gc --import tsx bench/run.ts --only report
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildReportData } from '../src/report/build-report.js';
import { renderReportHtml } from '../src/report/html.js';
import { listRunDirs } from '../src/storage/describe.js';
import { readRunMetrics } from '../src/storage/metrics/index.js';
import { SpecimenStorage } from '../src/storage/specimen-storage.js';
import { Vault } from '../src/storage/vault.js';
import { type BenchOptions, type BenchResult, bestOf } from './harness.js';

const SPECIMEN = '2025_01_02_bench_report';

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const runs = options.quick ? 3 : 8;
  const points = options.quick ? 40_000 : 200_000;
  const metrics = 4;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sv-bench-report-'));
  try {
    const vault = await Vault.init(dir);
    await vault.createSpecimen({ specimenId: SPECIMEN, domain: 'training', method: 'fine_tuning' });
    for (let r = 0; r < runs; r++) {
      const s = await SpecimenStorage.open(SPECIMEN, { vault });
      await s.startRun({ seeds: { global: r }, config: { lr: 10 ** -(r + 1) } });
      const data: Record<string, Float64Array | Int32Array> = {
        step: Int32Array.from({ length: points }, (_, i) => i),
      };
      for (let m = 0; m < metrics; m++)
        data[`m${m}`] = Float64Array.from(
          { length: points },
          (_, i) => Math.exp(-i / (points / (m + 2))) + 0.01 * Math.sin(i * (r + 1)),
        );
      await s.writeMetrics(data);
      await s.finish();
    }
    const specimenDir = vault.specimenDir(SPECIMEN);
    const dirs = listRunDirs(specimenDir);
    const parquetBytes = dirs.reduce((a, d) => a + fs.statSync(path.join(d.dir, 'metrics.parquet')).size, 0);
    let htmlBytes = 0;
    const report = async () => {
      const html = renderReportHtml(await buildReportData(vault, { refs: [SPECIMEN] }));
      htmlBytes = Buffer.byteLength(html);
    };
    const baseline = async () => {
      for (const d of dirs) await readRunMetrics(d.dir, d.runId);
    };
    await report();
    await baseline();
    const n = options.quick ? 2 : 5;
    const ours = await bestOf(n, report);
    const base = await bestOf(n, baseline);
    const ratio = ours / base;
    return [
      {
        name: `report.html.${runs}x${points}`,
        description: 'ms to write a standalone HTML report vs ms to read the same metrics tables',
        value: ours,
        baseline: base,
        unit: 'ms',
        ratio,
        target: '≤ 3.0',
        pass: ratio <= 3.0,
        details: { runs, points, metrics, htmlBytes, parquetBytes, sizeRatio: htmlBytes / parquetBytes },
      },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
