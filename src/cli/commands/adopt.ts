/**
 * `specimen adopt [ID…] [--force] [--json]`: seals what writers left behind — runs staged in
 * `specimens/<id>/pending/` by the Python package where no CLI was reachable, and incomplete runs whose
 * writer died — into normal sealed runs. Staged runs whose writer may still be running are listed and left.
 *
 * @example
 * specimen adopt 2026_01_02_probe
 * # adopted pending/20260102_101500-4242-1a2b as run 20260102_101500: succeeded (1000 metric rows)
 */
import { adoptRuns, hasPendingRuns } from '../../runner/external-run.js';
import { Vault } from '../../storage/vault.js';
import { painter } from '../output.js';

export default async function adopt(
  ids: string[],
  opts: { force?: boolean; json?: boolean; vault?: string },
): Promise<number> {
  const vault = await Vault.open(opts.vault);
  const paint = painter(process.stderr);
  const report = await adoptRuns(vault, {
    ...(ids.length > 0 ? { ids } : {}),
    force: opts.force ?? false,
    onWarning: (m) => process.stderr.write(`${paint('yellow', 'warning:')} ${m}\n`),
  });
  if (opts.json) {
    console.log(JSON.stringify(report));
    return 0;
  }
  for (const a of report.adopted)
    console.log(
      `adopted ${a.adopted_from} as run ${a.run_id} of ${a.specimen_id}: ${a.status} (${a.rows} metric rows)`,
    );
  for (const s of report.skipped)
    process.stderr.write(`${paint('yellow', 'skipped')} ${s.path}: ${s.reason}\n`);
  if (report.adopted.length === 0 && report.skipped.length === 0) console.log('nothing to adopt');
  return 0;
}

/**
 * What `specimen index` does first: staged runs that are finished (or whose writer is gone) become sealed
 * runs, so the catalog sees them. Costs one directory check per specimen when there are none.
 */
export async function adoptPendingRuns(root: string, warn: (m: string) => void): Promise<void> {
  const vault = await Vault.open(root);
  if (!(await hasPendingRuns(vault))) return;
  const report = await adoptRuns(vault, { pendingOnly: true, onWarning: warn });
  for (const a of report.adopted)
    warn(`adopted ${a.adopted_from} as run ${a.run_id} of ${a.specimen_id} (${a.status})`);
  if (report.skipped.length > 0)
    warn(
      `${report.skipped.length} staged run(s) left in pending/ (writer still running or unreadable); \`specimen adopt\` says why`,
    );
}
