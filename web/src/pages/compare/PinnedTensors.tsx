/**
 * The pinned step's tensors on the compare page: every tensor series of every run compared, each linked to
 * the tensor viewer at the checkpoint nearest the step picked on a chart (as the run page does), so one
 * click on a curve opens each run's weights or activations at that point of training.
 */
import { getRun } from '../../api/index.js';
import { Card, ErrorBox, Loading } from '../../components/common.js';
import { colorAt, fmtNumber } from '../../format.js';
import { useData } from '../../hooks.js';
import { href } from '../../router.js';
import { nearestIndex, tensorQuery } from '../tensor/series-step.js';
import { shortLabel } from './run-label.js';

export function PinnedTensors({ refs, step }: { refs: string[]; step: number }) {
  // The runs' tensor lists do not change with the step: fetched once per set of runs.
  const { data, error } = useData(`run-tensors:${refs.join('|')}`, (signal) =>
    Promise.all(
      refs.map(async (ref) => {
        const [specimenId = '', runId = ''] = ref.split('/');
        const r = await getRun(specimenId, runId, signal);
        return { ref, specimenId, runId, series: r.tensors.filter((t) => t.steps && t.steps.length > 0) };
      }),
    ),
  );
  const rows = data?.filter((r) => r.series.length > 0) ?? [];
  if (data && rows.length === 0) return null;
  return (
    <Card title={`Tensors at step ${fmtNumber(step)}`}>
      <ErrorBox error={error} />
      {!data && !error ? <Loading what="tensors" /> : null}
      {rows.length > 0 ? (
        <table class="grid" data-testid="pinned-tensors">
          <thead>
            <tr>
              <th>Run</th>
              <th>Tensor series at the nearest checkpoint</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.ref}>
                <td class="mono" style={{ color: colorAt(refs.indexOf(r.ref)) }}>
                  {shortLabel(r.ref)}
                </td>
                <td>
                  {r.series.map((t) => (
                    <a
                      key={t.name}
                      class="chip"
                      data-testid="pinned-tensor"
                      href={href(['tensor', r.specimenId, r.runId, t.name], tensorQuery(t, step))}
                    >
                      {t.name} @ {fmtNumber(t.steps![nearestIndex(t.steps!, step)]!)}
                    </a>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Card>
  );
}
