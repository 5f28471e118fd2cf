/**
 * The indexing lock: `vault.duckdb.lock` next to the catalog, created with O_EXCL (atomic across processes)
 * and holding `{pid, host, since}`. A second indexer polls until the holder releases it or the timeout
 * passes, then fails with CatalogBusyError naming the holder. A lock left by a process that no longer exists
 * on this host is stale and taken over; a lock from another host is respected, since its process cannot be
 * checked from here.
 *
 * Taking over a stale lock goes through a second O_EXCL file (`….lock.takeover`), so two processes that both
 * find the same stale lock cannot both win: only the one holding the takeover file removes and recreates it.
 *
 * @example
 * const release = await acquireLock('/vault/vault.duckdb.lock', { timeoutMs: 30_000 })
 * try { … } finally { release() }
 */
import fs from 'node:fs';
import os from 'node:os';
import { CatalogBusyError } from '../errors.js';

/** Contents of a lock file. */
export interface LockHolder {
  pid: number;
  host: string;
  since?: string;
}

/** Options of `acquireLock`. */
export interface LockOptions {
  /** How long to wait for a live holder, in milliseconds (default 60 s). */
  timeoutMs?: number;
  /** Poll interval while waiting (default 50 ms). */
  pollMs?: number;
}

/** Whether a process with `pid` exists on this host (EPERM means it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads a lock file; undefined when it is gone or unreadable (a writer may be between create and write). */
export function readLock(file: string): LockHolder | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid === 'number' && typeof v.host === 'string') return v as LockHolder;
  } catch {
    // Half-written or foreign content: treated like an unknown holder below.
  }
  return undefined;
}

function isStale(holder: LockHolder): boolean {
  return holder.host === os.hostname() && !processAlive(holder.pid);
}

/** Creates `file` exclusively with our holder record; false when it already exists. */
function tryCreate(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    const me: LockHolder = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
    fs.writeSync(fd, JSON.stringify(me));
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** Removes `file` only if it still names `holder` (never someone else's fresh lock). */
function removeIfHeldBy(file: string, holder: LockHolder): void {
  const now = readLock(file);
  if (now && now.pid === holder.pid && now.host === holder.host && now.since === holder.since) {
    fs.rmSync(file, { force: true });
  }
}

/** One attempt to take over a stale lock; true when `file` is now ours. */
function takeOver(file: string, stale: LockHolder): boolean {
  const guard = `${file}.takeover`;
  if (!tryCreate(guard)) {
    // Someone else is taking over; if that someone died mid-way, clear their guard for the next attempt.
    const g = readLock(guard);
    if (g && isStale(g)) removeIfHeldBy(guard, g);
    return false;
  }
  try {
    removeIfHeldBy(file, stale);
    return tryCreate(file);
  } finally {
    fs.rmSync(guard, { force: true });
  }
}

/**
 * Acquires the lock at `file`, waiting for a live holder up to `timeoutMs`. Returns the release function,
 * which removes the file only while it is still ours.
 */
export async function acquireLock(file: string, options: LockOptions = {}): Promise<() => void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const pollMs = options.pollMs ?? 50;
  const t0 = performance.now();
  let holder: LockHolder | undefined;
  for (;;) {
    if (tryCreate(file)) break;
    holder = readLock(file);
    if (holder && isStale(holder) && takeOver(file, holder)) break;
    const waited = performance.now() - t0;
    if (waited >= timeoutMs) throw new CatalogBusyError(file, holder, waited);
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(1, timeoutMs - waited))));
  }
  const mine = readLock(file);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (mine) removeIfHeldBy(file, mine);
  };
}
