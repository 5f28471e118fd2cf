/**
 * Tensors: `GET /api/specimens/:id/runs/:run/tensors/:name` (shape, dtype, chunks) and
 * `GET …/tensors/:name/slice?sel=<selection>` — one hyper-slab as raw little-endian numbers, read with the
 * storage layer's lazy handle, which touches only the chunks the selection needs. The body is Float32
 * (float16/32, 8- and 16-bit integers, bool) or Float64 (float64 and wider integers); headers tell the shape
 * (`X-Shape`), the wire type (`X-Dtype`) and the tensor's dtype (`X-Source-Dtype`).
 *
 * A slice is sent in chunk-aligned blocks as they are decoded, so the first rows travel while later chunks
 * are still being decompressed (for a 512 × 512 slice of 128-row zstd chunks that hides the transfer
 * behind the read). The first block is read before the status goes out, so a bad selection or an
 * unreadable first chunk is still a proper error response; a later failure cuts the connection.
 *
 * Small multiples (`src/server/multiples.ts`): `GET …/tensors/:name/multiples?grid=&rows=&cols=&at=&from=&to=`
 * returns slices [from, to) along the grid dimension as one body: the numbers in (slice, row, col) order
 * (the wire type as above; `as=codes`: one colour code byte each, and with `px=N` each slice mean-pooled
 * to N pixels along its longer side when it is longer, `src/analysis/slice-pool.ts`), zero-padded to a multiple of 8 bytes,
 * then each slice's finite range as float64 (min, max) pairs. `X-Shape` is `count,rows,cols`, `X-Slices`
 * is `from,to,n`: a response holds at most a page, `to` is cut to one and the next starts there. Numbers
 * are streamed in chunk-aligned blocks like a slice. `GET …/multiples/stats?…&stat=` answers JSON: a
 * statistic of every slice and the range over all of them.
 */
import type { ServerResponse } from 'node:http';
import { pooledShape, poolInto } from '../../analysis/slice-pool.js';
import { describeTensor } from '../../storage/describe.js';
import { POOL_THRESHOLD_BYTES } from '../../storage/tensors/read.js';
import type { Selection, TensorHandle } from '../../storage/tensors/types.js';
import type { TensorInfo } from '../api-types.js';
import type { ServerContext } from '../context.js';
import { applySecurityHeaders, HttpError, sendJson } from '../http.js';
import {
  codesInto,
  multiplesBlocks,
  multiplesStats,
  parseMultiples,
  parsePx,
  parseRange,
  parseStat,
  rangesInto,
  readMultiples,
} from '../multiples.js';
import type { Router } from '../router.js';
import { parseSelection, splitSelection } from '../selection.js';

/** Largest slice served, in elements (16 MB as float32). */
export const MAX_SLICE_ELEMENTS = 4 * 1024 * 1024;
/** Most elements of small multiples served in one request (64 MB as float32). */
export const MAX_MULTIPLES_ELEMENTS = 16 * 1024 * 1024;
/** Most elements of small multiples as colour codes in one request (64 MB of codes). */
export const MAX_CODES_ELEMENTS = 64 * 1024 * 1024;
/**
 * Elements a codes request reads at once (64 MB as float32): a viewer's block (8 M) is one read, which the
 * codec workers decode in parallel like the library's own read of that size.
 */
const CODES_READ_ELEMENTS = 16 * 1024 * 1024;

const WIDE = new Set(['float64', 'int32', 'uint32', 'int64', 'uint64']);

/** Blocks a slice is sent in, at most (each one read, then written while the next is read). */
const SLICE_BLOCKS = 4;

export function registerTensorRoutes(router: Router, ctx: ServerContext): void {
  router.get('/api/specimens/:id/runs/:run/tensors/:name', async ({ params, res }) => {
    const { run } = await ctx.run(params.id!, params.run!);
    const t = await ctx.tensor(run, params.name!);
    const body: TensorInfo = describeTensor(run, params.name!, t);
    sendJson(res, 200, body);
  });

  router.get('/api/specimens/:id/runs/:run/tensors/:name/slice', async ({ params, query, res }) => {
    const { run } = await ctx.run(params.id!, params.run!);
    const t = await ctx.tensor(run, params.name!);
    const { selection, shape } = parseSelection(query.get('sel') ?? '', t.shape);
    const count = shape.reduce((a, b) => a * b, 1);
    if (count > MAX_SLICE_ELEMENTS)
      throw new HttpError(
        400,
        'SliceTooLarge',
        `the selection has ${count} elements; at most ${MAX_SLICE_ELEMENTS} per request (use a step)`,
      );
    const wide = WIDE.has(t.dtype);
    const bytesPerElement = wide ? 8 : 4;
    // Slices the library reads with parallel codec workers stay one read; smaller ones go in blocks.
    const blocks =
      count * bytesPerElement >= POOL_THRESHOLD_BYTES || res.req.method === 'HEAD'
        ? [selection]
        : splitSelection(selection, t.shape, t.chunks, SLICE_BLOCKS);
    let block = await readWire(t, blocks[0]!, wide);
    applySecurityHeaders(res);
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': count * bytesPerElement,
      'Cache-Control': run.sealed ? 'private, max-age=3600' : 'no-store',
      'X-Shape': shape.join(','),
      'X-Dtype': wide ? 'float64' : 'float32',
      'X-Source-Dtype': t.dtype,
    });
    if (res.req.method === 'HEAD') {
      res.end();
      return;
    }
    for (let b = 1; b < blocks.length; b++) {
      res.write(bytesOf(block));
      // A client that went away (the slider moved on) stops the remaining reads.
      if (res.destroyed) return;
      block = await readWire(t, blocks[b]!, wide);
    }
    res.end(bytesOf(block));
  });

  router.get('/api/specimens/:id/runs/:run/tensors/:name/multiples', async ({ params, query, res }) => {
    const { run } = await ctx.run(params.id!, params.run!);
    const t = await ctx.tensor(run, params.name!);
    // Whole gridChunk-aligned pages of at most MAX_MULTIPLES_ELEMENTS: `to` says where the next starts.
    const codes = query.get('as') === 'codes';
    if (codes) return sendCodes(res, t, run.sealed, query);
    const spec = parseMultiples(query, t.shape, MAX_MULTIPLES_ELEMENTS, t.chunks);
    const count = spec.to - spec.from;
    const elements = count * spec.plane;
    const wide = WIDE.has(t.dtype);
    const bpe = wide ? 8 : 4;
    const dataBytes = elements * bpe;
    const pad = (8 - (dataBytes % 8)) % 8;
    // Large reads go in blocks the codec workers decode in parallel; smaller ones in a few blocks so the
    // first slices travel while later chunks are decoded.
    const parts =
      dataBytes >= 2 * POOL_THRESHOLD_BYTES ? Math.floor(dataBytes / POOL_THRESHOLD_BYTES) : SLICE_BLOCKS;
    const blocks =
      count === 0 ? [] : multiplesBlocks(spec, t.chunks[spec.grid]!, Math.ceil(elements / parts));
    const ranges = new Float64Array(count * 2);
    let block = blocks[0] ? await readMultiples(t, spec, blocks[0][0], blocks[0][1], wide) : undefined;
    applySecurityHeaders(res);
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': dataBytes + pad + ranges.byteLength,
      'Cache-Control': run.sealed ? 'private, max-age=3600' : 'no-store',
      'X-Shape': `${count},${t.shape[spec.rows]},${t.shape[spec.cols]}`,
      'X-Slices': `${spec.from},${spec.to},${spec.n}`,
      'X-Dtype': wide ? 'float64' : 'float32',
      'X-Source-Dtype': t.dtype,
    });
    if (res.req.method === 'HEAD') {
      res.end();
      return;
    }
    for (let b = 0; b < blocks.length; b++) {
      rangesInto(block!, spec.plane, ranges, blocks[b]![0] - spec.from);
      res.write(bytesOf(block!));
      if (res.destroyed) return;
      const next = blocks[b + 1];
      if (next) block = await readMultiples(t, spec, next[0], next[1], wide);
    }
    if (pad > 0) res.write(new Uint8Array(pad));
    res.end(new Uint8Array(ranges.buffer));
  });

  router.get('/api/specimens/:id/runs/:run/tensors/:name/multiples/stats', async ({ params, query, res }) => {
    const { run } = await ctx.run(params.id!, params.run!);
    const t = await ctx.tensor(run, params.name!);
    const spec = parseMultiples(query, t.shape);
    const stats = await multiplesStats(t, spec, parseStat(query.get('stat')));
    sendJson(res, 200, stats);
  });
}

/**
 * Small multiples as colour codes (`as=codes`): one byte per element on the scale `range` (default: the
 * finite range of the slices sent), so a page is a quarter of its float32 size. Every block is read before
 * the codes can be computed, so nothing is streamed ahead; the response is small enough not to need it.
 */
async function sendCodes(
  res: ServerResponse,
  t: TensorHandle,
  sealed: boolean,
  query: URLSearchParams,
): Promise<void> {
  const spec = parseMultiples(query, t.shape, MAX_CODES_ELEMENTS, t.chunks);
  const asked = parseRange(query.get('range'));
  const R = t.shape[spec.rows]!;
  const C = t.shape[spec.cols]!;
  const [h, w] = pooledShape(R, C, parsePx(query.get('px')));
  const pooled = h < R || w < C;
  const count = spec.to - spec.from;
  const sent = h * w;
  const elements = count * sent;
  const ranges = new Float64Array(count * 2);
  const blocks: Array<{ from: number; data: Float32Array | Float64Array }> = [];
  for (const [lo, hi] of count === 0
    ? []
    : multiplesBlocks(spec, t.chunks[spec.grid]!, CODES_READ_ELEMENTS)) {
    const data = await readMultiples(t, spec, lo, hi, false);
    if (pooled) {
      // Ranges (of the elements) come from the same pass as the means.
      const means = new Float32Array((hi - lo) * sent);
      poolInto(data, hi - lo, R, C, h, w, means, ranges, lo - spec.from);
      blocks.push({ from: lo, data: means });
    } else {
      rangesInto(data, spec.plane, ranges, lo - spec.from);
      blocks.push({ from: lo, data });
    }
  }
  let [min, max] = asked ?? [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  if (!asked)
    for (let i = 0; i < count; i++) {
      if (ranges[2 * i]! < min) min = ranges[2 * i]!;
      if (ranges[2 * i + 1]! > max) max = ranges[2 * i + 1]!;
    }
  const pad = (8 - (elements % 8)) % 8;
  const body = new Uint8Array(elements + pad + ranges.byteLength);
  if (min <= max) for (const b of blocks) codesInto(b.data, min, max, body, (b.from - spec.from) * sent);
  body.set(new Uint8Array(ranges.buffer), elements + pad);
  applySecurityHeaders(res);
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': body.byteLength,
    'Cache-Control': sealed ? 'private, max-age=3600' : 'no-store',
    'X-Shape': `${count},${h},${w}`,
    'X-Slices': `${spec.from},${spec.to},${spec.n}`,
    'X-Dtype': 'codes',
    'X-Range': min <= max ? `${min},${max}` : '',
    'X-Source-Dtype': t.dtype,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Reads `selection` as the wire type: float32 and float64 as read, other dtypes converted. */
async function readWire(
  t: TensorHandle,
  selection: Selection,
  wide: boolean,
): Promise<Float32Array | Float64Array> {
  const { data } = await t.read(selection);
  if ((wide && data instanceof Float64Array) || (!wide && data instanceof Float32Array)) return data;
  const out = wide ? new Float64Array(data.length) : new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]!);
  return out;
}

function bytesOf(data: Float32Array | Float64Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
