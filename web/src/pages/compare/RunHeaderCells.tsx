/**
 * The header cells of a compare table with one column per run: the run's colour swatch (as in the charts)
 * and its label.
 */
import { runRef } from '../../api/index.js';
import { colorAt } from '../../format.js';
import { runLabel } from './run-label.js';

export function RunHeaderCells({
  runs,
  refs,
  names,
}: {
  runs: readonly { specimen_id: string; run_id: string }[];
  refs: readonly string[];
  names: ReadonlyMap<string, string>;
}) {
  return (
    <>
      {runs.map((r, i) => {
        const ref = runRef(r);
        // The colour of the run's position in the selection (charts use the same), else of its column.
        const at = refs.indexOf(ref);
        return (
          <th key={ref}>
            <span class="swatch" style={{ background: colorAt(at >= 0 ? at : i) }} />
            {runLabel(ref, names)}
          </th>
        );
      })}
    </>
  );
}
