/** The pinned step's card on the compare page: every numeric metric of every run at the nearest row. */
import { getValues, runRef } from '../../api/index.js';
import { Card, ErrorBox, Loading } from '../../components/common.js';
import { colorAt, fmtNumber } from '../../format.js';
import { useData } from '../../hooks.js';
import { href } from '../../router.js';
import { runLabel } from './run-label.js';

export function PinnedValues({
  refs,
  step,
  metrics,
  onClear,
  names,
}: {
  refs: string[];
  step: number;
  metrics: string[];
  onClear: () => void;
  /** Run names by reference (runNames). */
  names?: ReadonlyMap<string, string>;
}) {
  const { data, error } = useData(`values:${refs.join('|')}@${step}`, (signal) =>
    getValues(refs, step, signal),
  );
  return (
    <Card
      title={`Values at step ${fmtNumber(step)}`}
      actions={
        <button type="button" class="link" onClick={onClear}>
          unpin
        </button>
      }
    >
      <ErrorBox error={error} />
      {data ? (
        <div class="scroll-x">
          <table class="grid" data-testid="pinned-table">
            <thead>
              <tr>
                <th>Run</th>
                <th>Step</th>
                {metrics.map((m) => (
                  <th key={m} class="right">
                    {m}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.runs.map((r) => {
                const ref = runRef(r);
                return (
                  <tr key={ref}>
                    <td>
                      <span class="swatch" style={{ background: colorAt(refs.indexOf(ref)) }} />
                      <a class="mono" href={href(['specimen', r.specimen_id, 'run', r.run_id])}>
                        {runLabel(ref, names)}
                      </a>
                    </td>
                    <td class="mono">{r.step === null ? '–' : fmtNumber(r.step)}</td>
                    {metrics.map((m) => (
                      <td key={m} class="right mono">
                        {fmtNumber(r.values[m] ?? null)}
                      </td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : (
        <Loading />
      )}
    </Card>
  );
}
