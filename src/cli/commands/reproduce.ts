/**
 * `specimen reproduce <ID> [--run RUN] [--rtol X] [--atol Y] [--ignore COL,…]`: re-executes a run with its
 * recorded seed and config and compares the outputs. Exit 0 only when reproduced (identical or within
 * tolerance), 1 when the outputs differ.
 */
import { reproduceRun } from '../../runner/reproduce.js';
import { Vault } from '../../storage/vault.js';
import { UsageError } from '../exit.js';
import { painter } from '../output.js';

export interface ReproduceCliOptions {
  run?: string;
  rtol?: string;
  atol?: string;
  ignore?: string;
  python?: string;
  json?: boolean;
  vault?: string;
}

function tolerance(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new UsageError(`--${name} must be a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

export default async function reproduce(id: string, opts: ReproduceCliOptions): Promise<number> {
  const rtol = tolerance('rtol', opts.rtol);
  const atol = tolerance('atol', opts.atol);
  const ignore = (opts.ignore ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const vault = await Vault.open(opts.vault);
  const paint = painter();
  const r = await reproduceRun({
    vault,
    specimenId: id,
    ...(opts.run ? { runId: opts.run } : {}),
    ...(rtol !== undefined ? { rtol } : {}),
    ...(atol !== undefined ? { atol } : {}),
    ignore,
    ...(opts.python ? { python: opts.python } : {}),
    ...(opts.json ? { echo: { stdout: null, stderr: process.stderr } } : {}),
    onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
    onCodeDiffers: (lines) =>
      process.stderr.write(
        `${paint('yellow', 'note')}: the code differs from the recorded run's:\n${lines.map((l) => `  ${l}\n`).join('')}`,
      ),
  });
  const c = r.comparison;
  if (opts.json) {
    console.log(
      JSON.stringify(
        { original: r.original, run: r.run.runId, status: r.run.status, ...c, code_differs: r.codeDiffers },
        null,
        2,
      ),
    );
  } else {
    const colour = c.verdict === 'differs' ? 'red' : 'green';
    console.log(
      `reproduce ${id} ${r.original} → ${r.run.runId} (${r.run.status}): ${paint(colour, c.verdict.replace('_', ' '))}`,
    );
    console.log(
      `  compared ${c.columnsCompared} metric column(s) × ${c.rowsCompared} row(s)` +
        `${c.tensorsCompared.length ? `, tensors ${c.tensorsCompared.join(', ')}` : ''}; max |Δ| ${c.maxAbsDiff}` +
        ` (rtol ${c.rtol}, atol ${c.atol}${c.ignored.length ? `, ignoring ${c.ignored.join(', ')}` : ''})`,
    );
    const d = c.firstDifference;
    if (d)
      console.log(
        `  first difference: ${d.kind} ${d.name}${d.at !== null ? ` at ${d.kind === 'metrics' ? 'step' : 'index'} ${d.at}` : ''}: ${d.reason}` +
          `${d.maxAbsDiff !== null ? `; max |Δ| in ${d.name} ${d.maxAbsDiff}` : ''}`,
      );
  }
  if (r.run.status !== 'succeeded') return r.run.exitCode && r.run.exitCode > 0 ? r.run.exitCode : 1;
  return c.verdict === 'differs' ? 1 : 0;
}
