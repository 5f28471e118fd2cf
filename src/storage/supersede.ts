/**
 * Supersession records. A sealed run is never modified; marking it superseded writes a separate record,
 * `specimens/<id>/supersessions.msgpack`: a map run_id → {by, reason, at}.
 *
 * @example
 * await supersedeRun(vault, '2025_01_02_x', '20250102_101010', { by: '20250103_090000', reason: 'bug in eval' })
 */

import fs from 'node:fs';
import path from 'node:path';
import { ManifestError } from '../errors.js';
import { SUPERSESSIONS_FILE } from '../format/layout.js';
import { type PlainObject, readManifestFile, writeManifestFile } from '../format/msgpack.js';
import { SpecimenStorage } from './specimen-storage.js';
import type { Vault } from './vault.js';

/** One supersession. */
export interface Supersession {
  by: string;
  reason: string | null;
  at: string;
}

/** All supersessions of a specimen (run_id → record). */
export async function readSupersessions(specimenDir: string): Promise<Record<string, Supersession>> {
  const file = path.join(specimenDir, SUPERSESSIONS_FILE);
  if (!fs.existsSync(file)) return {};
  return (await readManifestFile(file)) as unknown as Record<string, Supersession>;
}

/** What supersedeRun recorded, and the record it replaced when the run was already superseded. */
export interface SupersedeResult extends Supersession {
  replaced?: Supersession;
}

/**
 * Records that `runId` is superseded by `by`. Both runs must exist and differ, and `by` must not itself be
 * superseded, directly or through a chain, by `runId` (a cycle would leave no run standing). A run already
 * superseded gets the new record; the one it replaces is returned as `replaced`.
 */
export async function supersedeRun(
  vault: Vault,
  specimenId: string,
  runId: string,
  options: { by: string; reason?: string },
): Promise<SupersedeResult> {
  const storage = await SpecimenStorage.open(specimenId, { vault });
  await storage.getRun(runId);
  await storage.getRun(options.by);
  if (runId === options.by)
    throw new ManifestError(`supersede: a run cannot supersede itself (${runId})`, 'by');
  const all = await readSupersessions(storage.path);
  // Follow what `by` is superseded by: reaching `runId` closes a cycle.
  const chain = [runId, options.by];
  for (let at = all[options.by]; at !== undefined; at = all[at.by]) {
    chain.push(at.by);
    if (at.by === runId)
      throw new ManifestError(
        `supersede: ${options.by} cannot supersede ${runId}: it is itself superseded by it (${chain.join(' → ')}); ` +
          `supersede that record first, or pick another run`,
        'by',
      );
    if (chain.length > Object.keys(all).length + 2) break;
  }
  const record: Supersession = {
    by: options.by,
    reason: options.reason ?? null,
    at: new Date().toISOString(),
  };
  const replaced = all[runId];
  all[runId] = record;
  await writeManifestFile(path.join(storage.path, SUPERSESSIONS_FILE), all as unknown as PlainObject);
  return replaced ? { ...record, replaced } : record;
}
