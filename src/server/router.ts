/**
 * A small router. Request paths are split into segments *before* percent-decoding, so an encoded slash
 * (`%2F`) stays inside one segment, and every decoded segment is refused when it is `.` or `..`, holds a
 * NUL, a slash or a backslash, or is not valid UTF-8 — the route handlers then validate IDs and names with
 * the format layer's rules as a second line. The URL is never normalized (WHATWG URL parsing would turn
 * `/a/%2e%2e/b` into `/b`).
 *
 * @example
 * const router = new Router()
 * router.get('/api/specimens/:id', (req) => ...)
 * const match = router.match('GET', splitPath('/api/specimens/abc'))
 */
import { type ApiRequest, HttpError } from './http.js';

/** A route handler; it sends its own response. */
export type Handler = (req: ApiRequest) => Promise<void> | void;

interface Route {
  method: string;
  segments: string[];
  handler: Handler;
}

/** Splits a raw request target into decoded path segments and its query string. */
export function splitPath(target: string): { segments: string[]; query: URLSearchParams } {
  const q = target.indexOf('?');
  const rawPath = q >= 0 ? target.slice(0, q) : target;
  const rawQuery = q >= 0 ? target.slice(q + 1) : '';
  if (!rawPath.startsWith('/')) throw new HttpError(400, 'BadPath', 'request path must start with "/"');
  if (rawPath.includes('\\') || rawPath.includes('\0'))
    throw new HttpError(400, 'BadPath', 'request path is not allowed');
  const parts = rawPath.slice(1).split('/');
  // A trailing slash is ignored; empty segments elsewhere are not allowed.
  if (parts.length > 1 && parts.at(-1) === '') parts.pop();
  const segments = parts.map((p) => {
    let s: string;
    try {
      s = decodeURIComponent(p);
    } catch {
      throw new HttpError(400, 'BadPath', 'request path is not valid percent-encoded UTF-8');
    }
    if (s === '.' || s === '..' || s.includes('/') || s.includes('\\') || s.includes('\0'))
      throw new HttpError(400, 'BadPath', 'request path is not allowed');
    return s;
  });
  if (segments.length === 1 && segments[0] === '') segments.length = 0;
  if (segments.some((s) => s === ''))
    throw new HttpError(400, 'BadPath', 'request path has an empty segment');
  let query: URLSearchParams;
  try {
    query = new URLSearchParams(rawQuery);
  } catch {
    throw new HttpError(400, 'BadRequest', 'query string is malformed');
  }
  for (const [k, v] of query) {
    if (k.includes('\0') || v.includes('\0'))
      throw new HttpError(400, 'BadRequest', 'query string contains NUL');
  }
  return { segments, query };
}

export class Router {
  private readonly routes: Route[] = [];

  get(pattern: string, handler: Handler): this {
    return this.add('GET', pattern, handler);
  }

  post(pattern: string, handler: Handler): this {
    return this.add('POST', pattern, handler);
  }

  put(pattern: string, handler: Handler): this {
    return this.add('PUT', pattern, handler);
  }

  delete(pattern: string, handler: Handler): this {
    return this.add('DELETE', pattern, handler);
  }

  patch(pattern: string, handler: Handler): this {
    return this.add('PATCH', pattern, handler);
  }

  private add(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method, segments: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  /**
   * The handler and parameters for a request. HEAD runs the GET handler. Throws HttpError 405 when the
   * path exists with other methods, and returns undefined when no route has the path.
   */
  match(
    method: string,
    segments: readonly string[],
  ): { handler: Handler; params: Record<string, string> } | undefined {
    const allowed = new Set<string>();
    for (const route of this.routes) {
      const params = matchSegments(route.segments, segments);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET'))
        return { handler: route.handler, params };
      allowed.add(route.method);
    }
    if (allowed.size > 0)
      throw new HttpError(
        405,
        'MethodNotAllowed',
        `method ${method} is not allowed here; use ${[...allowed].join(' or ')}`,
        {
          allow: [...allowed],
        },
      );
    return undefined;
  }
}

function matchSegments(
  pattern: readonly string[],
  segments: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = segments[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = s;
    else if (p !== s) return undefined;
  }
  return params;
}
