/**
 * `UserQueryPool` runs user SQL for a server in separate processes (process-entry.ts), one query at a time
 * each, at most `maxConcurrent` at once:
 *
 * - the server's event loop never converts a large result or waits on DuckDB's threads for user SQL, so
 *   health checks, the catalog and tensor slices answer while a heavy query runs;
 * - DuckDB's memory, threads and spill space are the child's session limits (limits.ts), and the child's
 *   JavaScript heap is bounded too;
 * - a query is interrupted at its time limit inside the child (DuckDB's interrupt); should the child not
 *   answer shortly after, it is killed — as it is when it crashes (a native abort, the kernel's OOM killer):
 *   the query fails with QueryEngineError and the next one gets a fresh process;
 * - a query beyond `maxConcurrent` is refused at once with QueryBusyError rather than queued behind a slow one.
 *
 * @example
 * const pool = new UserQueryPool('/vault', { timeoutMs: 3000 })
 * const { columns, rows } = await pool.run('SELECT * FROM catalog', { maxRows: 100 })
 * await pool.close()
 */
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QueryBusyError, QueryEngineError, QueryTimeoutError } from '../../errors.js';
import type { QueryParams, RowsResult } from '../query.js';
import { type QueryLimits, resolveQueryLimits } from './limits.js';
import { errorFromWire, type QueryReply, type QueryRequest } from './wire.js';

/** How long after its time limit a child that has not answered is killed. */
const KILL_GRACE_MS = 2_000;
/** The child's JavaScript heap, which holds at most one result (bounded by `maxResultBytes`). */
const CHILD_HEAP_MB = 1024;
/** How long a new child may take to load before its query fails (a loaded machine, the sources via tsx). */
const START_TIMEOUT_MS = 30_000;

interface Slot {
  child: ChildProcess;
  busy: boolean;
  /** Settles when the child has loaded and can take a query. */
  ready: Promise<void>;
  /** Settles the query in flight when the child exits. */
  onExit?: (reason: string) => void;
}

/** Options of one query. */
export interface PoolQueryOptions {
  params?: QueryParams;
  maxRows?: number;
  /** At most the pool's limit. */
  timeoutMs?: number;
}

function entryModule(): { file: string; execArgv: string[] } {
  const js = new URL('./process-entry.js', import.meta.url);
  const heap = `--max-old-space-size=${CHILD_HEAP_MB}`;
  if (fs.existsSync(fileURLToPath(js))) return { file: fileURLToPath(js), execArgv: [heap] };
  // Running from the sources (tests): the child loads TypeScript through tsx.
  const ts = fileURLToPath(new URL('./process-entry.ts', import.meta.url));
  return { file: ts, execArgv: [heap, '--import', import.meta.resolve('tsx/esm')] };
}

/** User queries of one vault, in child processes; see the module comment. */
export class UserQueryPool {
  readonly limits: QueryLimits;
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;
  /** Children started over the pool's life (restarts included), for tests and diagnostics. */
  started = 0;

  constructor(
    readonly root: string,
    limits: Partial<QueryLimits> = {},
  ) {
    this.limits = resolveQueryLimits(limits);
  }

  /** Queries running now. */
  get running(): number {
    return this.slots.filter((s) => s.busy).length;
  }

  /** Process IDs of the children alive now. */
  get pids(): number[] {
    return this.slots.map((s) => s.child.pid).filter((p): p is number => p !== undefined);
  }

  /** Runs one user query; see the module comment for the limits and failures. */
  async run(sql: string, options: PoolQueryOptions = {}): Promise<RowsResult> {
    if (this.closed) throw new QueryEngineError('the server is shutting down');
    const slot = this.acquire();
    const timeoutMs = Math.min(options.timeoutMs ?? this.limits.timeoutMs, this.limits.timeoutMs);
    const request: QueryRequest = {
      id: this.nextId++,
      root: this.root,
      sql,
      limits: this.limits,
      timeoutMs,
      ...(options.params === undefined ? {} : { params: options.params }),
      ...(options.maxRows === undefined ? {} : { maxRows: options.maxRows }),
    };
    try {
      await slot.ready;
      return await new Promise<RowsResult>((resolve, reject) => {
        const backstop = setTimeout(() => {
          slot.onExit = undefined;
          // Out of the pool at once: the next query must not be sent to a child that is being killed.
          this.forget(slot);
          slot.child.kill('SIGKILL');
          reject(new QueryTimeoutError(sql, timeoutMs));
        }, timeoutMs + KILL_GRACE_MS);
        const onMessage = (reply: QueryReply) => {
          if (reply.id !== request.id) return;
          done();
          if (reply.ok) resolve(reply.result);
          else reject(errorFromWire(reply.error));
        };
        const done = () => {
          clearTimeout(backstop);
          slot.child.off('message', onMessage);
          slot.onExit = undefined;
        };
        slot.onExit = (reason) => {
          done();
          reject(new QueryEngineError(reason));
        };
        slot.child.on('message', onMessage);
        slot.child.send(request);
      });
    } finally {
      this.release(slot);
    }
  }

  /** Ends every child. */
  async close(): Promise<void> {
    this.closed = true;
    const exits = this.slots.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
          s.child.once('exit', () => resolve());
          // Idle children are unref'd: waiting for one must keep a process with nothing else to do alive.
          s.child.ref();
          s.child.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
    this.slots.length = 0;
  }

  private acquire(): Slot {
    let slot = this.slots.find((s) => !s.busy);
    if (!slot) {
      if (this.slots.length >= this.limits.maxConcurrent) throw new QueryBusyError(this.limits.maxConcurrent);
      slot = this.spawn();
    }
    slot.busy = true;
    slot.child.ref();
    slot.child.channel?.ref();
    return slot;
  }

  private forget(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
  }

  private release(slot: Slot): void {
    slot.busy = false;
    // An idle child never keeps the server's process alive.
    if (this.slots.includes(slot)) {
      // The IPC channel holds the event loop too, apart from the child itself.
      slot.child.unref();
      slot.child.channel?.unref();
    }
  }

  private spawn(): Slot {
    const { file, execArgv } = entryModule();
    const child = fork(file, [], {
      execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.started++;
    let exited: ((reason: string) => void) | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new QueryEngineError(`the query process did not start within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      const onReady = (m: unknown) => {
        if ((m as { ready?: boolean })?.ready !== true) return;
        child.off('message', onReady);
        clearTimeout(timer);
        resolve();
      };
      child.on('message', onReady);
      exited = (reason) => {
        clearTimeout(timer);
        reject(new QueryEngineError(reason));
      };
    });
    ready.catch(() => {});
    const slot: Slot = { child, busy: false, ready };
    child.on('exit', (code, signal) => {
      this.forget(slot);
      const reason = `the query process exited with ${signal ?? `code ${code}`}`;
      exited?.(reason);
      slot.onExit?.(reason);
    });
    // A send to a child that just died fails here; its exit handler settles the query.
    child.on('error', () => {});
    this.slots.push(slot);
    return slot;
  }
}

/** The pools of runUserQuery, one per vault root and limits. */
const shared = new Map<string, UserQueryPool>();

/** The process-wide pool for `root` with `limits` (started on first use; its idle children are unref'd). */
export function sharedQueryPool(root: string, limits: Partial<QueryLimits>): UserQueryPool {
  const resolved = resolveQueryLimits(limits);
  const key = `${path.resolve(root)}\0${JSON.stringify(resolved)}`;
  let pool = shared.get(key);
  if (!pool) {
    pool = new UserQueryPool(path.resolve(root), resolved);
    shared.set(key, pool);
  }
  return pool;
}

/** Ends the children of every shared pool. */
export async function closeSharedQueryPools(): Promise<void> {
  const all = [...shared.values()];
  shared.clear();
  await Promise.all(all.map((p) => p.close()));
}
