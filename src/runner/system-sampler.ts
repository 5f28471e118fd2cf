/**
 * System metrics of a `specimen run`: every few seconds the runner samples the protocol's process tree
 * (CPU % and resident memory summed over the child and its descendants, read from `/proc` on Linux and
 * from `ps -o pid=,ppid=,rss=,pcpu= -A` elsewhere) and, where
 * `nvidia-smi` is present, GPU utilisation and memory, as one JSON line of `system.jsonl` in the run —
 * the same columns the Python package writes (python/specimen_vault/_system.py), so sealing converts
 * either into `system.parquet`.
 *
 * Sampling never stalls or ends the run: each sample is asynchronous, a sample still in flight skips the
 * next tick, and failures are counted and reported once.
 *
 * @example
 * const sampler = new SystemSampler({ dir, pid: child.pid!, intervalS: 5, onWarning: console.warn })
 * sampler.start()
 * ...
 * await sampler.stop()   // one last sample, so even a short run has its peak
 * sampler.failures       // samples that could not be taken or written
 */

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { SYSTEM_JSONL_FILE } from '../format/layout.js';

/** Default sampling interval in seconds (as in the Python package). */
export const DEFAULT_SYSTEM_INTERVAL_S = 5;

/** Where the process tree is read from. */
export type SystemSource = 'proc' | 'ps';

/**
 * The source used when none is given: `/proc` on Linux, `ps` elsewhere. `SPECIMEN_SYSTEM_SOURCE=ps` forces
 * `ps` on Linux too — only so tests can check the fallback against `/proc` on the same machine.
 */
export function defaultSystemSource(): SystemSource {
  if (process.env.SPECIMEN_SYSTEM_SOURCE === 'ps') return 'ps';
  return process.platform === 'linux' ? 'proc' : 'ps';
}

let procUnits: Promise<{ pageSize: number; clockTicks: number }> | undefined;

/**
 * The kernel's page size (RSS in `/proc/<pid>/stat` is in pages: 4 KiB on x86-64, 16 or 64 KiB on some
 * arm64 and POWER kernels) and clock ticks per second, asked of `getconf` once per process.
 */
export function procUnitsOnce(): Promise<{ pageSize: number; clockTicks: number }> {
  const ask = (name: string, fallback: number) =>
    new Promise<number>((resolve) => {
      execFile('getconf', [name], { timeout: 5000 }, (err, out) => {
        const n = Number(String(out).trim());
        resolve(!err && Number.isInteger(n) && n > 0 ? n : fallback);
      });
    });
  // The fallbacks are Linux's USER_HZ and the common page size, for a system without getconf.
  procUnits ??= Promise.all([ask('PAGESIZE', 4096), ask('CLK_TCK', 100)]).then(([pageSize, clockTicks]) => ({
    pageSize,
    clockTicks,
  }));
  return procUnits;
}

/** Options of SystemSampler. */
export interface SystemSamplerOptions {
  /** The run directory that receives `system.jsonl`. */
  dir: string;
  /** Root of the process tree to sample (the protocol's process). */
  pid: number;
  /** Seconds between samples. */
  intervalS: number;
  /** Receives one warning when sampling fails (then the failures are only counted). */
  onWarning?: (message: string) => void;
  /** `/proc` (tests point it elsewhere). */
  procDir?: string;
  /** Where the process tree is read (default: defaultSystemSource()). */
  source?: SystemSource;
}

/**
 * One process: parent, RSS bytes, and CPU as cumulative seconds (`/proc`) or as the `%cpu` `ps` reports
 * (averaged by `ps` itself, so summed as it is).
 */
interface ProcStat {
  ppid: number;
  rss: number;
  cpuS?: number;
  pcpu?: number;
}

/** Samples a process tree into `system.jsonl` between start() and stop(). */
export class SystemSampler {
  /** Samples that failed (could not read /proc or append the line). */
  failures = 0;
  /** Samples written. */
  samples = 0;
  private readonly options: SystemSamplerOptions;
  private readonly file: string;
  private readonly proc: string;
  /** Where the process tree is read. */
  readonly source: SystemSource;
  private readonly t0 = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private last: { t: number; cpuS: number } | undefined;
  private gpu: boolean | undefined;
  private warned = false;

  constructor(options: SystemSamplerOptions) {
    this.options = options;
    this.file = path.join(options.dir, SYSTEM_JSONL_FILE);
    this.proc = options.procDir ?? '/proc';
    this.source = options.source ?? defaultSystemSource();
  }

  /** Takes a first sample now, then one every interval. */
  start(): void {
    if (this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), Math.max(50, this.options.intervalS * 1000));
    // The sampler never keeps the runner alive on its own.
    this.timer.unref();
  }

  /** Stops sampling after one last sample. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
    await this.sampleOnce();
  }

  private tick(): void {
    // A slow sample (nvidia-smi hanging, a huge /proc) skips ticks instead of piling up.
    if (this.inFlight) return;
    this.inFlight = this.sampleOnce().finally(() => {
      this.inFlight = undefined;
    });
  }

  private async sampleOnce(): Promise<void> {
    try {
      const row = await this.sample();
      if (row === undefined) return;
      await fsp.appendFile(this.file, `${JSON.stringify(row)}\n`);
      this.samples++;
    } catch (err) {
      this.failures++;
      if (!this.warned) {
        this.warned = true;
        this.options.onWarning?.(
          `system metrics: a sample failed (${(err as Error).message}); failures are counted in the run manifest as system_sample_failures`,
        );
      }
    }
  }

  /** One row, or undefined when the process tree has gone (the protocol exited). */
  private async sample(): Promise<Record<string, number | null> | undefined> {
    const now = Date.now();
    const tree = await this.tree();
    if (tree.length === 0) return undefined;
    let cpuS = 0;
    let pcpu = 0;
    let rss = 0;
    for (const s of tree) {
      cpuS += s.cpuS ?? 0;
      pcpu += s.pcpu ?? 0;
      rss += s.rss;
    }
    const row: Record<string, number | null> = {
      time: Math.round(now) / 1000,
      elapsed_s: Math.round(now - this.t0) / 1000,
      cpu_percent:
        this.source === 'ps'
          ? Math.round(pcpu * 100) / 100
          : this.last && now > this.last.t
            ? Math.round((10000 * (cpuS - this.last.cpuS)) / ((now - this.last.t) / 1000)) / 100
            : null,
      rss_bytes: rss,
    };
    this.last = { t: now, cpuS };
    const gpu = await this.sampleGpu();
    if (gpu) {
      row.gpu_util_percent = gpu.util;
      row.gpu_memory_bytes = gpu.memory;
    }
    return row;
  }

  /** The stats of the root process and its descendants (empty when the root has exited). */
  private async tree(): Promise<ProcStat[]> {
    const stats = this.source === 'ps' ? await psTable() : await this.procTable();
    const children = new Map<number, number[]>();
    for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
    const out: ProcStat[] = [];
    const todo = stats.has(this.options.pid) ? [this.options.pid] : [];
    while (todo.length > 0) {
      const pid = todo.pop() as number;
      const s = stats.get(pid);
      if (s) out.push(s);
      todo.push(...(children.get(pid) ?? []));
    }
    return out;
  }

  /** Every process of `/proc`. */
  private async procTable(): Promise<Map<number, ProcStat>> {
    const units = await procUnitsOnce();
    const names = await fsp.readdir(this.proc);
    const stats = new Map<number, ProcStat>();
    // Read synchronously: a /proc file is generated in memory, a few microseconds each, while one promise
    // per file costs the runner eight times the CPU (four thread-pool round trips per read).
    for (const n of names) {
      if (!/^\d+$/.test(n)) continue;
      const s = readStat(path.join(this.proc, n, 'stat'), units);
      if (s) stats.set(Number(n), s);
    }
    return stats;
  }

  /** GPU utilisation and memory summed over the GPUs, or undefined without nvidia-smi. */
  private async sampleGpu(): Promise<{ util: number; memory: number } | undefined> {
    if (this.gpu === false) return undefined;
    const out = await new Promise<string | undefined>((resolve) => {
      execFile(
        'nvidia-smi',
        ['--query-gpu=utilization.gpu,memory.used', '--format=csv,noheader,nounits'],
        { timeout: 5000 },
        (err, stdout) => {
          // No nvidia-smi: asked once, never again. A failing one is retried next sample.
          if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') this.gpu = false;
          resolve(err ? undefined : stdout);
        },
      );
    });
    if (out === undefined) return undefined;
    this.gpu = true;
    return parseNvidiaSmi(out);
  }
}

/** Sums `utilization.gpu, memory.used` (MiB) lines of nvidia-smi's CSV; undefined when none parse. */
export function parseNvidiaSmi(out: string): { util: number; memory: number } | undefined {
  let util = 0;
  let memory = 0;
  let seen = false;
  for (const line of out.trim().split('\n')) {
    const [u, m] = line.split(',').map((p) => Number(p.trim()));
    if (u === undefined || m === undefined || !Number.isFinite(u) || !Number.isFinite(m)) continue;
    util += u;
    memory += Math.round(m * 1024 * 1024);
    seen = true;
  }
  return seen ? { util, memory } : undefined;
}

/** Every process as `ps -o pid=,ppid=,rss=,pcpu= -A` lists it (RSS in KiB), for systems without `/proc`. */
async function psTable(): Promise<Map<number, ProcStat>> {
  const out = await new Promise<string>((resolve, reject) => {
    execFile(
      'ps',
      ['-o', 'pid=,ppid=,rss=,pcpu=', '-A'],
      { timeout: 10_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
  });
  return parsePs(out);
}

/** Parses the lines of `ps -o pid=,ppid=,rss=,pcpu= -A`; lines that do not parse are skipped. */
export function parsePs(out: string): Map<number, ProcStat> {
  const stats = new Map<number, ProcStat>();
  for (const line of out.split('\n')) {
    const [pid, ppid, rss, pcpu] = line.trim().split(/\s+/).map(Number);
    if (pid === undefined || ppid === undefined || rss === undefined || pcpu === undefined) continue;
    if (![pid, ppid, rss].every(Number.isInteger) || !Number.isFinite(pcpu)) continue;
    stats.set(pid, { ppid, rss: rss * 1024, pcpu });
  }
  return stats;
}

/** Parses `/proc/<pid>/stat`; undefined when the process went away meanwhile. */
// One buffer for every read: a stat line is a few hundred bytes (the command name is at most 64).
const STAT_BUFFER = Buffer.alloc(4096);

function readStat(file: string, units: { pageSize: number; clockTicks: number }): ProcStat | undefined {
  let text: string;
  let fd: number | undefined;
  try {
    // open + one read: readFileSync also stats the file and reads again to find its end (a third of the cost).
    fd = fs.openSync(file, 'r');
    text = STAT_BUFFER.toString('latin1', 0, fs.readSync(fd, STAT_BUFFER, 0, STAT_BUFFER.length, 0));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  // The command name is in parentheses and may hold spaces: fields follow the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: state(0) ppid(1) … utime(11) stime(12) … rss(21) in pages.
  if (fields.length < 22) return undefined;
  return {
    ppid: Number(fields[1]),
    cpuS: (Number(fields[11]) + Number(fields[12])) / units.clockTicks,
    rss: Number(fields[21]) * units.pageSize,
  };
}
