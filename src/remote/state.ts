/**
 * What this vault remembers about its remote, under `<vault>/.specimen-remote/<remote-hash>/` (local only,
 * never uploaded, safe to delete — it only saves requests and gives merges their base):
 *
 * - `base/<specimen_id>/<file>`: each mutable specimen file as last agreed with the remote, the common
 *   ancestor of a three-way merge when both sides changed it since.
 * - `runs/<specimen_id>.json`: run ID → sha256 of the run manifest known to be committed on the remote.
 *
 * @example
 * const state = syncState(vault.root, remote)
 * await state.writeBase('2025_01_02_x', 'field_notes.md', bytes)
 */
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../format/atomic-write.js';
import type { RemoteConfig } from './config.js';

/** Directory under the vault root holding remote sync state. */
export const STATE_DIR = '.specimen-remote';

/** sha256 of bytes, hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Local sync state for one remote. */
export interface SyncState {
  readBase(specimenId: string, file: string): Promise<Uint8Array | undefined>;
  writeBase(specimenId: string, file: string, bytes: Uint8Array): Promise<void>;
  /** Run ID → manifest sha256 of the runs known to be committed remotely. */
  knownRuns(specimenId: string): Promise<Record<string, string>>;
  recordRuns(specimenId: string, runs: Record<string, string>): Promise<void>;
}

/** A short stable name for a remote location (endpoint, bucket, prefix), for per-remote local state. */
export function remoteId(remote: RemoteConfig): string {
  return sha256Hex(Buffer.from(`${remote.endpoint ?? 'aws'}\n${remote.bucket}\n${remote.prefix}`)).slice(
    0,
    12,
  );
}

export function syncState(root: string, remote: RemoteConfig): SyncState {
  // One state per remote location, so pointing the vault at another bucket starts from a clean slate.
  const dir = path.join(root, STATE_DIR, remoteId(remote));
  const readOrUndefined = async (file: string): Promise<Buffer | undefined> => {
    try {
      return await fsp.readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  };
  return {
    readBase: (specimenId, file) => readOrUndefined(path.join(dir, 'base', specimenId, file)),
    async writeBase(specimenId, file, bytes) {
      const target = path.join(dir, 'base', specimenId, file);
      await fsp.mkdir(path.dirname(target), { recursive: true });
      await writeFileAtomic(target, bytes);
    },
    async knownRuns(specimenId) {
      const text = await readOrUndefined(path.join(dir, 'runs', `${specimenId}.json`));
      if (!text) return {};
      try {
        return JSON.parse(text.toString('utf8')) as Record<string, string>;
      } catch {
        return {}; // a damaged cache only costs a few requests
      }
    },
    async recordRuns(specimenId, runs) {
      if (Object.keys(runs).length === 0) return;
      const target = path.join(dir, 'runs', `${specimenId}.json`);
      await fsp.mkdir(path.dirname(target), { recursive: true });
      // Re-read just before writing: another process of this host may have recorded runs meanwhile.
      const merged = { ...(await this.knownRuns(specimenId)), ...runs };
      await writeFileAtomic(target, `${JSON.stringify(merged)}\n`);
    },
  };
}
