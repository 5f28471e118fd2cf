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

/** Records that `runId` is superseded by `by`. Both runs must exist and differ. */
export async function supersedeRun(
  vault: Vault,
  specimenId: string,
  runId: string,
  options: { by: string; reason?: string },
): Promise<Supersession> {
  const storage = await SpecimenStorage.open(specimenId, { vault });
  await storage.getRun(runId);
  await storage.getRun(options.by);
  if (runId === options.by)
    throw new ManifestError(`supersede: a run cannot supersede itself (${runId})`, 'by');
  const all = await readSupersessions(storage.path);
  const record: Supersession = {
    by: options.by,
    reason: options.reason ?? null,
    at: new Date().toISOString(),
  };
  all[runId] = record;
  await writeManifestFile(path.join(storage.path, SUPERSESSIONS_FILE), all as unknown as PlainObject);
  return record;
}
