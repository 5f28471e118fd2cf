/**
 * Tensors: `GET /api/specimens/:id/runs/:run/tensors/:name` (shape, dtype, chunks) and
 * `GET …/tensors/:name/slice?sel=<selection>` — one hyper-slab as raw little-endian numbers, read with the
 * storage layer's lazy handle, which touches only the chunks the selection needs. The body is Float32
 * (float16/32, 8- and 16-bit integers, bool) or Float64 (float64 and wider integers); headers tell the shape
 * (`X-Shape`), the wire type (`X-Dtype`), the tensor's dtype (`X-Source-Dtype`) and the finite min and
 * max (`X-Min`, `X-Max`).
 */
import type { TensorInfo } from '../api-types.js';
import type { ServerContext } from '../context.js';
import { HttpError, sendBytes, sendJson } from '../http.js';
import type { Router } from '../router.js';
import { parseSelection } from '../selection.js';

/** Largest slice served, in elements (16 MB as float32). */
export const MAX_SLICE_ELEMENTS = 4 * 1024 * 1024;

const WIDE = new Set(['float64', 'int32', 'uint32', 'int64', 'uint64']);

export function registerTensorRoutes(router: Router, ctx: ServerContext): void {
  router.get('/api/specimens/:id/runs/:run/tensors/:name', async ({ params, res }) => {
    const { run } = await ctx.run(params.id!, params.run!);
    const t = await ctx.tensor(run, params.name!);
    const bytes = (run.manifest?.artifacts as Record<string, { bytes?: unknown }> | undefined)?.[params.name!]
      ?.bytes;
    const body: TensorInfo = {
      name: params.name!,
      shape: [...t.shape],
      dtype: t.dtype,
      chunks: [...t.chunks],
      zarr_format: t.zarrFormat,
      bytes: typeof bytes === 'number' ? bytes : null,
    };
    sendJson(res, 200, body);
  });

  router.get('/api/specimens/:id/runs/:run/tensors/:name/slice', async ({ params, query, res }) => {
    const start = performance.now();
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
    const t0 = performance.now();
    const { data } = await t.read(selection);
    const readMs = performance.now() - t0;
    const wide = WIDE.has(t.dtype);
    // float32 and float64 go out as read; other dtypes are converted to the wire type.
    let out: Float32Array | Float64Array;
    if ((wide && data instanceof Float64Array) || (!wide && data instanceof Float32Array)) out = data;
    else {
      out = wide ? new Float64Array(count) : new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = Number(data[i]!);
    }
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < count; i++) {
      const v = out[i]!;
      if (!Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    sendBytes(res, 200, new Uint8Array(out.buffer, out.byteOffset, out.byteLength), {
      'Content-Type': 'application/octet-stream',
      'Cache-Control': run.sealed ? 'private, max-age=3600' : 'no-store',
      'X-Shape': shape.join(','),
      'X-Dtype': wide ? 'float64' : 'float32',
      'X-Source-Dtype': t.dtype,
      'X-Min': Number.isFinite(min) ? String(min) : 'NaN',
      'X-Max': Number.isFinite(max) ? String(max) : 'NaN',
      'Server-Timing': `read;dur=${readMs.toFixed(1)}, total;dur=${(performance.now() - start).toFixed(1)}`,
    });
  });
}
