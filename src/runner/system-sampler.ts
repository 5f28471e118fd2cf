/**
 * System metrics of a `specimen run`: every few seconds the runner samples the protocol's process tree
 * (CPU % and resident memory summed over the child and its descendants, read from `/proc`) and, where
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
import fsp from 'node:fs/promises';
import path from 'node:path';
import { SYSTEM_JSONL_FILE } from '../format/layout.js';

/** Default sampling interval in seconds (as in the Python package). */
export const DEFAULT_SYSTEM_INTERVAL_S = 5;

// Linux's USER_HZ (100 on every architecture) and the page size of x86-64 and most arm64 kernels.
const CLK_TCK = 100;
const PAGE_SIZE = 4096;

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
}

/** One parsed `/proc/<pid>/stat`: parent, CPU seconds, RSS bytes. */
interface ProcStat {
  ppid: number;
  cpuS: number;
  rss: number;
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
    let rss = 0;
    for (const s of tree) {
      cpuS += s.cpuS;
      rss += s.rss;
    }
    const row: Record<string, number | null> = {
      time: Math.round(now) / 1000,
      elapsed_s: Math.round(now - this.t0) / 1000,
      cpu_percent:
        this.last && now > this.last.t
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
    const names = await fsp.readdir(this.proc);
    const stats = new Map<number, ProcStat>();
    await Promise.all(
      names
        .filter((n) => /^\d+$/.test(n))
        .map(async (n) => {
          const s = await readStat(path.join(this.proc, n, 'stat'));
          if (s) stats.set(Number(n), s);
        }),
    );
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

/** Parses `/proc/<pid>/stat`; undefined when the process went away meanwhile. */
async function readStat(file: string): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'latin1');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may hold spaces: fields follow the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: state(0) ppid(1) … utime(11) stime(12) … rss(21) in pages.
  if (fields.length < 22) return undefined;
  return {
    ppid: Number(fields[1]),
    cpuS: (Number(fields[11]) + Number(fields[12])) / CLK_TCK,
    rss: Number(fields[21]) * PAGE_SIZE,
  };
}
