/**
 * Tensor slices: the slice route answers with raw little-endian numbers and their shape in headers, not
 * JSON, so it has its own reader. The finite range is computed here for the colour scale (the server
 * streams the slice, so it cannot send the range ahead).
 *
 * @example
 * const s = await fetchSlice(apiUrl('specimens/S/runs/R/tensors/w/slice', { sel: '0,:,:' }))
 */
import { fail, RequestError } from './client.js';

/** A tensor slice as returned by the slice route. */
export interface Slice {
  data: Float32Array | Float64Array;
  shape: number[];
  /** Finite range of `data` (NaN when it holds no finite value). */
  min: number;
  max: number;
  /** The tensor's own dtype (the body is float32 or float64 whatever it is). */
  dtype: string;
}

/** GETs a slice URL (see `getSlice` in routes.ts) and decodes the body. */
export async function fetchSlice(url: string, signal?: AbortSignal): Promise<Slice> {
  const res = await fetch(url, { signal: signal ?? null });
  if (!res.ok) return fail(res);
  const buf = await readBody(res);
  const wire = res.headers.get('X-Dtype');
  const shape = (res.headers.get('X-Shape') ?? '')
    .split(',')
    .filter((s) => s !== '')
    .map(Number);
  const data = wire === 'float64' ? new Float64Array(buf) : new Float32Array(buf);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < min && v !== Number.NEGATIVE_INFINITY) min = v;
    if (v > max && v !== Number.POSITIVE_INFINITY) max = v;
  }
  return {
    data,
    shape,
    min: min <= max ? min : Number.NaN,
    max: min <= max ? max : Number.NaN,
    dtype: res.headers.get('X-Source-Dtype') ?? wire ?? 'float32',
  };
}

/**
 * The body as one ArrayBuffer. With a known length it is copied into place piece by piece as it arrives,
 * which overlaps the copy with the transfer (`arrayBuffer()` only starts once the last byte is in: for a
 * 1 MiB slice that is several milliseconds more before the heatmap can be drawn).
 */
export async function readBody(res: Response): Promise<ArrayBuffer> {
  const length = Number(res.headers.get('Content-Length'));
  const encoded = res.headers.get('Content-Encoding');
  if (!res.body || (encoded && encoded !== 'identity') || !Number.isSafeInteger(length) || length <= 0)
    return res.arrayBuffer();
  const out = new Uint8Array(length);
  const reader = res.body.getReader();
  let at = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (at + value.byteLength > length)
      throw new RequestError(res.status, 'BadResponse', 'response longer than its Content-Length');
    out.set(value, at);
    at += value.byteLength;
  }
  if (at !== length)
    throw new RequestError(res.status, 'BadResponse', `response cut short: ${at} of ${length} bytes`);
  return out.buffer;
}

/** Slices [from, to) of a small-multiples grid, as the multiples route returns them. */
export interface Multiples {
  /**
   * count × rows × cols numbers in (slice, row, col) order; as colour codes (`codes`), one byte each: 0
   * not finite, 1–255 the scale from `range[0]` to `range[1]`.
   */
  data: Float32Array | Float64Array | Uint8Array;
  /** The scale of colour codes (null when no value is finite); undefined for numbers. */
  range?: [number, number] | null;
  count: number;
  rows: number;
  cols: number;
  /** Each slice's finite range: (min, max) pairs, NaN when it has no finite value. */
  ranges: Float64Array;
  /** The slices held, [from, to) (the server may cut `to` to a page), and the grid's length. */
  from: number;
  to: number;
  n: number;
}

/** GETs a multiples URL (see `getMultiples` in routes.ts) and splits the body into numbers and ranges. */
export async function fetchMultiples(url: string, signal?: AbortSignal): Promise<Multiples> {
  const res = await fetch(url, { signal: signal ?? null });
  if (!res.ok) return fail(res);
  const buf = await res.arrayBuffer();
  const [count = 0, rows = 0, cols = 0] = (res.headers.get('X-Shape') ?? '').split(',').map(Number);
  const wire = res.headers.get('X-Dtype');
  const wide = wire === 'float64';
  const codes = wire === 'codes';
  const elements = count * rows * cols;
  const dataBytes = elements * (codes ? 1 : wide ? 8 : 4);
  const rangesAt = Math.ceil(dataBytes / 8) * 8;
  if (buf.byteLength !== rangesAt + count * 16)
    throw new RequestError(
      res.status,
      'BadResponse',
      `multiples: ${buf.byteLength} bytes for ${count} slices`,
    );
  const [from = 0, to = count, n = count] = (res.headers.get('X-Slices') ?? '').split(',').map(Number);
  const range = (res.headers.get('X-Range') ?? '').split(',').map(Number);
  return {
    data: codes
      ? new Uint8Array(buf, 0, elements)
      : wide
        ? new Float64Array(buf, 0, elements)
        : new Float32Array(buf, 0, elements),
    ...(codes ? { range: range.length === 2 ? ([range[0]!, range[1]!] as [number, number]) : null } : {}),
    count,
    rows,
    cols,
    ranges: new Float64Array(buf, rangesAt, count * 2),
    from,
    to,
    n,
  };
}
