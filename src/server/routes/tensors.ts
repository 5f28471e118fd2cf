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
 */
import { describeTensor } from '../../storage/describe.js';
import { POOL_THRESHOLD_BYTES } from '../../storage/tensors/read.js';
import type { Selection, TensorHandle } from '../../storage/tensors/types.js';
import type { TensorInfo } from '../api-types.js';
import type { ServerContext } from '../context.js';
import { applySecurityHeaders, HttpError, sendJson } from '../http.js';
import type { Router } from '../router.js';
import { parseSelection, splitSelection } from '../selection.js';

/** Largest slice served, in elements (16 MB as float32). */
export const MAX_SLICE_ELEMENTS = 4 * 1024 * 1024;

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
