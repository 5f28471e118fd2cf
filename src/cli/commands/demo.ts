/**
 * `specimen demo [DIR]`: creates a demo vault (default ./demo-vault), records a sealed run of the synthetic
 * demo specimen, and prints what was stored: the run's files with sizes and digests, the head of its metrics
 * and its tensor's shape, dtype and chunks.
 */
import path from 'node:path';
import { runSyntheticDemo } from '../../demo/run-demo.js';
import { SpecimenStorage } from '../../storage/specimen-storage.js';
import { Vault } from '../../storage/vault.js';
import { formatBytes, painter } from '../output.js';

export default async function demo(dir: string, _opts: { serve?: boolean }): Promise<number> {
  const paint = painter();
  const vault = await Vault.init(path.resolve(dir));
  console.log(`${paint('bold', 'Specimen Vault demo')} — vault at ${vault.root}\n`);
  const result = await runSyntheticDemo({ vault });
  const storage = await SpecimenStorage.open(result.specimenId, { vault });
  const runs = await storage.listRunInfo();
  console.log(
    `specimen ${paint('cyan', result.specimenId)}: ${runs.length} run(s); new run ${paint('cyan', result.runId)} ${paint('green', result.manifest.status)}`,
  );
  console.log(`\nfiles of run ${result.runId} (sealed, read-only):`);
  const files = result.manifest.files as Record<string, { bytes: number; sha256: string }>;
  for (const [f, e] of Object.entries(files))
    console.log(`  ${f.padEnd(32)} ${formatBytes(e.bytes).padStart(10)}  sha256 ${e.sha256.slice(0, 16)}…`);
  const table = await storage.readMetrics(result.runId);
  const cols = table.schema.fields.map((f) => f.name);
  console.log(`\nmetrics.parquet: ${table.numRows} rows × ${cols.length} columns (${cols.join(', ')})`);
  const show = (i: number): string =>
    cols
      .filter((c) => c !== 'run_id')
      .map((c) => {
        const v = table.getChild(c)?.get(i);
        return `${c}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : String(v)}`;
      })
      .join('  ');
  for (const i of [0, 1, 2]) console.log(`  ${show(i)}`);
  console.log('  …');
  console.log(`  ${show(table.numRows - 1)}`);
  const act = await storage.readTensorLazy('activations', result.runId);
  const first = await act.read([0, [0, 4]]);
  console.log(
    `\nactivations.zarr: shape (${act.shape.join(', ')}), ${act.dtype}, chunks (${act.chunks.join(', ')}), zarr v${act.zarrFormat}; ` +
      `row 0 starts ${[...(first.data as Float32Array)].map((x) => x.toFixed(3)).join(', ')}`,
  );
  console.log(`\nsummary: ${JSON.stringify(result.manifest.summary)}`);
  return 0;
}
