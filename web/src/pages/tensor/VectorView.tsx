/** A 1-D tensor drawn as a line against its index (strided beyond 100,000 elements). */
import { getSlice, type TensorRef } from '../../api/index.js';
import { ErrorBox, Loading } from '../../components/common.js';
import { LineChart } from '../../components/LineChart.js';
import { colorAt } from '../../format.js';
import { useData } from '../../hooks.js';
import { axisSel, MAX_LINE, tensorKey } from './view.js';

export function VectorView({ tensor, n }: { tensor: TensorRef; n: number }) {
  const s = axisSel(n, MAX_LINE);
  const { data, error } = useData(`vec:${tensorKey(tensor)}:${s.text}`, (signal) =>
    getSlice(tensor, s.text, signal),
  );
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading />;
  const steps = Array.from({ length: data.data.length }, (_, i) => i * s.step);
  const values = Array.from(data.data, (v) => (Number.isFinite(v) ? v : null));
  return (
    <LineChart
      series={[{ label: 'value', color: colorAt(0), steps, values }]}
      xLabel="index"
      testId="vector-chart"
    />
  );
}
