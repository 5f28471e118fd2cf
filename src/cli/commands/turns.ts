/**
 * `specimen turns [ID…] [--metric M…] [--json]`: the turn of each sealed run's metrics (src/analysis/turns.ts)
 * — step, onset and end of the transition, and its sharpness score — or `-` where a metric has none.
 *
 * @example
 * specimen turns 2025_01_15_grokking_modular_addition --metric test_loss test_acc
 */
import { findTurns } from '../../catalog/index.js';
import { findVaultRoot, readVaultConfig } from '../../format/vault-config.js';
import { painter } from '../output.js';
import { makeTable } from '../table.js';

export default async function turns(
  ids: string[],
  opts: { metric?: string[]; json?: boolean; vault?: string },
): Promise<number> {
  const root = findVaultRoot(opts.vault === undefined ? {} : { explicit: opts.vault });
  const configured = (await readVaultConfig(root)).turnMetrics;
  const metrics = opts.metric ?? (configured.length > 0 ? configured : undefined);
  const runs = await findTurns(root, { specimenIds: ids, ...(metrics ? { metrics } : {}) });
  if (opts.json) {
    console.log(JSON.stringify(runs, null, 2));
    return 0;
  }
  const paint = painter();
  const table = makeTable(['specimen', 'run', 'metric', 'turn', 'onset', 'end', 'score']);
  let found = 0;
  let total = 0;
  for (const r of runs) {
    for (const [metric, t] of Object.entries(r.turns)) {
      total++;
      if (t) found++;
      table.push(
        t
          ? [
              r.specimenId,
              r.runId,
              metric,
              String(t.step),
              String(t.onsetStep),
              String(t.endStep),
              t.score.toFixed(1),
            ]
          : [r.specimenId, r.runId, metric, '-', '-', '-', '-'],
      );
    }
  }
  if (total > 0) console.log(table.toString());
  console.log(`${paint(found > 0 ? 'green' : 'yellow', `${found} turn(s)`)} in ${total} run metric(s)`);
  return 0;
}
