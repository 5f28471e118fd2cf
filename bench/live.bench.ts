/**
 * Live refresh of a running run's JSON lines: a run has logged 1M rows (200k with --quick) of five scalar
 * columns to `metrics.jsonl`, the server's metrics cache holds them, the writer appends 1,000 more, and
 * the cache is asked again (what a chart's poll does). Compared with reading only the new bytes (open,
 * read the appended range, close) in the same run: a refresh must cost about that, whatever the rows
 * before it (target ≤ 20×: the refresh also parses the lines and builds the snapshot). The details give
 * the full re-read of the file for context.
 *
 * @example
 * node --import tsx bench/run.ts --only live
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MetricsCache } from '../src/server/metrics-cache.js';
import { LiveJsonl } from '../src/storage/metrics/live-jsonl.js';
import type { BenchOptions, BenchResult } from './harness.js';

function block(from: number, n: number): string {
  let s = '';
  for (let i = from; i < from + n; i++)
    s += `{"step": ${i}, "loss": ${1 / (i + 1)}, "acc": ${i / (i + 7)}, "lr": 0.001, "grad_norm": ${(i % 97) / 13}}\n`;
  return s;
}

async function readRange(file: string, from: number, to: number): Promise<number> {
  const fh = await fsp.open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(to - from);
    const { bytesRead } = await fh.read(buf, 0, to - from, from);
    return bytesRead;
  } finally {
    await fh.close();
  }
}

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const rows = options.quick ? 200_000 : 1_000_000;
  const add = 1000;
  const rounds = options.quick ? 10 : 20;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sv-bench-live-'));
  try {
    const file = path.join(dir, 'metrics.jsonl');
    const fd = fs.openSync(file, 'w');
    for (let i = 0; i < rows; i += 50_000) fs.writeSync(fd, block(i, Math.min(50_000, rows - i)));
    fs.closeSync(fd);
    const cache = new MetricsCache(async () => undefined);
    const t0 = performance.now();
    const first = await cache.get(dir, 'bench');
    const initialMs = performance.now() - t0;
    if (first?.rows !== rows) throw new Error(`live bench: read ${first?.rows} rows, expected ${rows}`);

    let oursMs = Number.POSITIVE_INFINITY;
    let baseMs = Number.POSITIVE_INFINITY;
    let total = rows;
    for (let r = 0; r < rounds; r++) {
      const before = fs.statSync(file).size;
      fs.appendFileSync(file, block(total, add));
      total += add;
      const after = fs.statSync(file).size;
      // Alternate which goes first so neither always finds the appended bytes colder in the page cache.
      const base = async () => {
        const t = performance.now();
        await readRange(file, before, after);
        baseMs = Math.min(baseMs, performance.now() - t);
      };
      const ours = async () => {
        const t = performance.now();
        const m = await cache.get(dir, 'bench');
        m?.numeric('loss');
        oursMs = Math.min(oursMs, performance.now() - t);
        if (m?.rows !== total)
          throw new Error(`live bench: ${m?.rows} rows after refresh, expected ${total}`);
      };
      if (r % 2 === 0) {
        await base();
        await ours();
      } else {
        await ours();
        await base();
      }
    }
    const t1 = performance.now();
    const full = new LiveJsonl(file);
    await full.refresh();
    const fullMs = performance.now() - t1;
    return [
      {
        name: `live.refresh.${rows / 1000}k+${add}`,
        description: `cache refresh of a running run's metrics.jsonl (${rows} rows, ${add} appended) vs reading the appended bytes alone`,
        value: oursMs,
        baseline: baseMs,
        unit: 'ms',
        ratio: oursMs / baseMs,
        target: '≤ 20',
        pass: oursMs / baseMs <= 20,
        details: {
          initial_read_ms: initialMs,
          full_reread_ms: fullMs,
          refresh_vs_full_reread: oursMs / fullMs,
        },
      },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
