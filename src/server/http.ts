/**
 * HTTP plumbing shared by the routes: the parsed request each handler receives, JSON and binary replies,
 * bounded JSON bodies, and `HttpError` for refusals a route decides on itself (bad query parameter, wrong
 * method). Every reply carries the same security headers (see `SECURITY_HEADERS`).
 *
 * @example
 * throw new HttpError(400, 'BadRequest', 'width must be an integer between 16 and 2000')
 * sendJson(res, 200, { ok: true })
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A refusal with an HTTP status, a tag the client can test and a message fit to show a user. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly tag: string,
    message: string,
    /** Extra JSON fields of the error body. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** What a route handler gets. */
export interface ApiRequest {
  method: string;
  /** Decoded path segments after the route's prefix matched (`/api/specimens/x` → params.id = 'x'). */
  params: Record<string, string>;
  query: URLSearchParams;
  raw: IncomingMessage;
  res: ServerResponse;
}

/**
 * Headers on every response: a strict Content-Security-Policy (scripts only from this origin, no
 * framing, no plugins), no MIME sniffing, no referrer, and no cross-origin embedding.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export function applySecurityHeaders(res: ServerResponse): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
}

/** JSON.stringify that writes bigints as numbers when exact, else as strings, and non-finite numbers as strings. */
export function toJson(body: unknown): string {
  return JSON.stringify(body, (_k, v: unknown) => {
    if (typeof v === 'bigint')
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : v.toString();
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    return v;
  });
}

/** Sends `body` as JSON (never cached: the vault changes under a live run). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendJsonText(res, status, toJson(body), headers);
}

/** Sends `text`, already JSON, as sendJson does. */
export function sendJsonText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  applySecurityHeaders(res);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/** Bytes gathered before a streamed JSON body is written (and, past the socket's buffer, waited on). */
const STREAM_BATCH_BYTES = 64 * 1024;

/**
 * Sends `{...head, [key]: [items…]}` as JSON, written in batches as the socket drains rather than as one
 * string, so a large result costs the server one batch of memory at a time and a slow client slows only
 * its own response. Every occurrence of `redact`'s paths in the text becomes `<vault>`. The status and
 * headers are sent before the first item is serialized, so `serialize` must not fail (the query route
 * checks its rows' depth and size before calling this).
 */
export async function sendJsonStream(
  res: ServerResponse,
  status: number,
  head: Record<string, unknown>,
  key: string,
  items: readonly unknown[],
  redact: readonly string[] = [],
): Promise<void> {
  const clean = (text: string) => {
    let out = text;
    for (const r of redact) if (r.length > 1) out = out.split(r).join('<vault>');
    return out;
  };
  applySecurityHeaders(res);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  if (res.req.method === 'HEAD') {
    res.end();
    return;
  }
  const opening = toJson(head);
  let batch = `${opening.slice(0, -1)}${opening.length > 2 ? ',' : ''}${JSON.stringify(key)}:[`;
  for (let i = 0; i < items.length; i++) {
    batch += (i > 0 ? ',' : '') + toJson(items[i]);
    if (batch.length >= STREAM_BATCH_BYTES) {
      if (res.destroyed) return;
      if (!res.write(clean(batch))) await drained(res);
      batch = '';
    }
  }
  res.end(clean(`${batch}]}`));
}

/** Resolves when `res` can take more (or has gone away). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** Sends raw bytes. */
export function sendBytes(
  res: ServerResponse,
  status: number,
  body: Uint8Array,
  headers: Record<string, string>,
): void {
  applySecurityHeaders(res);
  res.writeHead(status, { 'Content-Length': body.byteLength, ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Sends a redirect. */
export function sendRedirect(
  res: ServerResponse,
  location: string,
  headers: Record<string, string> = {},
): void {
  applySecurityHeaders(res);
  res.writeHead(303, { Location: location, 'Content-Length': 0, 'Cache-Control': 'no-store', ...headers });
  res.end();
}

/** Largest JSON body accepted (a SQL query and a few options). */
export const MAX_BODY_BYTES = 1 << 20;

/**
 * Reads a JSON object body. The content type must be `application/json`: a cross-origin page cannot send
 * that without a CORS preflight, which this server never grants.
 */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json')
    throw new HttpError(415, 'UnsupportedMediaType', 'request body must be application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new HttpError(413, 'PayloadTooLarge', `request body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'BadRequest', 'request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new HttpError(400, 'BadRequest', 'request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** An integer query parameter within [min, max], or `fallback` when absent. */
export function intParam(
  query: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new HttpError(
      400,
      'BadRequest',
      `${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(raw)}`,
    );
  return n;
}

/** A finite number query parameter, or undefined when absent. */
export function numberParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n))
    throw new HttpError(400, 'BadRequest', `${name} must be a number, got ${JSON.stringify(raw)}`);
  return n;
}
