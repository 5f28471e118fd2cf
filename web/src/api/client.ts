/**
 * The request core under the route functions of routes.ts: same-origin requests (so the access-token cookie,
 * when the server needs one, goes along by itself), and every failed response turned into one
 * `RequestError` carrying the server's tag, message and, for SQL, the position it pointed at.
 *
 * @example
 * try { await getJson<HealthResponse>('health') } catch (e) { if (isRequestError(e, 'NotFound')) … }
 */
import type { ApiError } from './types.js';

/**
 * An API request that failed. `tag` is the server's error tag (`NotFoundError`, `SqlError`, … — see
 * docs/api.md), or, when the response was not one of its JSON errors, `HttpError` (the status alone says
 * what went wrong) or `BadResponse` (a binary body shorter or longer than announced).
 */
export class RequestError extends Error {
  override readonly name = 'RequestError';

  constructor(
    /** HTTP status of the response. */
    readonly status: number,
    readonly tag: string,
    message: string,
    /** SqlError: 0-based offset into the query. */
    readonly position?: number,
    /** SqlError: 1-based line and column of `position`. */
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
  }
}

/** True when `err` is a RequestError, and (when tags are given) one with one of those tags. */
export function isRequestError(err: unknown, ...tags: string[]): err is RequestError {
  return err instanceof RequestError && (tags.length === 0 || tags.includes(err.tag));
}

/** Query parameters: arrays become repeated parameters; undefined and null are left out. */
export type Params = Record<string, string | number | undefined | null | readonly (string | number)[]>;

/** `/api/<path>?<params>`. */
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

/** Throws the RequestError for a response that is not ok. */
export async function fail(res: Response): Promise<never> {
  let body: ApiError | undefined;
  try {
    body = (await res.json()) as ApiError;
  } catch {
    // not JSON: the status says it all
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

/**
 * GET `/api/<path>` as JSON. `T` is the route's response type from types.ts: the casts to it live here and
 * in `postJson` only, each behind a route function that names the one type its route answers with.
 */
export async function getJson<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<T> {
  const res = await fetch(apiUrl(path, params), {
    signal: signal ?? null,
    headers: { Accept: 'application/json' },
  });
  if (!res.ok) return fail(res);
  return (await res.json()) as T;
}

/** POST (or PUT, PATCH) `body` as JSON to `/api/<path>`. */
export async function postJson<T>(
  path: string,
  body: object,
  signal?: AbortSignal,
  method: 'POST' | 'PUT' | 'PATCH' = 'POST',
): Promise<T> {
  const res = await fetch(apiUrl(path), {
    method,
    signal: signal ?? null,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) return fail(res);
  return (await res.json()) as T;
}

/** PUT `body` as JSON to, or DELETE, `/api/<path>` (the state-changing view routes). */
export async function sendJsonRequest<T>(
  method: 'PUT' | 'DELETE',
  path: string,
  body?: object,
  signal?: AbortSignal,
): Promise<T> {
  const res = await fetch(apiUrl(path), {
    method,
    signal: signal ?? null,
    headers: { Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) return fail(res);
  return (await res.json()) as T;
}
