/**
 * Durability of sealed runs: `run` makes every seal durable before it returns (one group of fsyncs per
 * run); `batch` (group commit, the default) seals without fsync and makes all runs sealed within about a
 * second durable together in the background. Before the first unsynced seal of a batch the writer records a
 * journal entry — one small fsynced file in `<vault>/.specimen-journal/` naming the writer (pid, host, boot
 * ID, start times) and the specimens it writes to — and drops it once the batch is flushed. An entry left
 * by a writer that died is settled by `recoverJournal` (recovery.ts): fsynced when the OS kept running (a
 * process crash loses nothing: the page cache holds the data), verified against the seals' hashes when
 * the OS restarted (the boot ID differs), damaged runs marked. docs/format.md, "Durability".
 *
 * @example
 * const commit = groupCommitFor(vault.root)
 * await commit.beforeSeal('2025_01_02_sweep')     // journal entry, fsynced once per batch
 * // … write the run's files and rename its manifest, unsynced …
 * commit.afterSeal(files, dirs)                    // fsynced within FLUSH_DELAY_MS, never awaited
 * await flushGroupCommits()                       // at the end of a session: everything durable now
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { syncDir, syncFiles } from '../format/atomic-write.js';
import { JOURNAL_DIR } from '../format/layout.js';
import { DURABILITIES, type Durability } from '../format/vault-config.js';

export { DEFAULT_DURABILITY, DURABILITIES, type Durability } from '../format/vault-config.js';
/** Longest time between a run's seal and its fsync in batch mode. */
export const FLUSH_DELAY_MS = 1000;

/** A journal entry as stored (JSON). */
export interface JournalEntry {
  pid: number;
  host: string;
  /** `/proc/sys/kernel/random/boot_id` (elsewhere: the boot time to the minute). */
  boot_id: string;
  /** The writer's process start (clock ticks since boot, from /proc/<pid>/stat), to tell a reused pid. */
  pid_start: string | null;
  /** When the entry was written (ISO-8601): every run of the batch was sealed at or after it. */
  started: string;
  /** Specimen IDs the batch writes to. */
  specimens: string[];
}

let bootIdCache: string | undefined;

/** This boot of the OS: the kernel's boot ID, or where there is none the boot time to the minute. */
export function currentBootId(): string {
  if (bootIdCache !== undefined) return bootIdCache;
  try {
    bootIdCache = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    bootIdCache = `boot-${Math.round((Date.now() / 1000 - os.uptime()) / 60)}`;
  }
  return bootIdCache;
}

/** Start time of process `pid` (field 22 of /proc/<pid>/stat), or null where /proc cannot tell. */
export function processStart(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** True when the writer of `entry` is this boot's live process that wrote it (never settle its entry). */
export function writerAlive(entry: JournalEntry): boolean {
  if (entry.host !== os.hostname() || entry.boot_id !== currentBootId()) return false;
  try {
    process.kill(entry.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const start = processStart(entry.pid);
  return start === null || entry.pid_start === null || start === entry.pid_start;
}

/** The journal directory of the vault at `root`. */
export function journalDir(root: string): string {
  return path.join(root, JOURNAL_DIR);
}

/**
 * The group commit of one vault in this process. Seals report to it; it keeps the journal entry, the files
 * not yet fsynced and the flush timer (unref'd: it never keeps the process alive).
 */
export class GroupCommit {
  private entryFile: string | undefined;
  /** When the batch's first entry was written: an entry rewritten for another specimen keeps it. */
  private batchStart: string | undefined;
  private specimens = new Set<string>();
  private files = new Set<string>();
  private dirs = new Set<string>();
  /** Seals between beforeSeal and afterSeal: their data is unsynced, so the entry must stay. */
  private sealing = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** The entry being written (a seal waits for it before writing anything unsynced). */
  private recording: Promise<void> | undefined;
  /** Entries of writers that died are settled once, before this process's first entry. */
  private recovered = false;
  /** Files and directories a flush is fsyncing now (the exit handler syncs them too). */
  private syncing: string[] = [];
  /** A flush at exit failed: not retried on every `beforeExit` (the entry stays for recovery). */
  failedAtExit = false;

  constructor(readonly root: string) {}

  /** Whether a journal entry of this process is on disk now. */
  get entryPath(): string | undefined {
    return this.entryFile;
  }

  /**
   * Call before a seal writes anything unsynced: records (or extends) the journal entry so that a crash
   * from here on is found. Costs one fsync at the first seal of a batch, nothing after.
   */
  async beforeSeal(specimenId: string): Promise<void> {
    this.sealing++;
    try {
      while (this.recording) await this.recording;
      if (this.entryFile && this.specimens.has(specimenId)) return;
      this.specimens.add(specimenId);
      this.recording = this.record();
      try {
        await this.recording;
      } finally {
        this.recording = undefined;
      }
    } catch (err) {
      this.sealing--;
      throw err;
    }
  }

  /** Call once the seal's files are in place: they are fsynced within FLUSH_DELAY_MS. */
  afterSeal(files: readonly string[], dirs: readonly string[]): void {
    for (const f of files) this.files.add(f);
    for (const d of dirs) this.dirs.add(d);
    this.sealing--;
    this.schedule();
  }

  /** A seal that failed after beforeSeal: what it wrote is still covered by the entry until the next flush. */
  sealFailed(): void {
    this.sealing--;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.flushing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch(() => {
        // The entry stays: the next flush (or recovery) makes these runs durable.
      });
    }, FLUSH_DELAY_MS);
    this.timer.unref();
  }

  /** Writes the entry (a new file, fsynced with the journal directory) naming every specimen so far. */
  private async record(): Promise<void> {
    if (!this.recovered) {
      this.recovered = true;
      // Imported here: recovery reads runs (describe.ts), which a process that never seals need not load.
      const { recoverJournal } = await import('./recovery.js');
      await recoverJournal(this.root).catch(() => {
        // Left for `specimen index` or `verify`, which report what they find.
      });
    }
    const dir = journalDir(this.root);
    await fsp.mkdir(dir, { recursive: true });
    const entry: JournalEntry = {
      pid: process.pid,
      host: os.hostname(),
      boot_id: currentBootId(),
      pid_start: processStart(process.pid),
      // Kept when the entry is rewritten for another specimen: runs of the batch sealed before still count.
      started: this.batchStart ?? new Date().toISOString(),
      specimens: [...this.specimens].sort(),
    };
    const previous = this.entryFile;
    const file = path.join(dir, `${process.pid}-${randomBytes(4).toString('hex')}.json`);
    const fh = await fsp.open(file, 'wx');
    try {
      await fh.writeFile(JSON.stringify(entry));
      // The file and its directory entry together: concurrent fsyncs cost about one disk flush.
      await Promise.all([fh.sync(), syncDir(dir)]);
    } finally {
      await fh.close();
    }
    this.entryFile = file;
    this.batchStart = entry.started;
    // The old entry (fewer specimens, same or later start) is covered by the new one.
    if (previous) await fsp.rm(previous, { force: true });
  }

  /**
   * Makes every run sealed so far durable (their files, then the directories, as one group each) and
   * drops the journal entry unless a seal is in progress or more arrived meanwhile.
   */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.flushing ??= this.flushOnce().finally(() => {
      this.flushing = undefined;
      if (this.files.size > 0 || this.dirs.size > 0) this.schedule();
    });
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    const files = [...this.files];
    const dirs = [...this.dirs];
    this.files.clear();
    this.dirs.clear();
    this.syncing = [...files, ...dirs];
    try {
      // Three at a time: libuv runs four file-system requests at once, and the caller's next run needs one.
      await syncFiles(files, { concurrency: 3, missingOk: true });
      await Promise.all(dirs.map((d) => syncDir(d)));
    } catch (err) {
      for (const f of files) this.files.add(f);
      for (const d of dirs) this.dirs.add(d);
      throw err;
    } finally {
      this.syncing = [];
    }
    if (this.sealing === 0 && this.files.size === 0 && this.dirs.size === 0 && this.entryFile) {
      const file = this.entryFile;
      this.entryFile = undefined;
      this.batchStart = undefined;
      this.specimens.clear();
      // Not fsynced: an entry that comes back after a power loss only makes recovery check runs again.
      await fsp.rm(file, { force: true });
    }
  }

  /** The same, synchronously, for the exit handler (one fsync after another: only this batch's files). */
  flushSync(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // Including what an unfinished asynchronous flush was syncing when process.exit() came.
    for (const p of [...this.syncing, ...this.files, ...this.dirs]) {
      try {
        const fd = fs.openSync(p, 'r');
        try {
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
      } catch {
        // Gone (removed by its owner) or a directory this platform cannot fsync: nothing to keep.
      }
    }
    this.files.clear();
    this.dirs.clear();
    if (this.entryFile) {
      try {
        fs.rmSync(this.entryFile, { force: true });
      } catch {
        // Recovery settles an entry left behind.
      }
      this.entryFile = undefined;
      this.batchStart = undefined;
      this.specimens.clear();
    }
  }
}

const commits = new Map<string, GroupCommit>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // When the event loop empties (a script's natural end) the flush runs asynchronously, as one group;
  // on process.exit() only synchronous work is possible.
  process.on('beforeExit', () => {
    for (const c of commits.values())
      if (c.entryPath && !c.failedAtExit)
        void c.flush().catch(() => {
          c.failedAtExit = true;
        });
  });
  process.on('exit', () => {
    for (const c of commits.values()) c.flushSync();
  });
}

/** The group commit of the vault at `root` in this process (created on first use). */
export function groupCommitFor(root: string): GroupCommit {
  const key = path.resolve(root);
  let c = commits.get(key);
  if (!c) {
    c = new GroupCommit(key);
    commits.set(key, c);
    installExitHooks();
  }
  return c;
}

/** Flushes every vault's group commit of this process (a session's end, tests, benchmarks). */
export async function flushGroupCommits(): Promise<void> {
  await Promise.all([...commits.values()].map((c) => c.flush()));
}

/** Checks a `durability` value from an option or a request; undefined when it is neither mode. */
export function parseDurability(value: unknown): Durability | undefined {
  return DURABILITIES.includes(value as Durability) ? (value as Durability) : undefined;
}

/** `--durability` (or a session request's `durability`): a UsageError naming the modes when it is neither. */
export function parseDurabilityFlag(value: unknown, what = '--durability'): Durability {
  const d = parseDurability(value);
  if (!d)
    throw new UsageError(
      `${what} must be "run" (each seal durable when it returns) or "batch" (group commit within a second), got ${JSON.stringify(value)}`,
    );
  return d;
}
