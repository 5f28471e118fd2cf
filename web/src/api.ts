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
  const buf = await res.arrayBuffer();
  const wire = res.headers.get('X-Dtype');
  const shape = (res.headers.get('X-Shape') ?? '')
    .split(',')
    .filter((s) => s !== '')
    .map(Number);
  return {
    data: wire === 'float64' ? new Float64Array(buf) : new Float32Array(buf),
    shape,
    min: Number(res.headers.get('X-Min')),
    max: Number(res.headers.get('X-Max')),
    dtype: res.headers.get('X-Source-Dtype') ?? wire ?? 'float32',
  };
}

/** Path of a specimen's run in the API. */
export function runPath(specimenId: string, runId: string): string {
  return `specimens/${encodeURIComponent(specimenId)}/runs/${encodeURIComponent(runId)}`;
}
