/**
 * The tensor viewer: a 2-D heatmap of any slice of an N-D tensor. Two dimensions are the image's rows and
 * columns; every other dimension has a slider. Each slice is fetched on its own (the server reads only the
 * chunks it needs); dimensions longer than 1,024 are shown with a stride. Colour scale with legend; hover
 * shows the element's full index and value. 1-D tensors are drawn as a line, 0-D as a value. A third
 * dimension can be laid out as small multiples (one small heatmap per index, sortable). The view
 * (dimensions, indices, ranges, colours, grid, its cell size and sort) lives in the URL.
 */
import { useLayoutEffect } from 'preact/hooks';
import { getTensor, type TensorRef } from '../../api/index.js';
import type { ColormapName } from '../../components/colormap.js';
import { Card, ErrorBox, Loading } from '../../components/common.js';
import { fmtBytes } from '../../format.js';
import { useData } from '../../hooks.js';
import { href, navigate, type Route, withQuery } from '../../router.js';
import { DimSelect } from './DimSelect.js';
import { prefetchMultiples } from './prefetch.js';
import { RangeInput } from './RangeInput.js';
import { ScalarView } from './ScalarView.js';
import { SliceView } from './SliceView.js';
import {
  AIM_CELL,
  cellSide,
  gridSortParam,
  MAX_CELL,
  MIN_CELL,
  parseGridSort,
  SmallMultiples,
} from './SmallMultiples.js';
import { VectorView } from './VectorView.js';
import { clampDim, parseRange, tensorKey } from './view.js';

export function TensorPage({ route }: { route: Route }) {
  const [, specimenId = '', runId = '', name = ''] = route.path;
  const q = route.query;
  const tensor: TensorRef = { specimenId, runId, name };
  const { data: info, error } = useData(`tensor:${tensorKey(tensor)}`, (signal) => getTensor(tensor, signal));
  // A link to small multiples names all three dimensions: their first slices are asked for now, alongside
  // the tensor's description, instead of once it has arrived.
  useLayoutEffect(() => {
    if (info) return;
    const dims = ['g', 'r', 'c'].map((k) => q.get(k) ?? '');
    if (!dims.every((d) => /^\d+$/.test(d))) return;
    const at = (q.get('at') ?? '').split(',').map((v) => Number(v) || 0);
    const [grid, rows, cols] = dims.map(Number) as [number, number, number];
    // At the cell size the URL names, or the default layout's aim (the grid asks again if it is larger).
    const cellParam = Number(q.get('cell'));
    prefetchMultiples(tensor, { grid, rows, cols, at }, cellSide(cellParam || AIM_CELL));
  }, [tensorKey(tensor), q.toString()]);

  const update = (changes: Record<string, string | null>) =>
    navigate(href(['tensor', specimenId, runId, name], withQuery(q, changes)), true);

  const header = (
    <>
      <div class="crumbs">
        <a href={href([])}>Catalog</a> / <a href={href(['specimen', specimenId])}>{specimenId}</a> /{' '}
        <a href={href(['specimen', specimenId, 'run', runId])}>{runId}</a> / <span class="mono">{name}</span>
      </div>
      <h1 class="mono">{name}</h1>
    </>
  );
  if (error)
    return (
      <div class="page">
        {header}
        <ErrorBox error={error} />
      </div>
    );
  if (!info)
    return (
      <div class="page">
        {header}
        <Loading what="tensor" />
      </div>
    );

  const nd = info.shape.length;
  const rowDim = clampDim(Number(q.get('r') ?? nd - 2), nd);
  let colDim = clampDim(Number(q.get('c') ?? nd - 1), nd);
  if (colDim === rowDim) colDim = rowDim === nd - 1 ? nd - 2 : nd - 1;
  const at = info.shape.map((n, d) =>
    Math.min(n - 1, Math.max(0, Number((q.get('at') ?? '').split(',')[d] ?? 0) || 0)),
  );
  // No map named: viridis for one slice; small multiples pick by their range (diverging when it crosses 0).
  const cmapParam = (q.get('cmap') || null) as ColormapName | null;
  const cmap = cmapParam ?? 'viridis';
  const gridParam = q.get('g');
  const gridDim =
    gridParam !== null && gridParam !== '' && Number(gridParam) !== rowDim && Number(gridParam) !== colDim
      ? clampDim(Number(gridParam), nd)
      : null;
  const symmetric = q.get('sym') === '1';
  const cellParam = Number(q.get('cell'));
  const cell =
    q.get('cell') && Number.isFinite(cellParam) ? Math.min(MAX_CELL, Math.max(MIN_CELL, cellParam)) : null;
  const rowRange = parseRange(q.get('rr'), info.shape[rowDim] ?? 1);
  const colRange = parseRange(q.get('cr'), info.shape[colDim] ?? 1);
  const setAt = (d: number, v: number) => {
    const next = [...at];
    next[d] = v;
    update({ at: next.join(',') });
  };

  return (
    <div class="page tensor-page">
      {header}
      <div class="facts">
        <span>
          <b>shape</b> <span class="mono">({info.shape.join(', ')})</span>
        </span>
        <span>
          <b>dtype</b> {info.dtype}
        </span>
        <span>
          <b>chunks</b> <span class="mono">({info.chunks.join(', ')})</span>
        </span>
        <span>
          <b>zarr</b> v{info.zarr_format}
        </span>
        <span>
          <b>size</b> {fmtBytes(info.bytes)}
        </span>
      </div>
      {nd >= 2 ? (
        <Card title="Slice">
          <div class="controls">
            <DimSelect
              label="rows"
              shape={info.shape}
              value={rowDim}
              testId="row-dim"
              onChange={(d) => update({ r: d })}
            />
            <DimSelect
              label="columns"
              shape={info.shape}
              value={colDim}
              except={rowDim}
              testId="col-dim"
              onChange={(d) => update({ c: d })}
            />
            <label>
              colours
              <select
                value={gridDim !== null ? (cmapParam ?? '') : cmap}
                data-testid="colormap"
                onChange={(e) => update({ cmap: (e.currentTarget as HTMLSelectElement).value })}
              >
                {gridDim !== null ? <option value="">auto (blue–white–red across 0)</option> : null}
                <option value="viridis">viridis</option>
                <option value="magma">magma</option>
                <option value="rdbu">blue–white–red</option>
                <option value="gray">grey</option>
              </select>
            </label>
            <label>
              <input
                type="checkbox"
                checked={symmetric}
                onChange={(e) => update({ sym: (e.currentTarget as HTMLInputElement).checked ? '1' : null })}
              />
              symmetric around 0
            </label>
          </div>
          <div class="controls">
            <RangeInput
              label="rows"
              testId="rr"
              range={rowRange}
              n={info.shape[rowDim]!}
              onChange={(rr) => update({ rr })}
            />
            <RangeInput
              label="columns"
              testId="cr"
              range={colRange}
              n={info.shape[colDim]!}
              onChange={(cr) => update({ cr })}
            />
          </div>
          {nd >= 3 ? (
            <div class="controls">
              <label>
                small multiples along
                <select
                  value={gridDim === null ? '' : String(gridDim)}
                  data-testid="grid-dim"
                  onChange={(e) => update({ g: (e.currentTarget as HTMLSelectElement).value || null })}
                >
                  <option value="">— (one heatmap)</option>
                  {info.shape.map((n, d) =>
                    d === rowDim || d === colDim ? null : (
                      <option key={d} value={String(d)}>
                        dim {d} ({n})
                      </option>
                    ),
                  )}
                </select>
              </label>
            </div>
          ) : null}
          {info.shape.map((n, d) =>
            d === rowDim || d === colDim || d === gridDim ? null : (
              <div class="slider" key={d}>
                <span class="mono">dim {d}</span>
                <input
                  type="range"
                  min="0"
                  max={String(n - 1)}
                  value={String(at[d])}
                  data-testid={`slider-${d}`}
                  onInput={(e) => setAt(d, Number((e.currentTarget as HTMLInputElement).value))}
                />
                <input
                  type="number"
                  min="0"
                  max={String(n - 1)}
                  value={String(at[d])}
                  onChange={(e) => setAt(d, Number((e.currentTarget as HTMLInputElement).value))}
                />
                <span class="muted small">of {n}</span>
                {d === 0 && info.steps ? (
                  <span class="small" data-testid="tensor-step">
                    step {info.steps[at[0]!]}
                  </span>
                ) : null}
              </div>
            ),
          )}
          {gridDim !== null ? (
            <SmallMultiples
              tensor={tensor}
              info={info}
              gridDim={gridDim}
              rowDim={rowDim}
              colDim={colDim}
              at={at}
              cmap={cmapParam}
              symmetric={symmetric}
              cell={cell}
              onCell={(c) => update({ cell: c === null ? null : String(c) })}
              sort={parseGridSort(q.get('sort'))}
              onSort={(s) => update({ sort: gridSortParam(s) })}
              onOpen={(i) => {
                const next = [...at];
                next[gridDim] = i;
                update({ g: null, at: next.join(',') });
              }}
            />
          ) : (
            <SliceView
              tensor={tensor}
              info={info}
              rowDim={rowDim}
              colDim={colDim}
              at={at}
              rowRange={rowRange}
              colRange={colRange}
              cmap={cmap}
              symmetric={symmetric}
            />
          )}
        </Card>
      ) : nd === 1 ? (
        <Card title="Values">
          <VectorView tensor={tensor} n={info.shape[0]!} />
        </Card>
      ) : (
        <Card title="Value">
          <ScalarView tensor={tensor} />
        </Card>
      )}
    </div>
  );
}
