/**
 * Run references as the API's query strings spell them, `<specimen_id>/<run_id>`, and the run status that
 * means "still being written" (pages poll while a run has it).
 *
 * @example
 * runRef({ specimen_id: 'S', run_id: 'R' }) // 'S/R'
 * parseRunRef('S/R') // { specimenId: 'S', runId: 'R' }
 */

/** A run's reference (`run=` in the API's query strings, the compare page's URL). */
export function runRef(run: { specimen_id: string; run_id: string }): string {
  return `${run.specimen_id}/${run.run_id}`;
}

/** The two IDs of a run reference (empty strings for a missing part). */
export function parseRunRef(ref: string): { specimenId: string; runId: string } {
  const [specimenId = '', runId = ''] = ref.split('/');
  return { specimenId, runId };
}

/** The effective status of a run still in progress (its writer alive; see docs/api.md). */
export const RUNNING = 'running';

/** True for a run still in progress: its page keeps refreshing. */
export function isRunning(run: { status: string }): boolean {
  return run.status === RUNNING;
}
