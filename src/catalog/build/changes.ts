/**
 * Whether an incremental index would change anything that matters, decided by the checks the indexer
 * itself makes (scan.ts: the specimen directories and their signatures against `state.json`, the writers
 * of running runs) without reading a manifest or opening DuckDB. The server polls it to keep the catalog
 * current: on a vault of a thousand sealed specimens a check is about three thousand `stat` calls.
 *
 * One difference: an unsealed run counts as changed when an entry of its directory was created, renamed or
 * removed (the directory's own stamp: a seal, `finish.json`, a new tensor) or its manifest was replaced —
 * not when a file in it grew. A training run appends to its metrics every 100 ms, and re-indexing it each
 * time would change nothing the catalog shows of a running run.
 *
 * @example
 * const changes = new CatalogChanges('/vault')
 * if (changes.pending()) await indexVault('/vault')
 */
import fs from 'node:fs';
import path from 'node:path';
import { CATALOG_FILE, fileStamp, MANIFEST_FILE, SPECIMENS_DIR } from '../../format/layout.js';
import { runDirName } from '../../storage/describe.js';
import { recheckRunning, specimenSignature, statSig } from '../read-vault.js';
import { listSpecimenDirs, type SpecimenRecord, SpecimenState } from '../scan.js';
import {
  type CatalogState,
  catalogStatePath,
  currentDelta,
  deltaSpecimenRecords,
  readCatalogState,
} from './delta.js';

/** An unsealed run of `prev` moved (see the module comment), or a running run's writer has gone. */
function unsealedRunsMoved(specimenDir: string, prev: SpecimenState): boolean {
  for (const [runId, rs] of Object.entries(prev.runs)) {
    if (rs.sealed) continue;
    const dir = path.join(specimenDir, runDirName(runId));
    // runSignature's layout: `<dir stamp>|<entries>|read=<manifest stamp>`.
    const own = rs.sig.slice(0, rs.sig.indexOf('|'));
    const read = rs.sig.slice(rs.sig.lastIndexOf('|read=') + 6);
    if (statSig(dir) !== own || statSig(path.join(dir, MANIFEST_FILE)) !== read) return true;
    if (rs.status === 'running' && recheckRunning(rs) !== 'running') return true;
  }
  return false;
}

/** See the module comment. The last `state.json` and delta read are kept while they are unchanged. */
export class CatalogChanges {
  private stamp: string | undefined;
  private state: CatalogState | undefined;
  private delta: string | undefined;
  private records: Record<string, SpecimenRecord> = {};
  private readonly specimens = new Map<string, SpecimenState>();

  constructor(readonly root: string) {}

  /** A stamp of the catalog as indexed: it moves whenever an index changed the catalog. */
  version(): string {
    const state = this.readState();
    return `${fileStamp(path.join(this.root, CATALOG_FILE)) ?? '-'}|${this.stamp ?? '-'}|${state ? this.delta : ''}`;
  }

  /** True when the specimens on disk differ from what the last index recorded (or there is no index). */
  pending(): boolean {
    const state = this.readState();
    if (!state || !fs.existsSync(path.join(this.root, CATALOG_FILE))) return true;
    const records = this.records;
    const ids = listSpecimenDirs(this.root, () => {});
    if (ids.length !== Object.keys(records).length) return true;
    for (const id of ids) {
      const record = records[id];
      if (!record) return true;
      let prev = this.specimens.get(id);
      if (!prev) {
        prev = SpecimenState.fromRecord(record);
        this.specimens.set(id, prev);
      }
      const dir = path.join(this.root, SPECIMENS_DIR, id);
      if (specimenSignature(dir) !== prev.signature) return true;
      if (prev.indexed && prev.unsealed && unsealedRunsMoved(dir, prev)) return true;
    }
    return false;
  }

  private readState(): CatalogState | undefined {
    const stamp = fileStamp(catalogStatePath(this.root));
    let changed = false;
    if (stamp !== this.stamp) {
      this.stamp = stamp;
      this.state = stamp === undefined ? undefined : readCatalogState(this.root);
      changed = true;
    }
    const state = this.state;
    if (!state) return undefined;
    const delta = currentDelta(this.root, state.gen);
    if (changed || delta !== this.delta) {
      this.delta = delta;
      this.records = { ...state.specimens, ...deltaSpecimenRecords(this.root, state.gen) };
      this.specimens.clear();
    }
    return state;
  }
}
