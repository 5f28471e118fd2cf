/**
 * Messages and shared counters between MetricsWriter (main thread) and the metrics flush worker. The main
 * thread may be inside a training loop that never yields, so everything it needs to learn promptly goes
 * through a SharedArrayBuffer it can read synchronously, and replies are fetched with
 * `receiveMessageOnPort` rather than waiting for the event loop.
 *
 * @example
 * const ctl = new Int32Array(new SharedArrayBuffer(CTL_BYTES))
 * if (Atomics.load(ctl, CTL_ATTENTION) !== 0) { ...drain replies, flush on a tick }
 */
import type { MessagePort } from 'node:worker_threads';
import type { ParquetFileInfo } from '../../duckdb/read-parquet.js';
import type { MetricsType, StorageKind } from '../../parquet/write-columns.js';

/** Int32 slots of the control buffer. */
export const CTL_INFLIGHT = 0; // batches posted and not yet written (the worker decrements and notifies)
export const CTL_ATTENTION = 1; // bit flags the main thread checks on every log()
export const CTL_DEAD = 2; // 1 once the worker thread has exited
export const CTL_BYTES = 16;

/** CTL_ATTENTION bits. */
export const ATTENTION_TICK = 1; // the flush interval elapsed
export const ATTENTION_REPLY = 2; // the worker posted a reply that must be read now (an error)

/** Passed to the worker as workerData. */
export interface FlushWorkerData {
  runDir: string;
  runId: string;
  ctl: SharedArrayBuffer;
  tickMs: number;
  port: MessagePort;
  /** fsync each part before renaming it into place. */
  syncParts: boolean;
}

/** A column on the wire: buffers are transferred, not copied. */
export interface WireColumn {
  name: string;
  type: MetricsType;
  storage: StorageKind;
  values: ArrayBuffer | (string | null)[];
  nulls?: ArrayBuffer;
}

export type ToWorker =
  | { type: 'part'; seq: number; rows: number; columns: WireColumn[] }
  /**
   * `columns`: every column logged, in log order, with its final type. `merge: false` after a failure: the
   * parts are left as they are (readers read them) and the worker only releases DuckDB and ends.
   */
  | { type: 'close'; columns: { name: string; type: MetricsType }[]; merge?: boolean };

export type FromWorker =
  | { type: 'done'; seq: number; buffers: ArrayBuffer[] }
  | { type: 'error'; seq?: number; name: string; message: string; code?: string; stack?: string }
  | { type: 'closed'; info: ParquetFileInfo | undefined };
