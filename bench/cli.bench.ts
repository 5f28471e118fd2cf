/**
 * CLI start-up benchmark: wall time of `specimen --help` (the built bin, as users run it) against
 * `node -e 0` in the same run (target ≤ 1.5×). Heavy modules (DuckDB, Arrow, zod, cli-table3, the server)
 * must load only in the commands that need them; this is where a stray top-level import shows. Runs
 * alternate between the two commands, and the median of each counts. Details give `specimen --version` and
 * `specimen query --help` (a command whose handler needs DuckDB, which its help must not load), and
 * `specimen query "SELECT count(*) FROM catalog"` on an empty vault — user SQL runs in a separate process —
 * against the same query run in-process through `VaultQuery` (how the command ran it before), as a ratio.
 *
 * @example
 * npm run build && node --expose-gc --import tsx bench/run.ts --only cli
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchOptions, BenchResult } from './harness.js';

const CLI = path.resolve(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const CATALOG = path.resolve(import.meta.dirname, '..', 'dist', 'catalog', 'index.js');
const SQL = 'SELECT count(*) AS n FROM catalog';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Wall time of one run of `node args…`, which must exit 0. */
function wall(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`cli bench: node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const n = options.quick ? 5 : 21;
  const runs = {
    node: [] as number[],
    help: [] as number[],
    version: [] as number[],
    queryHelp: [] as number[],
  };
  const vault = fs.mkdtempSync(path.join(os.tmpdir(), 'sv-bench-cli-'));
  wall([CLI, 'init', vault]);
  const query = [CLI, 'query', SQL, '--vault', vault];
  // The same query in this process's way before: a sandboxed VaultQuery, its result printed.
  const inProcess = [
    '--input-type=module',
    '-e',
    `const { VaultQuery } = await import(${JSON.stringify(CATALOG)}); const q = await VaultQuery.open(${JSON.stringify(vault)}, { sandbox: true }); console.log(JSON.stringify((await q.query(${JSON.stringify(SQL)})).rows)); q.close();`,
  ];
  const queries = { cli: [] as number[], inProcess: [] as number[] };
  // One warm-up of each (page cache; the first query builds the catalog), not counted.
  wall(['-e', '0']);
  wall([CLI, '--help']);
  wall(query);
  wall(inProcess);
  for (let i = 0; i < n; i++) {
    runs.node.push(wall(['-e', '0']));
    runs.help.push(wall([CLI, '--help']));
    runs.version.push(wall([CLI, '--version']));
    runs.queryHelp.push(wall([CLI, 'query', '--help']));
    queries.cli.push(wall(query));
    queries.inProcess.push(wall(inProcess));
  }
  fs.rmSync(vault, { recursive: true, force: true });
  const base = median(runs.node);
  const help = median(runs.help);
  const ratio = help / base;
  return [
    {
      name: 'cli.help',
      description: '`specimen --help` wall time vs `node -e 0` (medians, alternating runs)',
      value: help,
      baseline: base,
      unit: 'ms',
      ratio,
      target: '≤ 1.5',
      pass: ratio <= 1.5,
      details: {
        runs: n,
        versionMs: median(runs.version),
        queryHelpMs: median(runs.queryHelp),
        queryHelpRatio: median(runs.queryHelp) / base,
        queryMs: median(queries.cli),
        queryInProcessMs: median(queries.inProcess),
        queryVsInProcessRatio: median(queries.cli) / median(queries.inProcess),
      },
    },
  ];
}
