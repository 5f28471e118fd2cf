/**
 * Syncing the specimen files that can change (manifest, field notes, supersessions, protocol) with
 * conditional writes. Each write names the ETag it read (If-Match) or that it expects no object
 * (If-None-Match), so a concurrent change by another host makes the write fail instead of being
 * overwritten; the file is then re-read, merged against the last agreed version and written again.
 *
 * @example
 * const outcomes = await syncSpecimenFiles(ctx, '2025_01_02_x', 'push')
 * // [{ file: 'field_notes.md', outcome: 'merged' }, …]; RemoteConflictError when a merge is impossible
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RemoteConflictError } from '../errors.js';
import { writeFileAtomic } from '../format/atomic-write.js';
import { decodeManifest, encodeManifest } from '../format/msgpack.js';
import { SPECIMEN_FILES, specimenKey } from './layout.js';
import { mergeMaps, mergeNotes } from './merge.js';
import type { ObjectStore } from './object-store.js';
import type { SyncState } from './state.js';

/** What happened to one file. */
export type FileOutcome = 'same' | 'pushed' | 'pulled' | 'merged' | 'local-ahead' | 'remote-ahead' | 'absent';

export interface SyncContext {
  store: ObjectStore;
  state: SyncState;
  /** Label for our side in merge markers (defaults to the host name). */
  host?: string;
}

const MAX_ROUNDS = 20;

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

async function readLocal(file: string): Promise<Uint8Array | undefined> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Merges a file changed on both sides; throws RemoteConflictError naming the fields that cannot merge. */
function mergeFile(
  specimenId: string,
  name: string,
  base: Uint8Array | undefined,
  ours: Uint8Array,
  theirs: Uint8Array,
  host: string,
): Uint8Array {
  if (name === 'field_notes.md') {
    const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
    return Buffer.from(mergeNotes(base && text(base), text(ours), text(theirs), host), 'utf8');
  }
  if (name.endsWith('.msgpack')) {
    const at = `${specimenId}/${name}`;
    const result = mergeMaps(
      base && decodeManifest(base, at),
      decodeManifest(ours, at),
      decodeManifest(theirs, at),
    );
    if (result.merged) return encodeManifest(result.merged);
    throw new RemoteConflictError(
      `remote: ${at} changed here and on the remote in the same field(s) ${result.conflicts.map((c) => JSON.stringify(c)).join(', ')}; ` +
        'pull, resolve by hand (or take one side), then push again',
      result.conflicts.map((c) => `${at}#${c}`),
    );
  }
  throw new RemoteConflictError(
    `remote: ${specimenId}/${name} changed here and on the remote; pull, keep one version, then push again`,
    [`${specimenId}/${name}`],
  );
}

/**
 * Syncs every mutable file of one specimen. `push` writes local changes to the remote (merging concurrent
 * ones, and writing the merge locally too); `pull` brings remote changes down (merging into the local
 * file, which the next push then sends). Local files are written atomically.
 */
export async function syncSpecimenFiles(
  ctx: SyncContext,
  specimenDir: string,
  specimenId: string,
  direction: 'push' | 'pull',
): Promise<{ file: string; outcome: FileOutcome }[]> {
  // The files are independent objects: syncing them at once saves a round trip each.
  const out = await Promise.all(
    SPECIMEN_FILES.map(async (name) => ({
      file: name,
      outcome: await syncOne(ctx, specimenDir, specimenId, name, direction),
    })),
  );
  return out.filter((o) => o.outcome !== 'absent');
}

/** Brings one specimen file down as `pull` would (for `index --remote`, when its ETag moved). */
export function pullSpecimenFile(
  ctx: SyncContext,
  specimenDir: string,
  specimenId: string,
  name: string,
): Promise<FileOutcome> {
  return syncOne(ctx, specimenDir, specimenId, name, 'pull');
}

async function syncOne(
  ctx: SyncContext,
  specimenDir: string,
  specimenId: string,
  name: string,
  direction: 'push' | 'pull',
): Promise<FileOutcome> {
  const { store, state } = ctx;
  const host = ctx.host ?? os.hostname();
  const localFile = path.join(specimenDir, name);
  const key = specimenKey(specimenId, name);
  const writeLocal = async (bytes: Uint8Array): Promise<void> => {
    await fsp.mkdir(specimenDir, { recursive: true });
    await writeFileAtomic(localFile, bytes);
  };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const local = await readLocal(localFile);
    const base = await state.readBase(specimenId, name);
    const remote = await store.get(key);
    if (!remote && !local) return 'absent';
    if (remote && local && equal(remote.body, local)) {
      if (!base || !equal(base, local)) await state.writeBase(specimenId, name, local);
      return 'same';
    }
    if (!remote) {
      if (direction === 'pull') return 'local-ahead';
      const put = await store.put(key, local!, { ifNoneMatch: true });
      if (put.ok) {
        await state.writeBase(specimenId, name, local!);
        return 'pushed';
      }
      continue; // another host created it just now: re-read and merge
    }
    if (!local) {
      if (direction === 'push') return 'remote-ahead';
      await writeLocal(remote.body);
      await state.writeBase(specimenId, name, remote.body);
      return 'pulled';
    }
    if (base && equal(remote.body, base)) {
      // Only we changed it since we last agreed.
      if (direction === 'pull') return 'local-ahead';
      const put = await store.put(key, local, { ifMatch: remote.etag });
      if (put.ok) {
        await state.writeBase(specimenId, name, local);
        return 'pushed';
      }
      continue;
    }
    if (base && equal(local, base)) {
      // Only the remote changed it.
      if (direction === 'push') return 'remote-ahead';
      await writeLocal(remote.body);
      await state.writeBase(specimenId, name, remote.body);
      return 'pulled';
    }
    // Both changed (or we never agreed on a version): merge.
    const merged = mergeFile(specimenId, name, base, local, remote.body, host);
    if (direction === 'pull') {
      // The remote's version becomes the base; the merge is a local change the next push sends.
      if (fs.existsSync(localFile) && !equal(merged, local)) await writeLocal(merged);
      await state.writeBase(specimenId, name, remote.body);
      return 'merged';
    }
    const put = await store.put(key, merged, { ifMatch: remote.etag });
    if (put.ok) {
      if (!equal(merged, local)) await writeLocal(merged);
      await state.writeBase(specimenId, name, merged);
      return 'merged';
    }
  }
  throw new RemoteConflictError(
    `remote: ${specimenId}/${name} kept changing while being written (${MAX_ROUNDS} attempts); try again`,
    [`${specimenId}/${name}`],
  );
}
