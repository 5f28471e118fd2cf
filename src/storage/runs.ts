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
 * Claims a new run directory under `runsDir` (a specimen's `runs/`) named after `now`, adding a suffix on
 * collision. A planned specimen becomes active with it: every writer of runs claims its directory here.
 */
export async function claimRunDir(
  runsDir: string,
  now: Date = new Date(),
): Promise<{ runId: string; dir: string }> {
  await fsp.mkdir(runsDir, { recursive: true });
  const base = runIdBase(now);
  for (let seq = 0; seq < 100_000; seq++) {
    const runId = seq === 0 ? base : `${base}_${String(seq).padStart(3, '0')}`;
    const dir = path.join(runsDir, runId);
    try {
      await fsp.mkdir(dir);
      await activatePlanned(path.dirname(runsDir), now);
      return { runId, dir };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`run: could not claim a run directory under ${runsDir}`);
}
