/**
 * Verification of sealed runs: every file's sha256 and size is recomputed and compared with the inventory
 * recorded at sealing. Changed, missing and extra files are all listed. Journal entries of batch-mode
 * writers that died are settled first (recovery.ts), so a run damaged by an OS crash is reported as such.
 *
 * @example
 * const report = await verifyVault(vault)            // or verifyVault(vault, ['2025_01_02_x'])
 * report.ok   // false when any sealed run changed
 */
import { MANIFEST_FILE } from '../format/layout.js';
import { type DamageRecord, isRemoteStub } from './describe.js';
import { diffInventories, type FileEntry, type InventoryDiff, inventory } from './hashing.js';
import { recoverJournal } from './recovery.js';
import { listRunInfos } from './runs.js';
import type { Vault } from './vault.js';

/** Verification of one run. */
export interface RunVerification extends InventoryDiff {
  specimenId: string;
  runId: string;
  /**
   * `verified`, `modified` (changed/missing/extra files), `unsealed` (nothing recorded to check against) or
   * `remote` (a remote stub of `index --remote`: the files are on the remote; `verify --remote` checks them)
   * or `damaged` (found not to match its seal after an OS crash; `damage` says what and what to do).
   */
  result: 'verified' | 'modified' | 'unsealed' | 'remote' | 'damaged';
  files: number;
  damage?: DamageRecord;
}

export interface VerifyReport {
  ok: boolean;
  runs: RunVerification[];
}

const skip = (rel: string): boolean =>
  rel === MANIFEST_FILE || rel.split('/').some((p) => p.startsWith('.tmp-'));

/** Verifies every sealed run of the given specimens (all when `ids` is empty). */
export async function verifyVault(vault: Vault, ids: readonly string[] = []): Promise<VerifyReport> {
  const specimenIds = ids.length > 0 ? ids : await vault.specimenIds();
  await recoverJournal(vault.root);
  const out: RunVerification[] = [];
  for (const id of specimenIds) {
    const dir = await vault.assertSpecimenExists(id);
    for (const run of await listRunInfos(id, dir)) {
      const recorded = run.manifest?.files as Record<string, FileEntry> | undefined;
      if (isRemoteStub(run.path)) {
        out.push({
          specimenId: id,
          runId: run.runId,
          result: 'remote',
          files: 0,
          changed: [],
          missing: [],
          extra: [],
        });
        continue;
      }
      if (run.damage && (!run.sealed || !recorded)) {
        // Its manifest did not survive the crash: nothing to check against, but not merely unsealed.
        out.push({
          specimenId: id,
          runId: run.runId,
          result: 'damaged',
          files: 0,
          changed: [],
          missing: [],
          extra: [],
          damage: run.damage,
        });
        continue;
      }
      if (!run.sealed || !recorded) {
        out.push({
          specimenId: id,
          runId: run.runId,
          result: 'unsealed',
          files: 0,
          changed: [],
          missing: [],
          extra: [],
        });
        continue;
      }
      const diff = diffInventories(recorded, await inventory(run.path, skip));
      const modified = diff.changed.length + diff.missing.length + diff.extra.length > 0;
      out.push({
        specimenId: id,
        runId: run.runId,
        result: run.damage ? 'damaged' : modified ? 'modified' : 'verified',
        files: Object.keys(recorded).length,
        ...diff,
        ...(run.damage ? { damage: run.damage } : {}),
      });
    }
  }
  return { ok: out.every((r) => r.result !== 'modified' && r.result !== 'damaged'), runs: out };
}
