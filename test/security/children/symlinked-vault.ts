// Child process of native-abort.test.ts: builds a vault whose specimens, runs and files include symbolic
// links to directories and files outside it, indexes it and queries it every way the library can, and
// prints one JSON line per attempt. An uncaught native failure (std::terminate) would end this process
// with SIGABRT, which the test sees, instead of ending the test runner.
import fs from 'node:fs';
import path from 'node:path';
import { closeUserQuerySessions, indexVault, runUserQuery, VaultQuery } from '../../../src/catalog/index.js';
import { runSyntheticDemo } from '../../../src/demo/run-demo.js';
import { isVaultError } from '../../../src/errors.js';
import { Vault } from '../../../src/storage/vault.js';

const dir = process.argv[2]!;
const root = path.join(dir, 'vault');
const outside = path.join(dir, 'outside');
fs.mkdirSync(outside, { recursive: true });
const vault = await Vault.init(root);
const a = await runSyntheticDemo({ vault });
const spec = vault.specimenDir('example_2024_12_19_synthetic_demo');
const runDir = path.join(spec, 'runs', a.runId);
// A second run whose directory is a link outside, a metrics file that is a link outside, a specimen that is
// a link outside, and a directory at the root that is a link outside.
fs.cpSync(runDir, path.join(outside, 'run-copy'), { recursive: true });
fs.symlinkSync(path.join(outside, 'run-copy'), path.join(spec, 'runs', '20990101_000000'));
fs.cpSync(spec, path.join(outside, 'evil'), { recursive: true, verbatimSymlinks: true });
fs.symlinkSync(path.join(outside, 'evil'), path.join(vault.specimensDir, 'evil_link'));
fs.symlinkSync(outside, path.join(root, 'linkdir'));
fs.copyFileSync(path.join(runDir, 'metrics.parquet'), path.join(outside, 'metrics.parquet'));
const outcomes: { what: string; ok: boolean; tag?: string; message?: string }[] = [];
async function attempt(what: string, f: () => Promise<unknown>): Promise<void> {
  try {
    await f();
    outcomes.push({ what, ok: true });
  } catch (err) {
    outcomes.push({
      what,
      ok: false,
      tag: isVaultError(err) ? err._tag : 'untagged',
      message: String((err as Error).message).slice(0, 200),
    });
  }
}
// Many runs, so that DuckDB opens the later files of a view on its worker threads while it scans.
for (let i = 10; i < 50; i++)
  fs.cpSync(runDir, path.join(spec, 'runs', `20300101_0000${i}`), { recursive: true });
await attempt('index', () => indexVault(root));
const lateRun = path.join(spec, 'runs', '20300101_000049', 'metrics.parquet');
fs.rmSync(lateRun);
fs.symlinkSync(path.join(outside, 'metrics.parquet'), lateRun);
const sqls = [
  'SELECT count(*) AS n FROM metrics',
  'SELECT count(*) AS n FROM exp_example_2024_12_19_synthetic_demo',
  'SELECT * FROM catalog',
  `SELECT count(*) AS n FROM read_parquet('${root}/linkdir/metrics.parquet')`,
  `SELECT count(*) AS n FROM read_parquet('${root}/**/metrics.parquet')`,
  `SELECT count(*) AS n FROM read_parquet('${runDir}/metrics.parquet')`,
  `SELECT * FROM read_text('${root}/linkdir/evil/field_notes.md')`,
];
// Only a late file of the views is a link outside: DuckDB meets it while scanning, not while binding.
for (const sql of sqls.slice(0, 2))
  await attempt(`user, late link: ${sql}`, () => runUserQuery(root, sql, { readOnly: true }));
// Now the run's own metrics file becomes a link outside, after it was indexed.
fs.rmSync(path.join(runDir, 'metrics.parquet'));
fs.symlinkSync(path.join(outside, 'metrics.parquet'), path.join(runDir, 'metrics.parquet'));
for (const sql of sqls) await attempt(`user: ${sql}`, () => runUserQuery(root, sql, { readOnly: true }));
const q = await VaultQuery.open(root);
for (const sql of sqls.slice(0, 3)) await attempt(`library: ${sql}`, () => q.rows(sql));
q.close();
await attempt('index again', () => indexVault(root));
await attempt('index full', () => indexVault(root, { full: true }));
await closeUserQuerySessions();
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
