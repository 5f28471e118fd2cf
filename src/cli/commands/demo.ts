/**
 * `specimen demo [DIR] [--no-serve] [--live|--no-live]`: creates a demo vault (default ./demo-vault) with the
 * example specimens, runs their protocols through the runner, proves the synthetic demo reproduces, indexes
 * the vault and prints the seed queries with their results, then serves the web UI. The grokking sweep
 * trains for real (~20 s of CPU a run), so when serving, the web UI comes first: its two p = 31 runs train
 * right after the server is up, and the rest of the sweep after them as live runs (by default on a
 * terminal); with --no-serve the two train before the results are printed. Running it again reuses what is
 * there.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { indexVault, VaultQuery } from '../../catalog/index.js';
import { EXAMPLES } from '../../demo/examples.js';
import { SEED_QUERIES } from '../../demo/queries.js';
import { buildDemoVault } from '../../demo/run-demo.js';
import { DEMO_SPECIMEN_ID } from '../../demo/synthetic.js';
import { reproduceRun } from '../../runner/reproduce.js';
import { painter } from '../output.js';
import { makeTable } from '../table.js';

const GROKKING_ID = '2025_01_15_grokking_modular_addition';

function cell(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(4);
  if (Array.isArray(v)) return v.join(', ');
  return String(v);
}

/** One `specimen run` to start once serving. */
interface PendingRun {
  id: string;
  seed: number;
  config?: Record<string, number | string>;
}

/**
 * Starts `pending` as `specimen run` processes, two at a time (a demo machine has at least two cores; output
 * in each run's stdout.log), indexing after each so it and its turns reach the catalog and the web UI.
 * Returns a function that stops them.
 */
function startRuns(root: string, pending: PendingRun[], log: (line: string) => void): () => void {
  const children = new Set<ChildProcess>();
  let stopped = false;
  // Indexes one after another: two at once would both rewrite the catalog.
  let indexing: Promise<unknown> = Promise.resolve();
  const next = () => {
    const r = pending.shift();
    if (!r || stopped) return;
    const sets = Object.entries(r.config ?? {}).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
    const args = [process.argv[1]!, 'run', r.id, '--seed', String(r.seed), ...sets, '--vault', root];
    log(`  live: specimen run ${r.id} --seed ${r.seed} ${sets.filter((_, i) => i % 2 === 1).join(' ')}`);
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    children.add(child);
    child.once('exit', () => {
      children.delete(child);
      if (stopped) return;
      indexing = indexing.then(() => indexVault(root)).then(next, next);
    });
  };
  next();
  next();
  return () => {
    stopped = true;
    for (const child of children) child.kill('SIGINT');
  };
}

export default async function demo(dir: string, opts: { serve?: boolean; live?: boolean }): Promise<number> {
  const paint = painter();
  const root = path.resolve(dir);
  console.log(`${paint('bold', 'Specimen Vault demo')} — vault at ${root}\n`);
  const serving = opts.serve !== false;
  const report = await buildDemoVault(root, {
    // Serving, the grokking runs train once the web UI is up, so its first page comes within a minute.
    defer: serving ? [GROKKING_ID] : [],
    onRun: (r) =>
      console.log(
        `  specimen run ${r.specimenId} --seed ${r.seed}: run ${r.runId} ${paint('green', r.status)} — ${r.output.split('\n').at(-1)}`,
      ),
  });
  if (report.kept.length > 0) console.log(`  kept the existing runs of ${report.kept.join(', ')}`);

  // Reproduction is proven once, when the demo's runs are recorded; a rerun of the demo adds nothing.
  if (!report.kept.includes(DEMO_SPECIMEN_ID)) {
    const rep = await reproduceRun({
      vault: report.vault,
      specimenId: DEMO_SPECIMEN_ID,
      echo: { stdout: null, stderr: null },
    });
    console.log(
      `\nspecimen reproduce ${DEMO_SPECIMEN_ID}: ${rep.original} → ${rep.run.runId}: ${paint(rep.comparison.verdict === 'differs' ? 'red' : 'green', rep.comparison.verdict)} ` +
        `(${rep.comparison.columnsCompared} metric columns × ${rep.comparison.rowsCompared} rows, tensors ${rep.comparison.tensorsCompared.join(', ') || 'none'})`,
    );
  }

  const index = await indexVault(root);
  console.log(
    `specimen index: ${index.specimens.total} specimens, ${index.runs.total} runs → ${path.relative(process.cwd(), index.catalogPath) || index.catalogPath}\n`,
  );

  const q = await VaultQuery.open(root);
  try {
    for (const { title, sql } of SEED_QUERIES) {
      console.log(`${paint('bold', title)}\n${paint('cyan', `  specimen query "${sql}"`)}`);
      // The queries about the grokking runs have nothing to read before those runs trained.
      const deferred = report.deferred.length > 0 && sql.includes(GROKKING_ID);
      if (deferred) {
        console.log('  (after the grokking runs, which train once the web UI is up)\n');
        continue;
      }
      const rows = await q.rows(sql);
      const cols = rows[0] ? Object.keys(rows[0]) : [];
      const t = makeTable(cols);
      for (const row of rows) t.push(cols.map((c) => cell(row[c])));
      console.log(`${t.toString()}\n`);
    }
  } finally {
    q.close();
  }
  console.log(`Try: specimen --vault ${path.relative(process.cwd(), root) || '.'} show ${DEMO_SPECIMEN_ID}`);
  if (opts.serve === false) return 0;
  console.log('');
  const { default: serve } = await import('./serve.js');
  // Live runs by default only on a terminal: a script or CI serving the demo should not leave training
  // processes (and unfinished runs) behind beyond the deferred runs the vault is built with.
  const live = (opts.live ?? process.stdout.isTTY === true) && !report.kept.includes(GROKKING_ID);
  const pending: PendingRun[] = [
    ...report.deferred.map((r) => ({ id: r.specimenId, seed: r.seed, config: r.config })),
    ...(live
      ? EXAMPLES.flatMap((ex) => (ex.liveRuns ?? []).map((r) => ({ id: ex.specimen.specimenId, ...r })))
      : []),
  ];
  let stopLive: (() => void) | undefined;
  const hooks = {
    onListening: () => {
      if (pending.length > 0) stopLive = startRuns(root, pending, (line) => console.log(line));
    },
    onStop: () => stopLive?.(),
  };
  try {
    return await serve({ vault: root, ...hooks });
  } catch (err) {
    // The default port may be taken by another server; any free port will do for the demo.
    if (!(err instanceof Error && /is in use/.test(err.message))) throw err;
    return serve({ vault: root, port: '0', ...hooks });
  }
}
