/**
 * The turns of the compared runs (the catalog's `turns` table, one request per specimen), as
 * run reference → metric → turn step, for the charts' markers and the "align on turn" option.
 *
 * @example
 * const turns = useRunTurns(refs)
 * turns.get('S/R')?.get('test_loss')   // the step, or undefined without a turn
 */
import { getTurns, parseRunRef, runRef } from '../../api/index.js';
import { useData } from '../../hooks.js';

export type RunTurns = ReadonlyMap<string, ReadonlyMap<string, number>>;

export function useRunTurns(refs: readonly string[]): RunTurns {
  const specimens = [...new Set(refs.map((r) => parseRunRef(r).specimenId))].sort();
  const { data } = useData(`turns:${specimens.join('|')}`, async (signal) => {
    const out = new Map<string, Map<string, number>>();
    const all = await Promise.all(specimens.map((s) => getTurns(s, signal).catch(() => undefined)));
    for (const res of all) {
      for (const t of res?.turns ?? []) {
        if (t.step === null) continue;
        const ref = runRef({ specimen_id: res!.specimen_id, run_id: t.run_id });
        const byMetric = out.get(ref) ?? new Map<string, number>();
        byMetric.set(t.metric, t.step);
        out.set(ref, byMetric);
      }
    }
    return out;
  });
  return data ?? new Map();
}

/** The metrics that have a turn in at least one of the runs, sorted. */
export function turnMetrics(turns: RunTurns): string[] {
  const names = new Set<string>();
  for (const m of turns.values()) for (const k of m.keys()) names.add(k);
  return [...names].sort();
}
