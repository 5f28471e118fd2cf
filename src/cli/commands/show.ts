/**
 * `specimen show <ID> [--run RUN] [--json]`: the specimen's manifest, its runs (status, duration, seed,
 * supersession, reproduce verdict), the chosen run's metric columns with summary statistics (and, on a
 * terminal, a sparkline each), its tensors with shape, dtype and size, the lab-notebook fields (hypothesis,
 * expected results, conclusion) and the start of the field notes (older `●` markup shown as Markdown).
 */

import fs from 'node:fs';
import path from 'node:path';
import { fieldNotesToMarkdown } from '../../format/field-notes.js';
import { FIELD_NOTES_FILE } from '../../format/layout.js';
import { effectiveSpecimenStatus } from '../../format/manifest.js';
import {
  describeSpecimen,
  describeTensor,
  findMetricsFiles,
  type RunTensor,
} from '../../storage/describe.js';
import { summarizeTable } from '../../storage/metrics/summary.js';
import { SpecimenStorage } from '../../storage/specimen-storage.js';
import { readSupersessions } from '../../storage/supersede.js';
import { Vault } from '../../storage/vault.js';
import { formatBytes, formatDuration, painter } from '../output.js';
import { sparkline } from '../sparkline.js';
import { makeTable } from '../table.js';

function fmt(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number')
    return Number.isInteger(v)
      ? String(v)
      : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3
        ? v.toExponential(3)
        : v.toFixed(4);
  return String(v);
}

export default async function show(
  id: string,
  opts: { run?: string; json?: boolean; vault?: string },
): Promise<number> {
  const vault = await Vault.open(opts.vault);
  const storage = await SpecimenStorage.open(id, { vault });
  const runs = await storage.listRunInfo();
  const supersessions = await readSupersessions(storage.path);
  const run = opts.run !== undefined ? await storage.getRun(opts.run) : runs.at(-1);
  const table = run ? await storage.readMetrics(run.runId).catch(() => undefined) : undefined;
  // Summaries of a finished metrics file only: the rows a live run has flushed are counted, not summarized.
  const metricsFiles = run ? await findMetricsFiles(run.path) : undefined;
  const summaries = table && metricsFiles?.kind === 'file' ? summarizeTable(table) : [];
  const tensors: RunTensor[] = [];
  if (run) {
    for (const name of await storage.listTensors(run.runId))
      tensors.push(describeTensor(run, name, await storage.readTensorLazy(name, run.runId)));
  }
  const notesFile = path.join(storage.path, FIELD_NOTES_FILE);
  const notes = fs.existsSync(notesFile) ? fs.readFileSync(notesFile, 'utf8') : null;
  const runRows = runs.map((r) => ({
    run_id: r.runId,
    status: r.status,
    started: r.started,
    duration_s: r.durationS,
    seed: r.seeds.global ?? null,
    git_commit: r.gitCommit,
    superseded_by: supersessions[r.runId]?.by ?? null,
    reproduces: r.reproduces,
    verdict: r.reproduceVerdict,
  }));

  if (opts.json) {
    console.log(
      JSON.stringify(
        {
          specimen_id: id,
          path: path.relative(vault.root, storage.path),
          manifest: storage.manifest,
          runs: runRows,
          run: run
            ? {
                run_id: run.runId,
                rows: table?.numRows ?? 0,
                metrics: summaries,
                tensors,
                manifest: run.manifest,
              }
            : null,
          status: effectiveSpecimenStatus(storage.manifest.status, runs.length),
          field_notes: notes,
          field_notes_markdown: notes === null ? null : fieldNotesToMarkdown(notes),
        },
        (_k, v) => (typeof v === 'bigint' ? v.toString() : v),
        2,
      ),
    );
    return 0;
  }

  const paint = painter();
  const tty = Boolean(process.stdout.isTTY);
  const m = storage.manifest;
  const d = describeSpecimen(id, m);
  console.log(paint('bold', id));
  const facts: [string, string][] = [
    ['domain / method', `${d.domain} / ${d.method}`],
    ['model', fmt(d.model)],
    ['status', effectiveSpecimenStatus(d.status, runs.length)],
    ['tags', d.tags.join(', ') || '-'],
    ['created', m.created],
    ['path', path.relative(vault.root, storage.path)],
  ];
  if (d.description) facts.push(['description', d.description]);
  for (const [k, v] of facts) console.log(`  ${paint('dim', k.padEnd(16))}${v}`);
  const lab: [string, string | null][] = [
    ['Hypothesis', d.hypothesis],
    ['Expected results', d.expectedResults],
    ['Conclusion', d.conclusion],
  ];
  for (const [k, v] of lab) {
    if (!v) continue;
    console.log(`\n${paint('bold', k)}`);
    for (const l of v.split('\n')) console.log(`  ${l}`);
  }

  console.log(`\n${paint('bold', `Runs (${runs.length})`)}`);
  if (runs.length > 0) {
    const t = makeTable([
      'run',
      'status',
      'started',
      'duration',
      'seed',
      'commit',
      'superseded by',
      'reproduces',
    ]);
    for (const r of runRows) {
      const colour =
        r.status === 'succeeded'
          ? 'green'
          : r.status === 'failed' || r.status === 'damaged'
            ? 'red'
            : 'yellow';
      t.push([
        r.run_id,
        paint(colour, r.status),
        r.started ?? '-',
        formatDuration(r.duration_s),
        fmt(r.seed),
        r.git_commit ? r.git_commit.slice(0, 10) : '-',
        r.superseded_by ?? '-',
        r.reproduces ? `${r.reproduces}: ${r.verdict}` : '-',
      ]);
    }
    console.log(t.toString());
    for (const r of runs)
      if (r.damage)
        console.log(
          `${paint('red', 'damaged')} ${r.runId}: ${r.damage.reason} (\`specimen verify ${storage.specimenId}\` says what to do)`,
        );
  }

  if (run) {
    console.log(
      `\n${paint('bold', `Metrics of run ${run.runId}`)} ${table ? `(${table.numRows} rows)` : '(none)'}`,
    );
    if (summaries.length > 0) {
      const head = ['column', 'count', 'min', 'step of min', 'max', 'step of max', 'mean', 'first', 'last'];
      const t = makeTable(tty ? [...head, 'curve'] : head);
      for (const s of summaries) {
        const row = [
          s.column,
          fmt(s.count),
          fmt(s.min),
          fmt(s.step_of_min),
          fmt(s.max),
          fmt(s.step_of_max),
          fmt(s.mean),
          fmt(s.first),
          fmt(s.last),
        ];
        if (tty) {
          // Cell by cell: toArray() gives 0 for a missing value, which would draw as a dip to zero.
          const col = table?.getChild(s.column);
          const values = col
            ? Array.from({ length: col.length }, (_, i) => col.get(i) as number | bigint | null)
            : undefined;
          row.push(values ? sparkline(values, 24) : '');
        }
        t.push(row);
      }
      console.log(t.toString());
    }
    if (tensors.length > 0) {
      console.log(`\n${paint('bold', `Tensors of run ${run.runId}`)}`);
      const t = makeTable(['name', 'shape', 'dtype', 'chunks', 'size', 'zarr']);
      for (const x of tensors)
        t.push([
          x.name,
          `(${x.shape.join(', ')})`,
          x.dtype,
          `(${x.chunks.join(', ')})`,
          x.bytes === null ? '-' : formatBytes(x.bytes),
          `v${x.zarr_format}`,
        ]);
      console.log(t.toString());
    }
  }
  if (notes) {
    const lines = fieldNotesToMarkdown(notes).split('\n');
    console.log(`\n${paint('bold', 'Field notes')}`);
    for (const l of lines.slice(0, 12)) console.log(`  ${l}`);
    if (lines.length > 12)
      console.log(paint('dim', `  … (${lines.length - 12} more lines in field_notes.md)`));
  }
  return 0;
}
