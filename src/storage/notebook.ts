/**
 * The lab notebook of a specimen: its field notes (`field_notes.md`) and the manifest fields a researcher
 * edits by hand — `hypothesis`, `expected_results`, `conclusion`, `status`, `tags`, `description`. Every
 * write is atomic (temp file + rename) and touches only the specimen's own files, never a run.
 *
 * Read-modify-write steps (appending a note, applying a patch, activating a planned specimen) hold
 * `.notebook.lock` in the specimen directory, so two writers (`specimen note` and the web UI) never lose
 * each other's change.
 *
 * Status lifecycle (docs/format.md): `planned` → `active` (set by the first run, see `activatePlanned`) →
 * `concluded` (needs a conclusion); `archived` and `deprecated` at any time. `planned` is refused once the
 * specimen has runs.
 *
 * @example
 * await updateNotebook(vault, '2025_01_02_probe', { hypothesis: 'layer 6 encodes syntax', status: 'planned' })
 * await appendFieldNote(vault, '2025_01_02_probe', 'loss spiked at step 4000')
 * await activatePlanned(vault.specimenDir('2025_01_02_probe'))   // from the code that starts a run
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../format/atomic-write.js';
import { appendNoteEntry, noteHeading } from '../format/field-notes.js';
import {
  FIELD_NOTES_FILE,
  LEGACY_RUN_ID,
  MANIFEST_FILE,
  NOTEBOOK_LOCK_FILE,
  RUNS_DIR,
} from '../format/layout.js';
import {
  LAB_FIELD_MAX_CHARS,
  LAB_FIELDS,
  type LabField,
  SPECIMEN_STATUSES,
  type SpecimenManifest,
  type SpecimenStatus,
} from '../format/manifest.js';
import { decodeManifest, type PlainObject, writeManifestFile } from '../format/msgpack.js';
import type { Vault } from './vault.js';

/** Largest field notes accepted from an edit (bytes of UTF-8). */
export const FIELD_NOTES_MAX_BYTES = 1_000_000;
/** Largest single entry appended by `specimen note` (bytes of UTF-8). */
export const NOTE_ENTRY_MAX_BYTES = 100_000;
/** A tag: starts with a letter or digit; then letters, digits, `_ . : / + -`; at most 64 characters. */
export const TAG_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}_.:/+-]{0,63}$/u;
/** Most tags one specimen carries. */
export const MAX_TAGS = 64;
/** Longest description accepted (characters). */
export const DESCRIPTION_MAX_CHARS = 20_000;

/** A lock older than this was left by a writer that died (the steps under it take milliseconds). */
const LOCK_STALE_MS = 30_000;

/**
 * Runs `fn` holding the specimen's notebook lock (an O_EXCL file). Waits up to `timeoutMs` for another
 * holder, taking over a lock older than LOCK_STALE_MS; returns undefined without running `fn` when the
 * wait times out and `optional` is set, and otherwise throws UsageError.
 */
export async function withNotebookLock<T>(
  specimenDir: string,
  fn: () => Promise<T>,
  options: { timeoutMs?: number; optional?: boolean } = {},
): Promise<T | undefined> {
  const lock = path.join(specimenDir, NOTEBOOK_LOCK_FILE);
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    try {
      const fh = await fsp.open(lock, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const st = await fsp.stat(lock).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > LOCK_STALE_MS) {
        await fsp.rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        if (options.optional) return undefined;
        throw new UsageError(
          `notebook: ${lock} is held by another writer; try again (remove it if no specimen command is running)`,
        );
      }
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
    }
  }
  try {
    return await fn();
  } finally {
    await fsp.rm(lock, { force: true });
  }
}

/** An edit of a specimen's notebook fields; absent keys are left as they are, `null` clears a text field. */
export interface NotebookPatch {
  hypothesis?: string | null;
  expected_results?: string | null;
  conclusion?: string | null;
  description?: string | null;
  status?: string;
  tags?: readonly string[];
}

/** The keys a NotebookPatch may have, for callers that take one from JSON or `key=value` arguments. */
export const NOTEBOOK_KEYS = [...LAB_FIELDS, 'description', 'status', 'tags'] as const;

/** Throws UsageError naming the tag unless every tag matches TAG_PATTERN (and there are at most MAX_TAGS). */
export function assertTags(tags: readonly unknown[]): asserts tags is string[] {
  if (tags.length > MAX_TAGS) throw new UsageError(`tags: at most ${MAX_TAGS} tags, got ${tags.length}`);
  for (const t of tags) {
    if (typeof t !== 'string' || !TAG_PATTERN.test(t))
      throw new UsageError(
        `tags: ${JSON.stringify(t)} is not a tag (a letter or digit, then letters, digits, _ . : / + -; at most 64 characters)`,
      );
  }
  if (new Set(tags).size !== tags.length) throw new UsageError('tags: a tag is listed twice');
}

/** Throws UsageError unless `value` is a specimen status. */
export function assertSpecimenStatus(value: unknown): asserts value is SpecimenStatus {
  if (typeof value !== 'string' || !(SPECIMEN_STATUSES as readonly string[]).includes(value))
    throw new UsageError(
      `status must be one of ${SPECIMEN_STATUSES.join(', ')}, got ${JSON.stringify(value)}`,
    );
}

function assertText(field: string, value: unknown, max: number): asserts value is string | null {
  if (value === null) return;
  if (typeof value !== 'string') throw new UsageError(`${field} must be a string, got ${typeof value}`);
  if (value.length > max)
    throw new UsageError(`${field} is ${value.length} characters long; at most ${max} are accepted`);
  if (value.includes('\0')) throw new UsageError(`${field} contains a NUL character`);
}

/**
 * Checks a patch taken from untrusted input (JSON body, CLI) and returns it typed: unknown keys, values of
 * the wrong type or size, bad tags and unknown statuses are UsageErrors naming the key.
 */
export function parseNotebookPatch(input: Record<string, unknown>): NotebookPatch {
  const out: NotebookPatch = {};
  for (const [key, value] of Object.entries(input)) {
    if (!(NOTEBOOK_KEYS as readonly string[]).includes(key))
      throw new UsageError(`unknown field ${JSON.stringify(key)}; editable: ${NOTEBOOK_KEYS.join(', ')}`);
    if (key === 'tags') {
      if (!Array.isArray(value)) throw new UsageError('tags must be a list of strings');
      assertTags(value);
      out.tags = value;
    } else if (key === 'status') {
      assertSpecimenStatus(value);
      out.status = value;
    } else {
      const max = key === 'description' ? DESCRIPTION_MAX_CHARS : LAB_FIELD_MAX_CHARS;
      assertText(key, value, max);
      out[key as LabField | 'description'] = value;
    }
  }
  return out;
}

/** Number of runs a specimen directory holds (run folders and a legacy `strata/` run). */
export function countRuns(specimenDir: string): number {
  let n = 0;
  try {
    n = fs
      .readdirSync(path.join(specimenDir, RUNS_DIR), { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.')).length;
  } catch {
    // No runs/ yet.
  }
  if (fs.existsSync(path.join(specimenDir, LEGACY_RUN_ID))) n += 1;
  return n;
}

/**
 * Applies `patch` to the specimen manifest (validated, written atomically) and returns the new manifest.
 * Empty text clears a field. Status rules: `planned` only while there is no run; `concluded` needs a
 * conclusion (in the patch or already recorded).
 */
export async function updateNotebook(
  vault: Vault,
  specimenId: string,
  patch: NotebookPatch,
): Promise<SpecimenManifest> {
  const checked = parseNotebookPatch(patch as Record<string, unknown>);
  const dir = await vault.assertSpecimenExists(specimenId);
  const updated = await withNotebookLock(dir, () => applyPatch(vault, specimenId, dir, checked));
  return updated!;
}

function applyPatch(
  vault: Vault,
  specimenId: string,
  dir: string,
  checked: NotebookPatch,
): Promise<SpecimenManifest> {
  const runs = countRuns(dir);
  return vault.updateSpecimenManifest(specimenId, (m) => {
    const obj = m as PlainObject;
    for (const key of [...LAB_FIELDS, 'description'] as const) {
      const v = checked[key];
      if (v === undefined) continue;
      // The description is a required-by-convention string; lab fields are absent when empty.
      if (key === 'description') obj.description = v ?? '';
      else if (v === null || v.trim() === '') delete obj[key];
      else obj[key] = v;
    }
    if (checked.tags) obj.tags = [...checked.tags];
    if (checked.status !== undefined) {
      if (checked.status === 'planned' && runs > 0)
        throw new UsageError(
          `specimen ${specimenId} has ${runs} run${runs === 1 ? '' : 's'} and cannot be planned any more`,
        );
      if (checked.status === 'concluded' && !(typeof obj.conclusion === 'string' && obj.conclusion.trim()))
        throw new UsageError(`specimen ${specimenId}: write a conclusion before marking it concluded`);
      obj.status = checked.status;
    }
  });
}

/** Reads the field notes; '' when the specimen has none. */
export async function readFieldNotes(vault: Vault, specimenId: string): Promise<string> {
  const dir = await vault.assertSpecimenExists(specimenId);
  try {
    return await fsp.readFile(path.join(dir, FIELD_NOTES_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** Replaces the field notes (atomically). */
export async function writeFieldNotes(vault: Vault, specimenId: string, text: string): Promise<void> {
  if (typeof text !== 'string') throw new UsageError('field notes must be a string');
  if (Buffer.byteLength(text) > FIELD_NOTES_MAX_BYTES)
    throw new UsageError(`field notes exceed ${FIELD_NOTES_MAX_BYTES} bytes`);
  if (text.includes('\0')) throw new UsageError('field notes contain a NUL character');
  const dir = await vault.assertSpecimenExists(specimenId);
  await writeFileAtomic(path.join(dir, FIELD_NOTES_FILE), text);
}

/**
 * Appends a dated entry (`## YYYY-MM-DD HH:MM UTC`, then the text) to the field notes, atomically, and
 * returns the heading written.
 */
export async function appendFieldNote(
  vault: Vault,
  specimenId: string,
  entry: string,
  at: Date = new Date(),
): Promise<string> {
  if (entry.trim() === '') throw new UsageError('note: the entry is empty');
  if (Buffer.byteLength(entry) > NOTE_ENTRY_MAX_BYTES)
    throw new UsageError(`note: the entry exceeds ${NOTE_ENTRY_MAX_BYTES} bytes`);
  const dir = await vault.assertSpecimenExists(specimenId);
  await withNotebookLock(dir, async () => {
    const next = appendNoteEntry(await readFieldNotes(vault, specimenId), entry, at);
    await writeFieldNotes(vault, specimenId, next);
  });
  return noteHeading(at);
}

/**
 * Specimens this process found not planned while claiming a run. A specimen with runs cannot become
 * planned again (updateNotebook refuses it), so a sweep reads the specimen manifest once, not per run.
 */
const activeSpecimens = new Set<string>();

/**
 * Marks a `planned` specimen `active` (recording `activated` with the time): called by every writer that
 * creates a run. Never fails the run: a manifest it cannot read or write is left alone, and the catalog
 * still shows a planned specimen with runs as active (effectiveSpecimenStatus).
 */
export async function activatePlanned(specimenDir: string, at: Date = new Date()): Promise<boolean> {
  if (activeSpecimens.has(specimenDir)) return false;
  const file = path.join(specimenDir, MANIFEST_FILE);
  try {
    // Cheap check first: most specimens are not planned, and a run must not wait for a lock it does not need.
    if (decodeManifest(await fsp.readFile(file), file).status !== 'planned') {
      activeSpecimens.add(specimenDir);
      return false;
    }
    const done = await withNotebookLock(
      specimenDir,
      async () => {
        const m = decodeManifest(await fsp.readFile(file), file);
        if (m.status !== 'planned') return false;
        await writeManifestFile(file, { ...m, status: 'active', activated: at.toISOString() });
        return true;
      },
      { timeoutMs: 2_000, optional: true },
    );
    return done ?? false;
  } catch {
    return false;
  }
}
