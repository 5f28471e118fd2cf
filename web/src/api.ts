/**
 * The JSON API client. Requests are same-origin, so the access-token cookie (when the server needs one)
 * goes along by itself. Errors carry the server's tag, message and, for SQL, the position.
 */
import type { ApiError } from '../../src/server/api-types.js';

export type * from '../../src/server/api-types.js';

export class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly tag: string,
    message: string,
    readonly position?: number,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
  }
}

type Params = Record<string, string | number | undefined | null | readonly (string | number)[]>;

/** `/api/<path>?<params>` (arrays become repeated parameters; undefined and null are left out). */
export function apiUrl(path: string, params: Params = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const x of v) q.append(k, String(x));
    else q.append(k, String(v));
  }
  const s = q.toString();
  return `/api/${path}${s ? `?${s}` : ''}`;
}

async function fail(res: Response): Promise<never> {
  let body: ApiError | undefined;
  try {
    body = (await res.json()) as ApiError;
  } catch {
    // not JSON
  }
  const e = body?.error;
  throw new RequestError(
    res.status,
    e?.tag ?? 'HttpError',
    e?.message ?? `${res.status} ${res.statusText}`,
    e?.position,
    e?.line,
    e?.column,
  );
}

export async function getJson<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<T> {
  const res = await fetch(apiUrl(path, params), {
    signal: signal ?? null,
    headers: { Accept: 'application/json' },
  });
  if (!res.ok) return fail(res);
  return (await res.json()) as T;
}

export async function postJson<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(apiUrl(path), {
    method: 'POST',
    signal: signal ?? null,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) return fail(res);
  return (await res.json()) as T;
}

/** A tensor slice as returned by the slice route. */
export interface Slice {
  data: Float32Array | Float64Array;
  shape: number[];
  min: number;
  max: number;
  dtype: string;
}

export async function getSlice(path: string, sel: string, signal?: AbortSignal): Promise<Slice> {
  const res = await fetch(apiUrl(path, { sel }), { signal: signal ?? null });
  if (!res.ok) return fail(res);
  const buf = await readBody(res);
  const wire = res.headers.get('X-Dtype');
  const shape = (res.headers.get('X-Shape') ?? '')
    .split(',')
    .filter((s) => s !== '')
    .map(Number);
  const data = wire === 'float64' ? new Float64Array(buf) : new Float32Array(buf);
  // The finite range, for the colour scale (the server streams the slice, so it cannot send it ahead).
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
async function readBody(res: Response): Promise<ArrayBuffer> {
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

/** Path of a specimen's run in the API. */
export function runPath(specimenId: string, runId: string): string {
  return `specimens/${encodeURIComponent(specimenId)}/runs/${encodeURIComponent(runId)}`;
}
