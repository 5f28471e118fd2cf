/**
 * Request admission, checked before any route runs:
 *
 * 1. **Host.** The Host header must name this server: `localhost:<port>`, `127.0.0.1:<port>` or
 *    `[::1]:<port>` when bound to loopback, the bound host (and, for a wildcard bind, this machine's
 *    addresses and name) otherwise. A page on another name that resolves here (DNS rebinding) is refused.
 * 2. **Origin.** API requests and anything but GET/HEAD are refused when the browser says they come from
 *    another origin: an `Origin` header naming another origin, or `Sec-Fetch-Site` other than
 *    `same-origin`/`none`. No CORS header is ever sent.
 * 3. **Token.** When the server has a token (always when bound beyond loopback), every request must carry
 *    it: `Authorization: Bearer <token>` or the cookie set by a first visit to `/?token=<token>` (which then
 *    redirects to the same URL without the token). Compared in constant time.
 *
 * @example
 * const policy = createPolicy({ host: '127.0.0.1', port: 8080 })
 * const verdict = admit(policy, req)  // { ok: true } or { ok: false, status: 403, message }
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import os from 'node:os';

/** What admission needs to know about the server. */
export interface SecurityPolicy {
  /** Lower-case `host:port` values accepted in the Host header. */
  allowedHosts: ReadonlySet<string>;
  /** `http://host:port` origins accepted in the Origin header. */
  allowedOrigins: ReadonlySet<string>;
  /** Required on every request when set. */
  token: string | undefined;
  /** Name of the cookie holding the token (per port: browsers share cookies across ports). */
  cookieName: string;
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** True when `host` is a loopback name or address (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return LOOPBACK_NAMES.has(h) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** `host` as it appears in a Host header (IPv6 in brackets). */
export function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Builds the admission policy for a server bound to `host` on `port`. */
export function createPolicy(options: {
  host: string;
  port: number;
  token?: string | undefined;
}): SecurityPolicy {
  const { host, port } = options;
  const names = new Set<string>();
  if (isLoopback(host)) {
    for (const n of ['localhost', '127.0.0.1', '[::1]']) names.add(n);
    names.add(hostForUrl(host).toLowerCase());
  } else if (host === '0.0.0.0' || host === '::' || host === '[::]') {
    for (const n of ['localhost', '127.0.0.1', '[::1]', os.hostname().toLowerCase()]) names.add(n);
    for (const list of Object.values(os.networkInterfaces())) {
      for (const a of list ?? []) names.add(hostForUrl(a.address.split('%')[0]!).toLowerCase());
    }
  } else {
    names.add(hostForUrl(host).toLowerCase());
  }
  const allowedHosts = new Set([...names].map((n) => `${n}:${port}`));
  const allowedOrigins = new Set([...allowedHosts].map((h) => `http://${h}`));
  return { allowedHosts, allowedOrigins, token: options.token, cookieName: `sv_token_${port}` };
}

/** Admission verdict. */
export type Verdict = { ok: true } | { ok: false; status: number; tag: string; message: string };

function refuse(tag: string, message: string): Verdict {
  return { ok: false, status: 403, tag, message };
}

/** Constant-time string comparison. */
export function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The value of cookie `name` in a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Checks Host and, for API and state-changing requests, where the request comes from. */
export function admitOrigin(policy: SecurityPolicy, req: IncomingMessage, isApi: boolean): Verdict {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!policy.allowedHosts.has(host))
    return refuse('ForbiddenHost', `host ${JSON.stringify(req.headers.host ?? '')} is not served here`);
  const method = req.method ?? 'GET';
  const safe = method === 'GET' || method === 'HEAD';
  if (isApi || !safe) {
    const origin = req.headers.origin;
    if (origin !== undefined && !policy.allowedOrigins.has(origin.toLowerCase()))
      return refuse('CrossOrigin', `cross-origin request from ${JSON.stringify(origin)} refused`);
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none')
      return refuse('CrossOrigin', `cross-site request (${site}) refused`);
  }
  return { ok: true };
}

/** Where the request's token was found, if anywhere. */
export type TokenSource = 'header' | 'cookie' | 'query' | undefined;

/** Checks the access token (when one is required). `queryToken` is a `?token=` parameter, if any. */
export function admitToken(
  policy: SecurityPolicy,
  req: IncomingMessage,
  queryToken: string | null,
): { verdict: Verdict; source: TokenSource } {
  if (policy.token === undefined) return { verdict: { ok: true }, source: undefined };
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m && tokensEqual(m[1]!, policy.token)) return { verdict: { ok: true }, source: 'header' };
    return { verdict: refuse('BadToken', 'the access token is wrong'), source: undefined };
  }
  if (queryToken !== null) {
    if (tokensEqual(queryToken, policy.token)) return { verdict: { ok: true }, source: 'query' };
    return { verdict: refuse('BadToken', 'the access token is wrong'), source: undefined };
  }
  const cookie = readCookie(req.headers.cookie, policy.cookieName);
  if (cookie !== undefined && tokensEqual(cookie, policy.token))
    return { verdict: { ok: true }, source: 'cookie' };
  return {
    verdict: refuse(
      'TokenRequired',
      'an access token is required: open the URL printed by `specimen serve` (it ends in ?token=…) or send Authorization: Bearer <token>',
    ),
    source: undefined,
  };
}
