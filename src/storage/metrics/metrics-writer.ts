/**
 * Streaming metrics writer for training loops. `log()` is synchronous and cheap: it stores the row's values
 * in typed-array column buffers. A full buffer is handed to a worker thread (transferred, not copied) that
 * writes it as one Parquet part file; `close()` merges the parts into `runDir/metrics.parquet`.
 *
 * A short run never starts the worker: the buffers start small and grow, the worker (and DuckDB in it) is
 * started only when a first batch is handed over — a full buffer, the flush interval, or flush() — and a
 * run that closes with at most DIRECT_MAX_ROWS rows still buffered has them encoded on this thread
 * (`encodeColumnsParquet`), which costs well under a millisecond where starting the worker costs tens. The
 * file has the same schema either way; sealing then reuses the summaries computed here (written.ts).
 *
 * The loop calling log() may never yield to the event loop, so nothing here depends on it: back-pressure is
 * a shared counter of batches in flight (at most two; log() blocks in Atomics.wait beyond that), worker
 * replies are read with receiveMessageOnPort, and the flush interval is a flag the worker raises in shared
 * memory. A crash loses at most the rows not yet handed over; every finished part stays readable
 * (readRunMetrics reads them when metrics.parquet is missing).
 *
 * @example
 * const w = new MetricsWriter({ runDir, runId: '20250101_120000' })
 * for (let step = 0; step < 1e6; step++) w.log({ step, loss: 1 / (step + 1) })
 * const info = await w.close() // { path: `${runDir}/metrics.parquet`, rows: 1000000, ... }
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { MessageChannel, type MessagePort, receiveMessageOnPort, type Worker } from 'node:worker_threads';
import { MetricsSchemaError, UsageError } from '../../errors.js';
import { tempPathFor } from '../../format/atomic-write.js';
import { METRICS_FILE, PARTS_DIR } from '../../format/layout.js';
import { encodeColumnsParquet } from '../../parquet/write-columns.js';
import { asStorageFull } from '../disk-full.js';
import { type Cells, type Column, type MetricsValue, RowBuffer, schemaOf } from './columns.js';
import {
  ATTENTION_REPLY,
  ATTENTION_TICK,
  CTL_ATTENTION,
  CTL_BYTES,
  CTL_DEAD,
  CTL_INFLIGHT,
  type FlushWorkerData,
  type FromWorker,
  type ToWorker,
  type WireColumn,
} from './flush-protocol.js';
import { startFlushWorker } from './flush-start.js';
import { summarizeColumnData } from './summary.js';
import type { MetricsFileInfo } from './types.js';
import { rememberWritten } from './written.js';

export interface MetricsWriterOptions {
  runDir: string;
  runId: string;
  /** Rows per part file (default 262,144: large enough for good row groups, small enough for memory). */
  flushRows?: number;
  /** A row logged is on disk within about this time of the next log() call (default 5000). */
  flushIntervalMs?: number;
  /**
   * At close, at most this many rows never handed over are encoded on the calling thread (default
   * DIRECT_MAX_ROWS). The seal's conversion of `metrics.jsonl` raises it: there nothing else waits on this
   * thread, and starting DuckDB (in the worker, then again to summarise the file) costs more than encoding
   * a buffer of rows in JavaScript.
   * @internal
   */
  directMaxRows?: number;
}

/** Batches posted to the worker and not yet written; log() waits beyond this. */
const MAX_IN_FLIGHT = 2;
export const DEFAULT_FLUSH_ROWS = 1 << 18;
/** Rows the buffers hold at first; they grow fourfold up to flushRows. */
const INITIAL_ROWS = 1024;
/**
 * At close, at most this many rows never handed over are encoded on the calling thread (gzip, one row
 * group); more go through the worker, whose zstd files are smaller for long runs.
 */
export const DIRECT_MAX_ROWS = 16_384;

/** The error of a row logged after close(): the caller's mistake, so tagged (exit 2), not an internal error. */
function afterClose(): UsageError {
  return new UsageError('metrics: log() after close(); log every row before closing the writer');
}

/** Streams metrics rows to Parquet part files through a worker thread; see the module comment. */
export class MetricsWriter {
  private readonly buffer: RowBuffer;
  private readonly ctl = new Int32Array(new SharedArrayBuffer(CTL_BYTES));
  private worker: Worker | undefined;
  private port!: MessagePort;
  private readonly maxRows: number;
  private readonly flushIntervalMs: number;
  private readonly directMaxRows: number;
  private readonly timer: NodeJS.Timeout;
  private readonly pool = new Map<number, ArrayBuffer[]>();
  private logged = 0;
  private seq = 0;
  private doneSeq = 0;
  private batchStart = 0;
  private failure: Error | undefined;
  private closing: Promise<MetricsFileInfo | undefined> | undefined;
  private closed = false;
  /** The worker has answered 'close' (it then ends by itself). */
  private workerClosed = false;
  /** 'close' was posted to the worker. */
  private closeSent = false;
  private reffed = false;
  private waiters: { until: number; resolve: () => void; reject: (err: Error) => void }[] = [];
  private closeWaiter:
    | { resolve: (info: MetricsFileInfo | undefined) => void; reject: (e: Error) => void }
    | undefined;

  constructor(private readonly options: MetricsWriterOptions) {
    const flushRows = options.flushRows ?? DEFAULT_FLUSH_ROWS;
    if (!Number.isInteger(flushRows) || flushRows < 1) {
      throw new UsageError(`metrics: flushRows must be a positive integer, got ${flushRows}`);
    }
    this.flushIntervalMs = options.flushIntervalMs ?? 5000;
    this.directMaxRows = options.directMaxRows ?? DIRECT_MAX_ROWS;
    this.maxRows = flushRows;
    this.buffer = new RowBuffer(Math.min(INITIAL_ROWS, flushRows), (bytes) => this.allocate(bytes), 'run_id');
    this.timer = setInterval(() => this.onTimer(), Math.max(10, this.flushIntervalMs / 4));
    this.timer.unref();
  }

  /** Starts the flush worker on the first batch handed over (see the module comment). */
  private startWorker(): Worker {
    if (this.worker) return this.worker;
    const options = this.options;
    const { port1, port2 } = new MessageChannel();
    this.port = port2;
    const data: FlushWorkerData = {
      runDir: options.runDir,
      runId: options.runId,
      ctl: this.ctl.buffer as SharedArrayBuffer,
      tickMs: Math.max(10, Math.min(1000, this.flushIntervalMs / 4)),
      port: port1,
      syncParts: false,
    };
    const worker = startFlushWorker({ workerData: data, transferList: [port1] });
    this.worker = worker;
    // Idle, the writer must not keep the process alive: a script that forgets close() still exits.
    worker.unref();
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', () => {
      if (this.closed) return;
      // The worker posts 'closed' and then ends; its exit event can arrive before that message is
      // delivered, so read what is already queued before calling the exit unexpected.
      this.drain();
      if (!this.workerClosed) this.fail(new Error('metrics: the flush worker exited unexpectedly'));
    });
    this.port.on('message', (msg: FromWorker) => this.onReply(msg));
    this.port.unref();
    return worker;
  }

  /** Rows accepted by log() so far. */
  get rowsLogged(): number {
    return this.logged;
  }

  /**
   * Buffers one row. Synchronous; blocks only when two earlier batches are still being written. Throws
   * MetricsSchemaError (and keeps nothing of the row) for a value whose type conflicts with its column.
   */
  log(row: Record<string, MetricsValue>): void {
    if (this.closing) throw afterClose();
    if (this.failure) throw this.failure;
    const buf = this.buffer;
    buf.append(row);
    this.logged++;
    if (buf.rows === 1) this.batchStart = Date.now();
    if (buf.rows >= buf.capacity) this.onFull();
    else if (Atomics.load(this.ctl, CTL_ATTENTION) !== 0) this.attention();
    else if ((buf.rows & 1023) === 0 && !this.worker) this.checkInterval();
  }

  /**
   * Buffers one row given as cells of known columns (see `Cells`; the JSON lines reader uses this). Returns
   * false, keeping nothing, when a value does not fit its column: log() then reports the conflict.
   * @internal
   */
  logCells(cells: Cells): boolean {
    if (this.closing) throw afterClose();
    if (this.failure) throw this.failure;
    const buf = this.buffer;
    if (!buf.appendCells(cells)) return false;
    this.logged++;
    if (buf.rows === 1) this.batchStart = Date.now();
    if (buf.rows >= buf.capacity) this.onFull();
    else if (Atomics.load(this.ctl, CTL_ATTENTION) !== 0) this.attention();
    else if ((buf.rows & 1023) === 0 && !this.worker) this.checkInterval();
    return true;
  }

  /** A full buffer grows until it holds flushRows rows; then it is handed over. */
  private onFull(): void {
    const buf = this.buffer;
    if (buf.capacity < this.maxRows) buf.grow(Math.min(buf.capacity * 4, this.maxRows));
    else this.handOff();
  }

  /**
   * Without a worker nothing raises the interval flag, and a loop that never yields never runs the timer:
   * log() looks at the clock itself every 1,024 rows.
   */
  private checkInterval(): void {
    if (Date.now() - this.batchStart >= this.flushIntervalMs) this.handOff();
  }

  /**
   * For a loader that knows about how many rows are still to come: when they would all end up in the last
   * part together with the rows buffered now, hands the buffered rows over to be written while the rest
   * is loaded (without waiting), so that close() has less left to write. Only a buffer at least half full
   * is handed over, so that parts stay large enough to be concatenated at close.
   * @internal
   */
  cut(rowsToCome: number): void {
    if (this.closing) throw afterClose();
    if (this.failure) throw this.failure;
    const rows = this.buffer.rows;
    const capacity = this.maxRows;
    // Everything will be encoded on this thread at close: nothing to start a worker for.
    if (!this.worker && rows + rowsToCome <= this.directMaxRows) return;
    if (rows >= capacity / 2 && rows + rowsToCome < capacity && rowsToCome <= capacity / 3) this.handOff();
  }

  /**
   * The column named `name` if a logged row has had it (for `logCells`).
   * @internal
   */
  column(name: string): Column | undefined {
    return this.buffer.column(name);
  }

  /** Writes buffered rows now and waits until everything logged so far is on disk. */
  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.closed) return;
    if (this.buffer.rows > 0) {
      while (Atomics.load(this.ctl, CTL_INFLIGHT) >= MAX_IN_FLIGHT) await this.waitFor(this.doneSeq + 1);
      this.handOff();
    }
    await this.waitFor(this.seq);
  }

  /**
   * Flushes, waits for pending writes, produces runDir/metrics.parquet and removes the part files.
   * Idempotent; resolves undefined when nothing was ever logged.
   */
  close(): Promise<MetricsFileInfo | undefined> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<MetricsFileInfo | undefined> {
    clearInterval(this.timer);
    if (!this.worker) {
      // Parts left by an earlier writer of the same run go through the worker, which merges them.
      const earlierParts = fs.existsSync(path.join(this.options.runDir, PARTS_DIR));
      if (this.buffer.rows === 0 && !earlierParts) {
        this.closed = true;
        return undefined;
      }
      if (this.buffer.rows > 0 && this.buffer.rows <= this.directMaxRows && !earlierParts) {
        try {
          return await this.writeDirect();
        } finally {
          this.closed = true;
          this.pool.clear();
        }
      }
      this.startWorker();
    }
    const worker = this.worker!;
    try {
      if (this.buffer.rows > 0) {
        while (Atomics.load(this.ctl, CTL_INFLIGHT) >= MAX_IN_FLIGHT) await this.waitFor(this.doneSeq + 1);
        this.handOff(false);
      }
      await this.waitFor(this.seq);
      const info = await new Promise<MetricsFileInfo | undefined>((resolve, reject) => {
        this.closeWaiter = { resolve, reject };
        this.updateRef();
        this.closeSent = true;
        this.post({ type: 'close', columns: schemaOf(this.buffer) });
      });
      return info;
    } finally {
      if (!this.closeSent && this.failure && !this.workerClosed && Atomics.load(this.ctl, CTL_DEAD) === 0) {
        // A failed writer (a full disk) still asks its worker to release DuckDB and end by itself:
        // terminating a thread that holds native DuckDB handles can abort the process. The parts written so
        // far are left as they are, not merged (readers read them; merging needs as much space again).
        this.closeSent = true;
        this.post({ type: 'close', columns: schemaOf(this.buffer), merge: false });
      }
      this.closed = true;
      this.closeWaiter = undefined;
      this.pool.clear();
      // After 'closed' the worker has released DuckDB and ends by itself; terminate only a stuck one. The
      // timer stays ref'd: a worker whose exit event was already emitted keeps nothing alive, and an unref'd
      // timer would then let the process end here, mid-seal, with exit code 0.
      const exited = new Promise<boolean>((resolve) => {
        if (worker.threadId < 0) return resolve(true);
        const timer = setTimeout(() => resolve(false), this.failure ? 0 : 5000);
        worker.once('exit', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      worker.ref();
      if (!(await exited)) await worker.terminate();
      worker.unref();
      this.port.close();
    }
  }

  /**
   * Encodes the buffered rows as `metrics.parquet` on this thread (temp file, then rename; the seal fsyncs
   * it) and remembers the file's summaries for sealing.
   */
  private async writeDirect(): Promise<MetricsFileInfo> {
    const { runDir, runId } = this.options;
    const batch = this.buffer.take(false, true);
    const target = path.join(runDir, METRICS_FILE);
    const { bytes, columns } = encodeColumnsParquet(batch.columns, batch.rows, {
      constants: [{ name: 'run_id', value: runId }],
    });
    const tmp = tempPathFor(target);
    try {
      await fsp.writeFile(tmp, bytes, { flag: 'wx' });
      await fsp.rename(tmp, target);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    const info: MetricsFileInfo = {
      path: path.resolve(target),
      rows: batch.rows,
      columns,
      bytes: bytes.length,
    };
    rememberWritten(target, {
      sha256: createHash('sha256').update(bytes).digest('hex'),
      info,
      summary: summarizeColumnData(batch.columns, batch.rows),
    });
    return info;
  }

  /** Transfers the current batch to the worker, first waiting (synchronously) for a free slot. */
  private handOff(next = true): void {
    const ctl = this.ctl;
    for (;;) {
      this.drain();
      if (this.failure) throw this.failure;
      const inflight = Atomics.load(ctl, CTL_INFLIGHT);
      if (inflight < MAX_IN_FLIGHT) break;
      if (Atomics.load(ctl, CTL_DEAD) !== 0) {
        this.fail(new Error('metrics: the flush worker exited unexpectedly'));
        throw this.failure;
      }
      Atomics.wait(ctl, CTL_INFLIGHT, inflight, 1000);
    }
    this.startWorker();
    const batch = this.buffer.take(next, false);
    const transfer: ArrayBuffer[] = [];
    const columns: WireColumn[] = batch.columns.map((c) => {
      let values: WireColumn['values'];
      if (Array.isArray(c.values)) values = c.values as (string | null)[];
      else {
        values = (c.values as Float64Array).buffer as ArrayBuffer;
        transfer.push(values);
      }
      const nulls = c.nulls ? (c.nulls.buffer as ArrayBuffer) : undefined;
      if (nulls) transfer.push(nulls);
      return { name: c.name, type: c.type, storage: c.storage, values, ...(nulls ? { nulls } : {}) };
    });
    Atomics.add(ctl, CTL_INFLIGHT, 1);
    this.seq++;
    this.post({ type: 'part', seq: this.seq, rows: batch.rows, columns }, transfer);
    this.updateRef();
  }

  private post(msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.port.postMessage(msg, transfer);
  }

  /** Called from log() when the worker raised a flag: a reply to read, or the flush interval elapsed. */
  private attention(): void {
    const bits = Atomics.exchange(this.ctl, CTL_ATTENTION, 0);
    if (bits & ATTENTION_REPLY && this.worker) {
      this.drain();
      if (this.failure) throw this.failure;
    }
    if (
      bits & ATTENTION_TICK &&
      this.buffer.rows > 0 &&
      Date.now() - this.batchStart >= this.flushIntervalMs
    ) {
      this.handOff();
    }
  }

  /** The event-loop side of the interval: flushes an idle writer without blocking. */
  private onTimer(): void {
    if (this.closing || this.failure || this.buffer.rows === 0) return;
    if (Date.now() - this.batchStart < this.flushIntervalMs) return;
    if (Atomics.load(this.ctl, CTL_INFLIGHT) >= MAX_IN_FLIGHT) return;
    try {
      this.handOff();
    } catch {
      // The failure is kept and surfaces on the next log()/flush()/close().
    }
  }

  /** Reads every reply already queued, without waiting for the event loop. */
  private drain(): void {
    if (!this.worker) return;
    for (;;) {
      const m = receiveMessageOnPort(this.port);
      if (!m) return;
      this.onReply(m.message as FromWorker);
    }
  }

  private onReply(msg: FromWorker): void {
    switch (msg.type) {
      case 'done':
        this.doneSeq = Math.max(this.doneSeq, msg.seq);
        for (const b of msg.buffers) this.recycle(b);
        this.waiters = this.waiters.filter((w) => {
          if (w.until > this.doneSeq) return true;
          w.resolve();
          return false;
        });
        break;
      case 'error': {
        const err = new Error(`metrics: writing ${this.options.runDir} failed: ${msg.message}`);
        if (msg.name === 'MetricsSchemaError') Object.assign(err, { name: msg.name });
        if (msg.code) Object.assign(err, { code: msg.code });
        // A full disk is the one failure a caller can act on (free space, stop the run): tag it. The parts
        // already written stay readable; the rows of this batch are lost.
        const full = asStorageFull(err, 'metrics', this.options.runDir);
        this.fail(full ?? err);
        break;
      }
      case 'closed':
        this.workerClosed = true;
        this.closeWaiter?.resolve(msg.info);
        this.closeWaiter = undefined;
        break;
    }
    this.updateRef();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiters) w.reject(this.failure);
    this.waiters = [];
    this.closeWaiter?.reject(this.failure);
    this.closeWaiter = undefined;
    this.updateRef();
  }

  /** Resolves once batch `seq` is written (rejects on a worker failure). */
  private waitFor(seq: number): Promise<void> {
    this.drain();
    if (this.failure) return Promise.reject(this.failure);
    if (this.doneSeq >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ until: seq, resolve, reject });
      this.updateRef();
    });
  }

  /** Keeps the process alive only while a batch is being written or someone awaits the worker. */
  private updateRef(): void {
    if (!this.worker) return;
    const busy =
      !this.closed &&
      (Atomics.load(this.ctl, CTL_INFLIGHT) > 0 || this.waiters.length > 0 || this.closeWaiter !== undefined);
    if (busy === this.reffed) return;
    this.reffed = busy;
    if (busy) this.worker.ref();
    else this.worker.unref();
  }

  private allocate(bytes: number): ArrayBuffer {
    return this.pool.get(bytes)?.pop() ?? new ArrayBuffer(bytes);
  }

  private recycle(buffer: ArrayBuffer): void {
    if (this.closing) return;
    let list = this.pool.get(buffer.byteLength);
    if (!list) {
      list = [];
      this.pool.set(buffer.byteLength, list);
    }
    // Enough for every column of one batch; more would only hold memory.
    if (list.length < this.buffer.columns.length * 2) list.push(buffer);
  }
}

/** Re-exported for callers that catch schema errors from log(). */
export { MetricsSchemaError };
