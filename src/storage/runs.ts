/**
 * Runs on disk. A run is `specimens/<id>/runs/<run_id>/` with its own manifest; the Python implementation's
 * legacy layout keeps one implicit run in `strata/` (run ID `strata`). New run directories are claimed with
 * an exclusive `mkdir`, which the OS makes atomic across processes, so two runs never share an ID even when
 * they start in the same second: the second becomes `…_001`, the third `…_002`. How a run is read is
 * decided in describe.ts, re-exported here.
 *
 * @example
 * const { runId, dir } = await claimRunDir('/vault/specimens/x/runs')
 * const runs = await listRunInfos('x', '/vault/specimens/x')
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { runIdBase } from '../format/ids.js';
import { SPACE_RESERVE_BYTES, SPACE_RESERVE_FILE } from '../format/layout.js';
import { activatePlanned } from './notebook.js';

export {
  type EffectiveRunStatus,
  effectiveStatus,
  listRunInfos,
  type RunDescription,
  type RunInfo,
  type RunLayout,
  readRunInfo,
} from './describe.js';

/**
 * The last suffix claimed per runs directory and second, so that a sweep starting hundreds of runs in one
 * second tries one name per run instead of every taken one before it.
 */
const lastClaimed = new Map<string, { base: string; seq: number }>();

/**
 * Claims a new run directory under `runsDir` (a specimen's `runs/`) named after `now`, adding a suffix on
 * collision. A planned specimen becomes active with it: every writer of runs claims its directory here.
 */
export async function claimRunDir(
  runsDir: string,
  now: Date = new Date(),
): Promise<{ runId: string; dir: string }> {
  const base = runIdBase(now);
  const last = lastClaimed.get(runsDir);
  if (!last) await fsp.mkdir(runsDir, { recursive: true });
  // Names below the last one claimed here are taken (by us); other processes are caught by EEXIST.
  const from = last && last.base === base ? last.seq + 1 : 0;
  for (let seq = from; seq < 100_000; seq++) {
    const runId = seq === 0 ? base : `${base}_${String(seq).padStart(3, '0')}`;
    const dir = path.join(runsDir, runId);
    try {
      await fsp.mkdir(dir);
      lastClaimed.set(runsDir, { base, seq });
      await reserveSpace(dir);
      await activatePlanned(path.dirname(runsDir), now);
      return { runId, dir };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && last) {
        // The runs directory was removed since (a test, or a vault recreated): start over.
        lastClaimed.delete(runsDir);
        return claimRunDir(runsDir, now);
      }
      if (code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`run: could not claim a run directory under ${runsDir}`);
}

/**
 * Sets space aside for sealing the run (sealRunDir removes it first). Best effort: on a disk already too
 * full for it, the run's own first write reports the full disk.
 */
async function reserveSpace(dir: string): Promise<void> {
  await fsp
    .writeFile(path.join(dir, SPACE_RESERVE_FILE), Buffer.alloc(SPACE_RESERVE_BYTES))
    .catch(async () => {
      await fsp.rm(path.join(dir, SPACE_RESERVE_FILE), { force: true });
    });
}
