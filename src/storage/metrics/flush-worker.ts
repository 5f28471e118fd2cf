/**
 * Worker thread that owns DuckDB for one MetricsWriter: it turns each batch of column buffers it receives
 * into a part file (`metrics.parts/part-NNNNNN.parquet`), hands the buffers back for reuse, and on close
 * merges the parts into `metrics.parquet`. Batches are written strictly in the order received.
 *
 * @example
 * // started by MetricsWriter through flush-start.ts:
 * startFlushWorker({ workerData, transferList: [port] })
 */

import fs from 'node:fs/promises';
import path from 'node:path';
import { workerData } from 'node:worker_threads';
import { openRawSession, type RawSession } from '../../duckdb/raw.js';
import { closeShared } from '../../duckdb/read-parquet.js';
import { PARTS_DIR } from '../../format/layout.js';
import { type ColumnData, writeColumnsParquet } from '../../parquet/write-columns.js';
import {
  ATTENTION_REPLY,
  ATTENTION_TICK,
  CTL_ATTENTION,
  CTL_INFLIGHT,
  type FlushWorkerData,
  type FromWorker,
  type ToWorker,
  type WireColumn,
} from './flush-protocol.js';
import { lastPartNumber, mergeParts, partPath } from './parts.js';

const { runDir, runId, ctl, tickMs, port, syncParts } = workerData as FlushWorkerData;
const flags = new Int32Array(ctl);

// DuckDB threads per part: one while the loop calling log() keeps up, two once a further batch arrived
// while the previous part was being written. Then log() keeps blocking in Atomics.wait with its core idle,
// and a second thread encoding the Parquet uses that core (10M rows of step + 4 floats on 2 cores: 4.7 s
// instead of 5.5 s). While the loop is busy (a training step, or the JSON lines scanner) a second thread
// would only take its core: the JSON lines conversion ran at 1.0M rows/s with two threads, 1.13M with one.
let threads = '1';
let behind = false;
let session: Promise<RawSession> | undefined;
let partNumber: Promise<number> | undefined;
let partsDirReady = false;

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

function postError(err: unknown, seq?: number): void {
  const e = err instanceof Error ? err : new Error(String(err));
  // The errno code crosses the thread boundary too: the writer tells a full disk from other failures by it.
  const code = (e as NodeJS.ErrnoException).code;
  post({ type: 'error', seq, name: e.name, message: e.message, stack: e.stack, ...(code ? { code } : {}) });
  Atomics.or(flags, CTL_ATTENTION, ATTENTION_REPLY);
}

function view(c: WireColumn): ColumnData['values'] {
  if (Array.isArray(c.values)) return c.values;
  const buf = c.values as ArrayBuffer;
  switch (c.storage) {
    case 'i64':
      return new BigInt64Array(buf);
    case 'i32':
      return new Int32Array(buf);
    case 'bool':
      return new Uint8Array(buf);
    default:
      return new Float64Array(buf);
  }
}

async function writePart(msg: Extract<ToWorker, { type: 'part' }>): Promise<void> {
  const buffers: ArrayBuffer[] = [];
  try {
    session ??= openRawSession({ threads });
    partNumber ??= lastPartNumber(runDir);
    const s = await session;
    const want = behind ? '2' : '1';
    if (want !== threads) {
      await s.run(`SET threads = ${want}`);
      threads = want;
    }
    const n = (await partNumber) + 1;
    partNumber = Promise.resolve(n);
    if (!partsDirReady) {
      await fs.mkdir(path.join(runDir, PARTS_DIR), { recursive: true });
      partsDirReady = true;
    }
    const columns: ColumnData[] = msg.columns.map((c) => {
      if (!Array.isArray(c.values)) buffers.push(c.values as ArrayBuffer);
      if (c.nulls) buffers.push(c.nulls);
      return {
        name: c.name,
        type: c.type,
        storage: c.storage,
        values: view(c),
        nulls: c.nulls ? new Uint8Array(c.nulls) : undefined,
      };
    });
    await writeColumnsParquet(s, partPath(runDir, n), columns, msg.rows, {
      constants: [{ name: 'run_id', value: runId }],
      sync: syncParts,
    });
    post({ type: 'done', seq: msg.seq, buffers }, buffers);
  } catch (err) {
    postError(err, msg.seq);
  } finally {
    // Another batch arrived while this one was written: the loop is outpacing the writer.
    behind = Atomics.load(flags, CTL_INFLIGHT) > 1;
    Atomics.sub(flags, CTL_INFLIGHT, 1);
    Atomics.notify(flags, CTL_INFLIGHT);
  }
}

async function close(columns: { name: string; type: string }[], merge: boolean): Promise<void> {
  try {
    const info = merge ? await mergeParts(runDir, columns) : undefined;
    post({ type: 'closed', info });
  } catch (err) {
    postError(err);
  } finally {
    // Release DuckDB and the port so the thread ends by itself: terminating a thread that still holds
    // native DuckDB handles can abort the whole process during teardown.
    if (session) (await session.catch(() => undefined))?.close();
    session = undefined;
    await closeShared().catch(() => {});
    clearInterval(tick);
    port.close();
  }
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: ToWorker) => {
  queue = queue.then(() => (msg.type === 'part' ? writePart(msg) : close(msg.columns, msg.merge ?? true)));
});

// Tells log() that the flush interval has passed; unref'd so it never keeps the thread alive by itself.
const tick = setInterval(() => Atomics.or(flags, CTL_ATTENTION, ATTENTION_TICK), tickMs);
tick.unref();
