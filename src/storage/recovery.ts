/**
 * Settling the journal of batch-mode writers (durability.ts) after a crash, and the damaged-run markers it
 * leaves. An entry whose writer is alive is left alone. Otherwise, for every specimen it names and every
 * run of it sealed at or after the entry's start:
 * - same boot ID (the process died, the OS did not: the page cache still holds everything): the run's
 *   files and directories are fsynced;
 * - another boot ID (the OS restarted: data not yet on disk may be gone): the run is verified against the
 *   hashes of its seal, and a run that fails — or whose manifest no longer reads — is marked damaged in
 *   `specimens/<id>/damaged.json`, never deleted; `specimen verify`, `show` and the catalog report it.
 * Then the entry is dropped. Called by the first batch seal of a process, `specimen index` and `verify`.
 *
 * @example
 * const report = await recoverJournal(vault.root)     // { entries: 1, synced: 0, verified: 12, damaged: [...] }
 * const damaged = readDamaged(vault.specimenDir(id))   // run_id → { reason, found, what_to_do }
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { syncDir, syncFiles, writeFileAtomic } from '../format/atomic-write.js';
import { assertSpecimenId } from '../format/ids.js';
import { DAMAGED_FILE, MANIFEST_FILE, RUNS_DIR, SPECIMENS_DIR } from '../format/layout.js';
import { decodeManifest, type PlainObject } from '../format/msgpack.js';
import { type DamageRecord, listRunDirs, readDamaged } from './describe.js';
import { currentBootId, type JournalEntry, journalDir, writerAlive } from './durability.js';
import { diffInventories, type FileEntry, inventory, listFiles } from './hashing.js';

/** What recoverJournal did. */
export interface RecoveryReport {
  /** Entries settled (their writers gone), and entries left to live writers or other hosts. */
  entries: number;
  left: number;
  /** Runs fsynced (same boot) and runs verified against their hashes (after an OS restart). */
  synced: number;
  verified: number;
  damaged: { specimenId: string; runId: string; reason: string }[];
}

const WHAT_TO_DO =
  'the OS restarted before this run reached the disk; its record is kept as found. Run it again (its config and seed are in the manifest, when readable), then remove runs/<run_id>/ or supersede it (`specimen supersede`)';

const skipInInventory = (rel: string): boolean =>
  rel === MANIFEST_FILE || rel.split('/').some((p) => p.startsWith('.tmp-'));

/** Adds records to the specimen's damaged.json (temp file + rename, fsynced). */
async function markDamaged(specimenDir: string, records: Record<string, DamageRecord>): Promise<void> {
  const merged = { ...readDamaged(specimenDir), ...records };
  await writeFileAtomic(path.join(specimenDir, DAMAGED_FILE), `${JSON.stringify(merged, null, 2)}\n`);
  await syncDir(specimenDir);
}

function readEntry(file: string): JournalEntry | undefined {
  try {
    const e = JSON.parse(fs.readFileSync(file, 'utf8')) as JournalEntry;
    if (typeof e.pid !== 'number' || typeof e.started !== 'string' || !Array.isArray(e.specimens))
      return undefined;
    return e;
  } catch {
    return undefined;
  }
}

/** The journal entries now on disk (file paths), oldest name first; none when there is no journal. */
export function journalEntries(root: string): string[] {
  try {
    return fs
      .readdirSync(journalDir(root))
      .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
      .sort()
      .map((n) => path.join(journalDir(root), n));
  } catch {
    return [];
  }
}

/** Settles every journal entry of the vault at `root` whose writer is gone (see the module comment). */
export async function recoverJournal(
  root: string,
  options: { onWarning?: (m: string) => void } = {},
): Promise<RecoveryReport> {
  const report: RecoveryReport = { entries: 0, left: 0, synced: 0, verified: 0, damaged: [] };
  for (const file of journalEntries(root)) {
    const entry = readEntry(file);
    if (!entry) {
      // A writer fsyncs its entry before it seals anything: one that does not read was never relied on.
      await fsp.rm(file, { force: true });
      continue;
    }
    if (entry.host !== os.hostname() || writerAlive(entry)) {
      // A live writer flushes its own; another host's entry is settled there (its boot ID means nothing here).
      report.left++;
      continue;
    }
    const rebooted = entry.boot_id !== currentBootId();
    const since = Date.parse(entry.started);
    for (const specimenId of entry.specimens) {
      try {
        assertSpecimenId(specimenId);
      } catch {
        continue;
      }
      const specimenDir = path.join(root, SPECIMENS_DIR, specimenId);
      if (!fs.existsSync(specimenDir)) continue;
      const found: Record<string, DamageRecord> = {};
      const already = readDamaged(specimenDir);
      for (const rd of listRunDirs(specimenDir)) {
        if (already[rd.runId]) continue;
        const check = await checkRun(rd.dir, since, rebooted);
        if (check === 'skip') continue;
        if (check === 'synced') report.synced++;
        else report.verified++;
        if (typeof check === 'object') {
          found[rd.runId] = { reason: check.reason, found: new Date().toISOString(), what_to_do: WHAT_TO_DO };
          report.damaged.push({ specimenId, runId: rd.runId, reason: check.reason });
          options.onWarning?.(
            `run ${specimenId}/${rd.runId} did not survive an OS restart: ${check.reason}; marked damaged in specimens/${specimenId}/${DAMAGED_FILE} (\`specimen verify\` says what to do)`,
          );
        }
      }
      if (Object.keys(found).length > 0) await markDamaged(specimenDir, found);
      else if (!rebooted) await syncDir(path.join(specimenDir, RUNS_DIR));
    }
    await fsp.rm(file, { force: true });
    report.entries++;
  }
  return report;
}

/**
 * One run of an entry's specimen: `skip` when it was sealed before the entry (or is not sealed: an
 * unfinished run is already reported `incomplete`), else fsynced (`synced`) or verified (`verified`, or
 * the reason it is damaged).
 */
async function checkRun(
  dir: string,
  since: number,
  rebooted: boolean,
): Promise<'skip' | 'synced' | 'verified' | { reason: string }> {
  const manifestFile = path.join(dir, MANIFEST_FILE);
  let raw: PlainObject | undefined;
  let unreadable: string | undefined;
  try {
    raw = decodeManifest(fs.readFileSync(manifestFile), manifestFile);
  } catch (err) {
    unreadable =
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it has no manifest' : 'its manifest does not read';
  }
  if (unreadable) {
    // Only a run touched during the batch can have lost its manifest to the crash.
    const st = fs.statSync(dir, { throwIfNoEntry: false });
    if (!rebooted || !st || st.mtimeMs < since - 2000) return 'skip';
    return { reason: `${unreadable} (${manifestFile})` };
  }
  const sealedAt = Date.parse(String(raw?.sealed_at ?? ''));
  const recorded = raw?.files as Record<string, FileEntry> | undefined;
  if (Number.isNaN(sealedAt) || sealedAt < since || !recorded) return 'skip';
  if (!rebooted) {
    const files = (await listFiles(dir).catch(() => [] as string[])).map((f) =>
      path.join(dir, ...f.split('/')),
    );
    await syncFiles(files, { missingOk: true });
    const dirs = new Set<string>([dir]);
    for (const f of files)
      for (let d = path.dirname(f); d.startsWith(dir) && d !== dir; d = path.dirname(d)) dirs.add(d);
    await Promise.all([...dirs].map((d) => syncDir(d)));
    return 'synced';
  }
  const diff = diffInventories(recorded, await inventory(dir, skipInInventory).catch(() => ({})));
  const parts = [
    diff.changed.length > 0 ? `changed since sealing: ${diff.changed.join(', ')}` : '',
    diff.missing.length > 0 ? `missing: ${diff.missing.join(', ')}` : '',
  ].filter(Boolean);
  // Extra files are not crash damage (a crash loses data, it adds none); `specimen verify` lists them.
  return parts.length > 0 ? { reason: parts.join('; ') } : 'verified';
}
