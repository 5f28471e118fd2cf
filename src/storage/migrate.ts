/**
 * Migration of the Python implementation's legacy layout: `strata/` (one implicit run) becomes
 * `runs/<run_id>/`, named after the run's recorded start time (or the directory's modification time). The
 * directory is renamed, not copied, and every file is hashed before and after: the migration stops with an
 * error if a single byte differs. The run is then sealed with that inventory, keeping every field of the old
 * manifest; paths in the specimen manifest that pointed into `strata/` are updated.
 *
 * @example
 * const plan = await migrateVault(vault, { dryRun: true })   // what would move where
 * await migrateVault(vault)
 */

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { LEGACY_RUN_ID, MANIFEST_FILE, RUNS_DIR } from '../format/layout.js';
import { normalizeRunManifest, type RunManifest } from '../format/manifest.js';
import { type PlainObject, type PlainValue, readManifestFile, writeManifestFile } from '../format/msgpack.js';
import { diffInventories, type FileEntry, inventory } from './hashing.js';
import { sealRunDir } from './seal.js';
import type { Vault } from './vault.js';

export interface MigrationStep {
  specimenId: string;
  from: string;
  to: string;
  runId: string;
  files: number;
  bytes: number;
  done: boolean;
}

function runIdFrom(iso: string | undefined, fallback: Date): string {
  const t = iso && !Number.isNaN(Date.parse(iso)) ? iso : undefined;
  // Python wrote naive local timestamps; their digits are kept as written rather than shifted to UTC.
  const digits = t ? t.replace(/[^0-9]/g, '') : fallback.toISOString().replace(/[^0-9]/g, '');
  return `${digits.slice(0, 8)}_${digits.slice(8, 14)}`;
}

async function uniqueRunId(runsDir: string, base: string): Promise<string> {
  for (let seq = 0; ; seq++) {
    const id = seq === 0 ? base : `${base}_${String(seq).padStart(3, '0')}`;
    if (!fs.existsSync(path.join(runsDir, id))) return id;
  }
}

/** Migrates every legacy specimen (or just plans it with `dryRun`). Returns the steps. */
export async function migrateVault(
  vault: Vault,
  options: { dryRun?: boolean } = {},
): Promise<MigrationStep[]> {
  const steps: MigrationStep[] = [];
  for (const id of await vault.specimenIds()) {
    const specimenDir = vault.specimenDir(id);
    const strata = path.join(specimenDir, LEGACY_RUN_ID);
    if (!fs.existsSync(strata) || !fs.statSync(strata).isDirectory()) continue;
    const manifestFile = path.join(strata, MANIFEST_FILE);
    const raw: PlainObject = fs.existsSync(manifestFile) ? await readManifestFile(manifestFile) : {};
    const timing = (raw.timing ?? {}) as Record<string, PlainValue>;
    const stat = await fsp.stat(strata);
    const runsDir = path.join(specimenDir, RUNS_DIR);
    const runId = await uniqueRunId(
      runsDir,
      runIdFrom(typeof timing.start === 'string' ? timing.start : undefined, stat.mtime),
    );
    const skip = (rel: string): boolean => rel === MANIFEST_FILE;
    const before = await inventory(strata, skip);
    // Everything that can fail on content is checked before anything moves.
    const manifest = normalizeRunManifest(
      { run_timestamp: stat.mtime.toISOString(), ...raw },
      runId,
      manifestFile,
    );
    const step: MigrationStep = {
      specimenId: id,
      from: path.relative(vault.root, strata),
      to: path.relative(vault.root, path.join(runsDir, runId)),
      runId,
      files: Object.keys(before).length,
      bytes: Object.values(before).reduce((a, e) => a + e.bytes, 0),
      done: false,
    };
    steps.push(step);
    if (options.dryRun) continue;

    await fsp.mkdir(runsDir, { recursive: true });
    const target = path.join(runsDir, runId);
    await fsp.rename(strata, target);
    try {
      const after = await inventory(target, skip);
      const diff = diffInventories(before, after);
      if (diff.changed.length + diff.missing.length + diff.extra.length > 0)
        throw new Error(`files differ after the move (${JSON.stringify(diff)})`);
      // The old manifest's bytes are kept beside the new one; the new one also keeps all its fields.
      if (fs.existsSync(path.join(target, MANIFEST_FILE)))
        await fsp.copyFile(path.join(target, MANIFEST_FILE), path.join(target, 'manifest.legacy.msgpack'));
      const m = { ...manifest, run_id: runId, migrated_from: LEGACY_RUN_ID } as unknown as RunManifest;
      await sealRunDir(target, m, { status: 'succeeded' });
    } catch (err) {
      // Put the original manifest back (sealing may have replaced it), then the directory.
      const legacyCopy = path.join(target, 'manifest.legacy.msgpack');
      if (fs.existsSync(legacyCopy)) await fsp.rename(legacyCopy, path.join(target, MANIFEST_FILE));
      else await fsp.rm(path.join(target, MANIFEST_FILE), { force: true });
      await fsp.rename(target, strata);
      throw new Error(`migrate: ${id}: ${(err as Error).message}; moved back, nothing changed`, {
        cause: err,
      });
    }
    const sealed = (await readManifestFile(path.join(target, MANIFEST_FILE))).files as unknown as Record<
      string,
      FileEntry
    >;
    const check = diffInventories(before, sealed);
    if (check.changed.length + check.missing.length > 0)
      throw new Error(
        `migrate: ${id}: sealed inventory disagrees with the original files: ${JSON.stringify(check)}`,
      );
    await rewriteArtifactPaths(vault, id, runId);
    step.done = true;
  }
  return steps;
}

async function rewriteArtifactPaths(vault: Vault, id: string, runId: string): Promise<void> {
  const file = path.join(vault.specimenDir(id), MANIFEST_FILE);
  if (!fs.existsSync(file)) return;
  const m = await readManifestFile(file);
  const arts = m.artifacts as Record<string, PlainObject> | undefined;
  let changed = false;
  for (const a of Object.values(arts ?? {})) {
    if (typeof a?.path === 'string' && a.path.startsWith(`${LEGACY_RUN_ID}/`)) {
      a.path = `${RUNS_DIR}/${runId}/${a.path.slice(LEGACY_RUN_ID.length + 1)}`;
      changed = true;
    }
  }
  if (changed) await writeManifestFile(file, m);
}
