/**
 * System sampler overhead: the same fixed CPU-bound job with sampling every second and with sampling off,
 * alternating, median of N each (target: ≤ 1.02).
 * - runner: a Node.js job under `specimen run --system-interval 1` vs `specimen run --no-system`;
 * - python: a pure-Python job inside `sv.init(...)` (the package's sampler thread, under the GIL) with
 *   `SPECIMEN_SYSTEM_INTERVAL=1` vs `off` (interpreter as in python.bench.ts).
 * The figure is the CPU time of the whole command (job, runner or package, sampler, seal — read from this
 * process's children's CPU time on Linux): on a shared machine wall times swing by tens of percent from
 * run to run, CPU time does not. The job's own wall time and the command's are in the details.
 *
 * @example
 * node --import tsx bench/run.ts --quick --only system
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BenchOptions, type BenchResult, benchPython } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const ID = '2025_01_01_sampler';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * CPU milliseconds of this process's waited-for children and their descendants (cutime + cstime of
 * /proc/self/stat), or undefined off Linux.
 */
function childrenCpuMs(): number | undefined {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[13]) + Number(f[14])) * 1000) / CLK_TCK;
  } catch {
    return undefined;
  }
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface Timing {
  wall: number;
  job: number;
  /** CPU time of the whole command (its wall time where that cannot be read). */
  cpu: number;
}

/** Runs `cmd`: its wall and CPU time and the `{"job_ms": …}` line the job printed. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Timing {
  const c0 = childrenCpuMs();
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 16 << 20 });
  const wall = performance.now() - t0;
  const c1 = childrenCpuMs();
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{"job_ms"'));
  if (!line) throw new Error(`no job time in the output of ${cmd} ${args.join(' ')}: ${r.stdout}`);
  const cpu = c0 !== undefined && c1 !== undefined ? c1 - c0 : wall;
  return { wall, job: (JSON.parse(line) as { job_ms: number }).job_ms, cpu };
}

/** Alternates `on` and `off` `n` times (after one warm-up of each); medians of job and wall times. */
function alternate(n: number, on: () => Timing, off: () => Timing) {
  on();
  off();
  const a: Timing[] = [];
  const b: Timing[] = [];
  for (let i = 0; i < n; i++) {
    // Which goes first alternates too, so a drift of the machine's load hits both alike.
    if (i % 2 === 0) {
      a.push(on());
      b.push(off());
    } else {
      b.push(off());
      a.push(on());
    }
  }
  return {
    onCpu: median(a.map((x) => x.cpu)),
    offCpu: median(b.map((x) => x.cpu)),
    onCpus: a.map((x) => Math.round(x.cpu)).join('/'),
    offCpus: b.map((x) => Math.round(x.cpu)).join('/'),
    onJob: median(a.map((x) => x.job)),
    offJob: median(b.map((x) => x.job)),
    onWall: median(a.map((x) => x.wall)),
    offWall: median(b.map((x) => x.wall)),
    onJobs: a.map((x) => Math.round(x.job)).join('/'),
    offJobs: b.map((x) => Math.round(x.job)).join('/'),
  };
}

function result(
  name: string,
  description: string,
  m: ReturnType<typeof alternate>,
  extra: Record<string, number | string>,
): BenchResult {
  const ratio = m.onCpu / m.offCpu;
  return {
    name,
    description,
    value: m.onCpu,
    baseline: m.offCpu,
    unit: 'ms',
    ratio,
    target: '≤ 1.02',
    pass: ratio <= 1.02,
    details: {
      sampled_cpu_runs_ms: m.onCpus,
      unsampled_cpu_runs_ms: m.offCpus,
      job_wall_ratio: m.onJob / m.offJob,
      sampled_job_ms: m.onJob,
      unsampled_job_ms: m.offJob,
      sampled_runs_ms: m.onJobs,
      unsampled_runs_ms: m.offJobs,
      wall_ratio: m.onWall / m.offWall,
      ...extra,
    },
  };
}

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const n = options.quick ? 5 : 9;
  const jobS = options.quick ? 3 : 6;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sv-bench-sampler-'));
  execFileSync(process.execPath, [CLI, 'init', dir], { stdio: 'ignore' });
  execFileSync(
    process.execPath,
    [CLI, 'new', ID, '--domain', 'training', '--method', 'fine_tuning', '--vault', dir],
    { stdio: 'ignore' },
  );
  const env = { ...process.env, NO_COLOR: '1' };
  const results: BenchResult[] = [];

  // A fixed amount of work, sized once to take about jobS seconds here.
  // Like a training job it logs metrics (100 rows), so both arms load the Parquet writer at seal and the
  // difference is the sampling and its system.parquet.
  const jobOf = (iterations: number) =>
    `let x=0;const t0=performance.now();const d=process.env.SPECIMEN_RUN_DIR;const rows=[];for(let i=0;i<${iterations};i++){x+=Math.sqrt(i);if(d&&i%${Math.max(1, Math.floor(iterations / 100))}===0)rows.push(JSON.stringify({step:rows.length,loss:1/(i+1)}))}if(d)require('fs').writeFileSync(d+'/metrics.jsonl',rows.join('\\n')+'\\n');console.log(JSON.stringify({job_ms:performance.now()-t0,x}))`;
  const probe = 200_000_000;
  const probeMs = timed(process.execPath, ['-e', jobOf(probe)], env).job;
  const job = jobOf(Math.round((probe * jobS * 1000) / probeMs));
  const viaRunner = (flags: string[]) => () =>
    timed(
      process.execPath,
      [CLI, 'run', ID, '--vault', dir, ...flags, '--', process.execPath, '-e', job],
      env,
    );
  const runner = alternate(n, viaRunner(['--system-interval', '1']), viaRunner(['--no-system']));
  results.push(
    result(
      'system.runner_overhead',
      'a CPU-bound job under `specimen run --system-interval 1` vs `--no-system` (median CPU time of the command)',
      runner,
      { runs: n, job_s: jobS },
    ),
  );

  // The Python package's sampler thread, in the training process itself.
  const py = benchPython();
  const pyCalibrate =
    'import time\nt0=time.perf_counter();n=0\nwhile time.perf_counter()-t0<0.5:\n  sum(i*i for i in range(10000)); n+=1\nprint(n)';
  const pyEnv = {
    ...env,
    PYTHONPATH: path.join(ROOT, 'python'),
    SPECIMEN_CLI: `${process.execPath} ${CLI}`,
    SPECIMEN_VAULT: dir,
  };
  const pyPer500 = Number(execFileSync(py, ['-c', pyCalibrate], { encoding: 'utf8', env: pyEnv }).trim());
  const pyLoops = Math.round((pyPer500 * jobS * 1000) / 500);
  const pyJob = [
    'import json, time, specimen_vault as sv',
    `with sv.init(${JSON.stringify(ID)}) as run:`,
    '    t0 = time.perf_counter()',
    `    for step in range(${pyLoops}):`,
    '        sum(i * i for i in range(10000))',
    `        if step % ${Math.max(1, Math.floor(pyLoops / 100))} == 0: run.log({"loss": 1 / (step + 1)}, step=step)`,
    '    ms = (time.perf_counter() - t0) * 1000',
    'print(json.dumps({"job_ms": ms}))',
  ].join('\n');
  const viaPython = (interval: string) => () =>
    timed(py, ['-c', pyJob], { ...pyEnv, SPECIMEN_SYSTEM_INTERVAL: interval });
  const pyRuns = alternate(n, viaPython('1'), viaPython('off'));
  results.push(
    result(
      'system.python_overhead',
      'a pure-Python job inside sv.init() with SPECIMEN_SYSTEM_INTERVAL=1 vs off (median CPU time of the script)',
      pyRuns,
      { runs: n, job_s: jobS, python: py },
    ),
  );
  fs.rmSync(dir, { recursive: true, force: true });
  return results;
}
