/** A 0-D tensor: its one value. */
import { getSlice, type TensorRef } from '../../api/index.js';
import { ErrorBox, Loading } from '../../components/common.js';
import { fmtNumber } from '../../format.js';
import { useData } from '../../hooks.js';
import { tensorKey } from './view.js';

export function ScalarView({ tensor }: { tensor: TensorRef }) {
  const { data, error } = useData(`scalar:${tensorKey(tensor)}`, (signal) => getSlice(tensor, '', signal));
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading />;
  return <div class="scalar mono">{fmtNumber(data.data[0])}</div>;
}
