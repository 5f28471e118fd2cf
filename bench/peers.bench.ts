/**
 * Peers: Specimen Vault side by side with the trackers users would pick instead — MLflow (SQLite and file
 * store), TensorBoard (tensorboardX writes, TensorBoard's EventAccumulator reads), W&B offline, Trackio and
 * Aim — in the same run, alternating, medians of `reps` rounds. Runs only with `npm run bench -- --peers`
 * (`--peers=mlflow,aim` for some of them; `--quick` for the quick sizes). Every figure is peer ÷ ours, so
 * higher is better for us:
 *
 * (a) one run of STEPS rows × 4 metrics from Python, end to end in a fresh process (interpreter start,
 *     imports, init, logging, finish/close, exit): `sv.log` against each tool's fastest documented path.
 *     Ours from TypeScript (`MetricsWriter`, in this process) is printed beside it.
 * (b) the full history of one metric of that run, timed in a fresh process after the imports (opening the
 *     store included): `sv.read_metrics` against MLflow `get_metric_history`, `EventAccumulator`, Trackio's
 *     `get_metric_values`, Aim `query_metrics` (plus the repo indexing Aim needs first); W&B offline has no
 *     reader.
 * (c) a sweep of RUNS runs × 100 rows from Python, then the 10 best runs by final loss, as one process:
 *     ours through the package's `specimen session`, then `specimen index` + `specimen query`; MLflow
 *     `search_runs(order_by)`, Trackio's SQL, Aim's query, TensorBoard by loading every run. The 10 found are
 *     checked against the known answer. W&B offline cannot be queried: its figure is the sweep alone.
 * (d) bytes each wrote for (a): the growth of its directory (store or vault made beforehand, untimed).
 *
 * `SPECIMEN_BENCH_PEERS_SWEEP_ROUNDS=1` measures (c) in fewer rounds than the others (a full-size sweep of
 * every peer takes over half an hour a round on a loaded 2-core machine).
 *
 * The scripts are bench/peers/peer_*.py (one JSON line each); the Python is a virtual environment in
 * ~/.cache/specimen-vault/peers-venv made from `python3` with bench/peers/requirements.txt, one line at a
 * time: a peer whose packages do not install is reported as skipped with pip's last line.
 *
 * @example
 * npm run bench -- --peers --quick
 * npm run bench -- --peers=mlflow,trackio --json
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Table from 'cli-table3';
import { SpecimenStorage } from '../src/storage/specimen-storage.js';
import { Vault } from '../src/storage/vault.js';
import type { BenchOptions, BenchResult } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const PEERS_DIR = path.join(import.meta.dirname, 'peers');
const REQUIREMENTS = path.join(PEERS_DIR, 'requirements.txt');
const VENV = path.join(os.homedir(), '.cache', 'specimen-vault', 'peers-venv');
const PYTHON = path.join(VENV, 'bin', 'python');
const SPECIMEN = '2025_01_01_peers';
const SWEEP_STEPS = 100;
/** A script running longer than this is stopped: a sweep's figure is then a lower bound, anything else fails. */
const SCRIPT_TIMEOUT_MS = Number(process.env.SPECIMEN_BENCH_PEERS_TIMEOUT_S ?? 2700) * 1000;

interface Tool {
  key: string;
  label: string;
  script: string;
  args: string[];
  /** Requirement names (as in requirements.txt) this tool needs. */
  needs: string[];
  /** Whether (b) can be measured. */
  reads: boolean;
}

const OURS: Tool = {
  key: 'specimen',
  label: 'Specimen Vault (Python)',
  script: 'peer_specimen.py',
  args: [],
  needs: ['pyarrow'],
  reads: true,
};
const PEERS: Tool[] = [
  {
    key: 'mlflow_sqlite',
    label: 'MLflow, SQLite store',
    script: 'peer_mlflow.py',
    args: ['--store', 'sqlite'],
    needs: ['mlflow'],
    reads: true,
  },
  {
    key: 'mlflow_file',
    label: 'MLflow, file store',
    script: 'peer_mlflow.py',
    args: ['--store', 'file'],
    needs: ['mlflow'],
    reads: true,
  },
  {
    key: 'tensorboard',
    label: 'TensorBoard (tensorboardX)',
    script: 'peer_tensorboard.py',
    args: [],
    needs: ['tensorboard', 'tensorboardx'],
    reads: true,
  },
  {
    key: 'wandb',
    label: 'W&B offline',
    script: 'peer_wandb.py',
    args: [],
    needs: ['wandb'],
    reads: false,
  },
  { key: 'trackio', label: 'Trackio', script: 'peer_trackio.py', args: [], needs: ['trackio'], reads: true },
  { key: 'aim', label: 'Aim', script: 'peer_aim.py', args: [], needs: ['aim'], reads: true },
];

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function requirementName(line: string): string {
  return line
    .split(/[=<>!~;[ ]/)[0]!
    .trim()
    .toLowerCase();
}

/**
 * Creates or reuses the peers' virtual environment and installs each requirement line on its own.
 * Returns pip's last error line for each requirement that did not install.
 */
function ensureVenv(): Map<string, string> {
  const failed = new Map<string, string>();
  if (!fs.existsSync(PYTHON)) {
    fs.mkdirSync(path.dirname(VENV), { recursive: true });
    console.log(`creating ${VENV} (python3 -m venv)`);
    const r = spawnSync('python3', ['-m', 'venv', VENV], { encoding: 'utf8' });
    if (r.status !== 0) {
      const why = lastLine(r.stderr) || r.error?.message || `exit ${r.status}`;
      failed.set('*', `python3 -m venv failed: ${why}`);
      return failed;
    }
  }
  const lines = fs
    .readFileSync(REQUIREMENTS, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const freeze = spawnSync(PYTHON, ['-m', 'pip', 'freeze', '--all'], { encoding: 'utf8' }).stdout ?? '';
  const installed = new Set(freeze.split('\n').map((l) => l.trim().toLowerCase()));
  for (const line of lines) {
    if (installed.has(line.toLowerCase())) continue;
    console.log(`pip install ${line}`);
    const r = spawnSync(PYTHON, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', line], {
      encoding: 'utf8',
      timeout: 20 * 60_000,
    });
    if (r.status !== 0) failed.set(requirementName(line), lastLine(r.stderr) || `pip exited ${r.status}`);
  }
  // The package under test is this checkout's, reinstalled every time (no dependencies: it has none).
  const r = spawnSync(
    PYTHON,
    [
      '-m',
      'pip',
      'install',
      '-q',
      '--disable-pip-version-check',
      '--no-deps',
      '--force-reinstall',
      path.join(ROOT, 'python'),
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) failed.set('specimen-vault', lastLine(r.stderr) || `pip exited ${r.status}`);
  return failed;
}

function lastLine(text: string | undefined): string {
  return (text ?? '').trim().split('\n').filter(Boolean).at(-1)?.trim() ?? '';
}

/** Versions of the peers' packages, for the record. */
function versions(): Record<string, string> {
  const code =
    'import json, importlib.metadata as m\n' +
    'out = {}\n' +
    "for n in ['mlflow', 'tensorboard', 'tensorboardX', 'wandb', 'trackio', 'aim', 'pyarrow', 'specimen-vault']:\n" +
    '    try: out[n] = m.version(n)\n' +
    '    except Exception: pass\n' +
    'print(json.dumps(out))';
  const r = spawnSync(PYTHON, ['-c', code], { encoding: 'utf8' });
  try {
    return JSON.parse(r.stdout) as Record<string, string>;
  } catch {
    return {};
  }
}

/** Apparent size of every file under `dir`. */
function dirBytes(dir: string): number {
  let total = 0;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) total += fs.statSync(p).size;
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return total;
}

type Out = Record<string, unknown>;

class ScriptError extends Error {
  constructor(
    message: string,
    readonly wallMs: number,
    readonly timedOut: boolean,
  ) {
    super(message);
  }
}

/** Runs one peer script; its wall time (spawn to exit) and the JSON object it printed last. */
function runScript(tool: Tool, mode: string, wd: string, nums: number[]): { wallMs: number; out: Out } {
  const t0 = performance.now();
  const r = spawnSync(
    PYTHON,
    [path.join(PEERS_DIR, tool.script), ...tool.args, mode, wd, ...nums.map(String)],
    {
      cwd: wd,
      encoding: 'utf8',
      timeout: SCRIPT_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
      env: {
        ...process.env,
        SPECIMEN_CLI: `${process.execPath} ${CLI}`,
        NO_COLOR: '1',
        WANDB_SILENT: 'true',
        WANDB_MODE: 'offline',
        // Nothing of a peer's leaves the machine or lands in the user's home.
        MLFLOW_TRACKING_URI: '',
        HF_HUB_OFFLINE: '1',
        HOME: wd,
      },
    },
  );
  const wallMs = performance.now() - t0;
  if (r.status !== 0) {
    const timedOut = r.signal === 'SIGTERM' && wallMs >= SCRIPT_TIMEOUT_MS;
    const why = timedOut
      ? `stopped after ${SCRIPT_TIMEOUT_MS / 1000} s`
      : r.error
        ? r.error.message
        : lastLine(r.stderr) || `exit ${r.status}`;
    throw new ScriptError(`${tool.script} ${mode}: ${why}`, wallMs, timedOut);
  }
  const line = r.stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) throw new ScriptError(`${tool.script} ${mode}: printed no JSON line`, wallMs, false);
  return { wallMs, out: JSON.parse(line) as Out };
}

/** A fresh working directory for `tool`, prepared as a user would have it before the run (untimed). */
function prepare(tool: Tool, label: string): string {
  const wd = fs.mkdtempSync(path.join(os.tmpdir(), `sv-bench-peers-${label}-`));
  if (tool === OURS || tool.key === 'ts') {
    execFileSync(process.execPath, [CLI, 'init', wd], { stdio: 'ignore' });
    execFileSync(
      process.execPath,
      [CLI, 'new', SPECIMEN, '--domain', 'training', '--method', 'fine_tuning', '--vault', wd],
      { stdio: 'ignore' },
    );
  } else {
    try {
      runScript(tool, 'setup', wd, []);
    } catch (err) {
      fs.rmSync(wd, { recursive: true, force: true });
      throw err;
    }
  }
  return wd;
}

/** (a) from TypeScript, in this process: start, STEPS rows through MetricsWriter, finish (seal). */
async function tsWrite(steps: number): Promise<{ ms: number; bytes: number }> {
  const wd = prepare({ ...OURS, key: 'ts' }, 'ts');
  try {
    const before = dirBytes(wd);
    const t0 = performance.now();
    const vault = await Vault.open(wd);
    const storage = await SpecimenStorage.open(SPECIMEN, { vault });
    await storage.startRun({ config: { i: 0 } });
    const log = storage.metricsWriter();
    for (let step = 0; step < steps; step++)
      log.log({
        step,
        loss: 1 / (step + 1),
        acc: step / steps,
        lr: 0.1 * (1 - step / steps),
        grad_norm: 1 + ((step * 37) % 101) / 101,
      });
    await storage.finish({});
    const ms = performance.now() - t0;
    return { ms, bytes: dirBytes(wd) - before };
  } finally {
    fs.rmSync(wd, { recursive: true, force: true });
  }
}

function expectedTop(runs: number): number[] {
  return [...Array(runs).keys()].sort((a, b) => ((a * 7919) % 1000) - ((b * 7919) % 1000)).slice(0, 10);
}

interface Samples {
  writeMs: number[];
  readMs: number[];
  sweepMs: number[];
  bytes: number[];
  notes: Set<string>;
  /** What failed, by phase ('(a)(b)', '(c)'). */
  errors: Record<string, string>;
  skipped?: string;
  detail: Record<string, number[]>;
}

function newSamples(): Samples {
  return { writeMs: [], readMs: [], sweepMs: [], bytes: [], notes: new Set(), detail: {}, errors: {} };
}

function note(s: Samples, key: string, v: unknown): void {
  if (typeof v !== 'number') return;
  const xs = s.detail[key] ?? [];
  xs.push(v);
  s.detail[key] = xs;
}

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const steps = options.quick ? 5_000 : 25_000;
  const runs = options.quick ? 100 : 1_000;
  const reps = 3;
  // (c) at full size takes over half an hour a round on a loaded 2-core machine: fewer rounds on request.
  const sweepRounds = Math.min(reps, Number(process.env.SPECIMEN_BENCH_PEERS_SWEEP_ROUNDS ?? reps) || reps);
  const chosen = options.peers && options.peers.length > 0 ? new Set(options.peers) : undefined;
  const peers = PEERS.filter(
    (p) => !chosen || chosen.has(p.key) || [...chosen].some((c) => p.key.startsWith(`${c}_`)),
  );
  const loadStart = os.loadavg();

  const failedInstalls = ensureVenv();
  if (failedInstalls.has('*') || failedInstalls.has('specimen-vault') || failedInstalls.has('pyarrow')) {
    console.log(
      `skipped: the peers' Python environment is not usable: ${[...failedInstalls.values()].join('; ')}`,
    );
    return [];
  }
  const vers = versions();
  console.log(
    `peers venv ${VENV}: ${Object.entries(vers)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  console.log(
    `(a) ${steps} steps × 4 metrics, (c) ${runs} runs × ${SWEEP_STEPS} steps; ${reps} rounds, ${sweepRounds} of (c)`,
  );

  const samples = new Map<string, Samples>([[OURS.key, newSamples()]]);
  const ts = { ms: [] as number[], bytes: [] as number[] };
  for (const p of peers) {
    const s = newSamples();
    const missing = p.needs.find((n) => failedInstalls.has(n));
    if (missing) s.skipped = `${missing} did not install: ${failedInstalls.get(missing)}`;
    samples.set(p.key, s);
  }
  const live = (): Tool[] => [OURS, ...peers.filter((p) => !samples.get(p.key)!.skipped)];

  const measure = (tool: Tool, label: string, fn: () => void): void => {
    const s = samples.get(tool.key)!;
    if (s.errors[label] || s.skipped) return;
    try {
      fn();
    } catch (err) {
      if (!(err instanceof ScriptError)) throw err;
      if (label === '(c)' && err.timedOut) {
        // A sweep that outlasts the limit still says something: at least this long.
        s.sweepMs.push(err.wallMs);
        s.notes.add(`the sweep was ${err.message.split(': ').at(-1)}: its figure is a lower bound`);
      } else s.errors[label] = err.message;
      console.log(`  ${tool.key} ${label}: FAILED ${err.message}`);
    }
  };

  for (let rep = 0; rep < reps; rep++) {
    // Ours first, then the peers in an order rotated each round, so drift in the machine's load is shared.
    const order = live().slice(1);
    const rotated = [
      OURS,
      ...order.slice(rep % Math.max(order.length, 1)),
      ...order.slice(0, rep % Math.max(order.length, 1)),
    ];
    const t = await tsWrite(steps);
    ts.ms.push(t.ms);
    ts.bytes.push(t.bytes);
    for (const tool of rotated) {
      measure(tool, '(a)(b)', () => {
        const s = samples.get(tool.key)!;
        const wd = prepare(tool, tool.key);
        try {
          const before = dirBytes(wd);
          const w = runScript(tool, 'write', wd, [steps]);
          s.writeMs.push(w.wallMs);
          s.bytes.push(dirBytes(wd) - before);
          for (const k of ['import_ms', 'init_ms', 'log_ms', 'finish_ms']) note(s, k, w.out[k]);
          if (tool.reads) {
            const r = runScript(tool, 'read', wd, [steps]).out;
            s.readMs.push(r.read_ms as number);
            note(s, 'read_index_ms', r.index_ms);
            if (r.rows !== steps) s.notes.add(`read returned ${String(r.rows)} of ${steps} rows`);
            if (typeof r.last !== 'number' || Math.abs(r.last - (r.expected_last as number)) > 1e-6)
              s.notes.add(`read's last value ${String(r.last)} is not the logged ${String(r.expected_last)}`);
          }
          console.log(
            `  round ${rep + 1} ${tool.key}: write ${(w.wallMs / 1000).toFixed(2)} s, ` +
              `read ${s.readMs.at(-1)?.toFixed(1) ?? '-'} ms, ${s.bytes.at(-1)} bytes`,
          );
        } finally {
          fs.rmSync(wd, { recursive: true, force: true });
        }
      });
    }
    for (const tool of rep < sweepRounds ? rotated : []) {
      measure(tool, '(c)', () => {
        const s = samples.get(tool.key)!;
        const wd = prepare(tool, `${tool.key}-sweep`);
        try {
          const r = runScript(tool, 'sweep', wd, [runs, SWEEP_STEPS]);
          s.sweepMs.push(r.wallMs);
          note(s, 'sweep_loop_ms', r.out.sweep_ms);
          note(s, 'query_ms', r.out.query_ms);
          note(s, 'index_ms', r.out.index_ms);
          if (r.out.skipped_query) s.notes.add(String(r.out.skipped_query));
          else if (JSON.stringify(r.out.top) !== JSON.stringify(expectedTop(runs)))
            s.notes.add(
              `sweep's 10 best ${JSON.stringify(r.out.top)} are not ${JSON.stringify(expectedTop(runs))}`,
            );
          console.log(`  round ${rep + 1} ${tool.key}: sweep ${(r.wallMs / 1000).toFixed(1)} s`);
        } finally {
          fs.rmSync(wd, { recursive: true, force: true });
        }
      });
    }
  }

  const ours = samples.get(OURS.key)!;
  if (Object.keys(ours.errors).length > 0)
    throw new Error(`peers: ours failed: ${Object.values(ours.errors).join('; ')}`);
  const o = {
    write: median(ours.writeMs),
    read: median(ours.readMs),
    sweep: median(ours.sweepMs),
    bytes: median(ours.bytes),
  };
  const results: BenchResult[] = [];
  const rows: Record<string, unknown>[] = [];
  const table = new Table({
    head: [
      'peer ÷ ours',
      `(a) one run, ${steps} steps`,
      '(b) read one metric',
      `(c) ${runs}-run sweep + 10 best`,
      '(d) bytes on disk',
    ],
    style: { head: [], border: [], compact: true },
  });
  const secs = (ms: number): string => (ms >= 100 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
  const kb = (b: number): string => `${(b / 1024).toFixed(0)} KiB`;
  table.push([OURS.label, secs(o.write), secs(o.read), secs(o.sweep), kb(o.bytes)]);
  table.push([
    'Specimen Vault (TypeScript)',
    `${secs(median(ts.ms))} in-process`,
    '',
    '',
    kb(median(ts.bytes)),
  ]);
  for (const p of peers) {
    const s = samples.get(p.key)!;
    if (s.skipped) {
      table.push([p.label, { colSpan: 4, content: `skipped: ${s.skipped}` }]);
      rows.push({ peer: p.key, skipped: s.skipped });
      continue;
    }
    const figures: [string, string, number[], number, string][] = [
      ['write', 'ms', s.writeMs, o.write, `one run of ${steps} steps × 4 metrics from Python, fresh process`],
      ['read', 'ms', s.readMs, o.read, 'the full history of one metric of that run, after imports'],
      [
        'sweep',
        'ms',
        s.sweepMs,
        o.sweep,
        `${runs} runs × ${SWEEP_STEPS} steps from Python, then the 10 best by final loss`,
      ],
      ['size', 'bytes', s.bytes, o.bytes, `bytes written for the run of (a)`],
    ];
    const cells: string[] = [p.label];
    const row: Record<string, unknown> = { peer: p.key, label: p.label, errors: s.errors };
    for (const [what, unit, xs, ourValue, description] of figures) {
      if (xs.length === 0) {
        const failed = s.errors[what === 'sweep' ? '(c)' : '(a)(b)'];
        cells.push(
          failed ? `failed: ${failed.slice(0, 60)}` : what === 'read' && !p.reads ? 'n/a (no reader)' : '-',
        );
        continue;
      }
      const theirs = median(xs);
      const ratio = theirs / ourValue;
      const target = what === 'size' ? '> 1.0' : '≥ 10';
      const pass = what === 'size' ? ratio > 1 : ratio >= 10;
      cells.push(
        unit === 'bytes'
          ? `${ratio.toFixed(2)}× (${kb(theirs)} / ${kb(ourValue)})`
          : `${ratio.toFixed(2)}× (${secs(theirs)} / ${secs(ourValue)})`,
      );
      row[what] = { ratio, peer: theirs, ours: ourValue, unit, samples: xs };
      results.push({
        name: `peers.${what}.${p.key}`,
        description: `${description}: ${p.label} ÷ Specimen Vault`,
        value: ourValue,
        baseline: theirs,
        unit,
        ratio,
        target,
        pass,
        details: {
          rounds: xs.length,
          ...Object.fromEntries(Object.entries(s.detail).map(([k, v]) => [k, median(v)])),
          ...(s.notes.size > 0 ? { notes: [...s.notes].join('; ') } : {}),
        },
      });
    }
    if (s.notes.size > 0) row.notes = [...s.notes];
    rows.push(row);
    table.push(cells);
  }
  console.log(`\n${table.toString()}`);
  for (const p of peers) {
    const s = samples.get(p.key)!;
    for (const n of s.notes) console.log(`note: ${p.label}: ${n}`);
  }
  console.log(
    `ours (Python) breakdown: ${Object.entries(ours.detail)
      .map(([k, v]) => `${k} ${median(v).toFixed(0)}`)
      .join(', ')}; load ${loadStart.map((x) => x.toFixed(2)).join(' ')} → ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  if (options.json) {
    const out = path.join(import.meta.dirname, 'results', `peers${options.quick ? '-quick' : ''}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(
      out,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          sizes: { steps, runs, sweep_steps: SWEEP_STEPS, rounds: reps, sweep_rounds: sweepRounds },
          load: { start: loadStart, end: os.loadavg() },
          versions: vers,
          ours: {
            ...o,
            typescript_write_ms: median(ts.ms),
            typescript_bytes: median(ts.bytes),
            detail: ours.detail,
          },
          peers: rows,
        },
        null,
        2,
      )}\n`,
    );
    console.log(`wrote ${out}`);
  }
  return results;
}
