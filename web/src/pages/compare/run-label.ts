/**
 * How the compare page names a run in legends and tables: its name when the writer gave one (unique among
 * the runs shown: a name two runs share gets the run ID after it), else the reference with a long specimen
 * ID shortened.
 *
 * @example
 * const names = runNames(data.runs)          // Map ref → label
 * runLabel('2025_03_01_lr_sweep/20250301_101500', names)   // 'lr=1e-3' or '2025_03_01_lr_sweep/20250301_101500'
 */

/** `<specimen>/<run>` with a specimen ID longer than 28 characters cut to 26 and an ellipsis. */
export function shortLabel(ref: string): string {
  const [spec, run] = ref.split('/');
  const s = spec ?? '';
  return `${s.length > 28 ? `${s.slice(0, 26)}…` : s}/${run ?? ''}`;
}

/** Labels of the runs that have a name, by reference (see the module comment). */
export function runNames(
  runs: readonly { specimen_id: string; run_id: string; name?: string | null }[],
): Map<string, string> {
  const count = new Map<string, number>();
  for (const r of runs) if (r.name) count.set(r.name, (count.get(r.name) ?? 0) + 1);
  const out = new Map<string, string>();
  for (const r of runs)
    if (r.name)
      out.set(`${r.specimen_id}/${r.run_id}`, count.get(r.name) === 1 ? r.name : `${r.name} (${r.run_id})`);
  return out;
}

/** The label of run `ref`: its name from `names`, else shortLabel. */
export function runLabel(ref: string, names?: ReadonlyMap<string, string>): string {
  return names?.get(ref) ?? shortLabel(ref);
}
