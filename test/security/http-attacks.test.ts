// The adversarial HTTP table: Host and origin tricks, tokens, methods, traversal through encoded paths,
// malformed bodies and query parameters, and SQL over HTTP whose errors must name the limit and never show
// a path of this machine. Each attempt has exactly its expected status and tag.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { DEMO, demoVault, type Reply, request, SECRET, type TestVault } from './harness.js';

const TOKEN = 'tok-0123456789abcdefghij';
let v: TestVault;
let open: RunningServer;
let guarded: RunningServer;

beforeAll(async () => {
  v = await demoVault('sv-http-');
  fs.symlinkSync(v.outside, path.join(v.root, 'linkdir'));
  fs.symlinkSync(path.join(v.outside, 'secret.txt'), path.join(v.root, 'specimens', DEMO, 'leak.md'));
  const webDir = path.join(v.dir, 'web');
  fs.mkdirSync(path.join(webDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>app</title>');
  fs.symlinkSync(path.join(v.outside, 'secret.txt'), path.join(webDir, 'assets', 'leak.js'));
  const queryLimits = { timeoutMs: 3000, maxConcurrent: 2 };
  open = await startServer({ vaultRoot: v.root, port: 0, index: false, webDir, queryLimits });
  guarded = await startServer({
    vaultRoot: v.root,
    port: 0,
    index: false,
    webDir,
    token: TOKEN,
    queryLimits,
  });
});

afterAll(async () => {
  await open?.close();
  await guarded?.close();
  v?.cleanup();
});

interface Attempt {
  method?: string;
  target: string;
  headers?: Record<string, string>;
  body?: string;
  /** `null` sends no Host; a string with `PORT` names one. */
  host?: string | null;
  guarded?: boolean;
}

const json = { 'Content-Type': 'application/json' };
const sql = (q: string, extra: Record<string, unknown> = {}): Attempt => ({
  method: 'POST',
  target: '/api/query',
  headers: json,
  body: JSON.stringify({ sql: q, ...extra }),
});
const api = `/api/specimens/${DEMO}`;

const CASES: [string, Attempt, number, string | undefined][] = [
  // Host (DNS rebinding) and origin.
  ['a foreign Host', { target: '/api/health', host: 'evil.example:PORT' }, 403, 'ForbiddenHost'],
  ['Host without a port', { target: '/api/health', host: 'localhost' }, 403, 'ForbiddenHost'],
  ['Host with another port', { target: '/api/health', host: 'localhost:1' }, 403, 'ForbiddenHost'],
  ['Host of a rebinding name', { target: '/', host: 'localhost.evil.example:PORT' }, 403, 'ForbiddenHost'],
  ['Host with a user part', { target: '/api/health', host: 'user@localhost:PORT' }, 403, 'ForbiddenHost'],
  ['Host 0.0.0.0', { target: '/api/health', host: '0.0.0.0:PORT' }, 403, 'ForbiddenHost'],
  ['an empty Host', { target: '/api/health', host: '' }, 403, 'ForbiddenHost'],
  [
    'a foreign Origin on the API',
    { target: '/api/catalog', headers: { Origin: 'http://evil.example' } },
    403,
    'CrossOrigin',
  ],
  ['Origin null', { target: '/api/catalog', headers: { Origin: 'null' } }, 403, 'CrossOrigin'],
  [
    'Origin of another port',
    { target: '/api/catalog', headers: { Origin: 'http://localhost:1' } },
    403,
    'CrossOrigin',
  ],
  [
    'Sec-Fetch-Site cross-site',
    { target: '/api/catalog', headers: { 'Sec-Fetch-Site': 'cross-site' } },
    403,
    'CrossOrigin',
  ],
  [
    'Sec-Fetch-Site same-site',
    { target: '/api/catalog', headers: { 'Sec-Fetch-Site': 'same-site' } },
    403,
    'CrossOrigin',
  ],
  [
    'a cross-origin POST of SQL',
    { ...sql('SELECT 1'), headers: { ...json, Origin: 'http://evil.example' } },
    403,
    'CrossOrigin',
  ],
  // Tokens.
  ['no token', { target: '/api/catalog', guarded: true }, 403, 'TokenRequired'],
  [
    'a wrong bearer token',
    { target: '/api/catalog', guarded: true, headers: { Authorization: 'Bearer nope-nope-nope-nope' } },
    403,
    'BadToken',
  ],
  [
    'a token prefix',
    { target: '/api/catalog', guarded: true, headers: { Authorization: `Bearer ${TOKEN.slice(0, -1)}` } },
    403,
    'BadToken',
  ],
  [
    'a token in the wrong cookie',
    { target: '/api/catalog', guarded: true, headers: { Cookie: `sv_token_1=${TOKEN}` } },
    403,
    'TokenRequired',
  ],
  [
    'a wrong token in the query string',
    { target: '/?token=wrong-wrong-wrong-wrong', guarded: true },
    403,
    'BadToken',
  ],
  [
    'Basic instead of Bearer',
    { target: '/api/catalog', guarded: true, headers: { Authorization: `Basic ${TOKEN}` } },
    403,
    'BadToken',
  ],
  ['SQL without a token', { ...sql('SELECT 1'), guarded: true }, 403, 'TokenRequired'],
  // Methods and content types.
  ['DELETE on the API', { method: 'DELETE', target: '/api/catalog' }, 405, 'MethodNotAllowed'],
  ['PUT a static file', { method: 'PUT', target: '/index.html' }, 405, 'MethodNotAllowed'],
  ['GET the query route', { target: '/api/query' }, 405, 'MethodNotAllowed'],
  [
    'POST SQL as a form',
    {
      method: 'POST',
      target: '/api/query',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'sql=SELECT+1',
    },
    415,
    'UnsupportedMediaType',
  ],
  [
    'POST SQL as text',
    {
      method: 'POST',
      target: '/api/query',
      headers: { 'Content-Type': 'text/plain' },
      body: '{"sql":"SELECT 1"}',
    },
    415,
    'UnsupportedMediaType',
  ],
  [
    'POST invalid JSON',
    { method: 'POST', target: '/api/query', headers: json, body: '{"sql":' },
    400,
    'BadRequest',
  ],
  [
    'POST a JSON array',
    { method: 'POST', target: '/api/query', headers: json, body: '["SELECT 1"]' },
    400,
    'BadRequest',
  ],
  [
    'POST a body nested 100,000 deep',
    {
      method: 'POST',
      target: '/api/query',
      headers: json,
      body: `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
    },
    400,
    'BadRequest',
  ],
  [
    'POST more than 1 MiB',
    {
      method: 'POST',
      target: '/api/query',
      headers: json,
      body: JSON.stringify({ sql: `SELECT '${'x'.repeat(1_100_000)}'` }),
    },
    413,
    'PayloadTooLarge',
  ],
  [
    'sql not a string',
    { method: 'POST', target: '/api/query', headers: json, body: '{"sql": 1}' },
    400,
    'BadRequest',
  ],
  ['sql empty', sql('   '), 400, 'BadRequest'],
  ['maxRows zero', sql('SELECT 1', { maxRows: 0 }), 400, 'BadRequest'],
  ['maxRows beyond the limit', sql('SELECT 1', { maxRows: 10_000_000 }), 400, 'BadRequest'],
  ['maxRows a string', sql('SELECT 1', { maxRows: '10' }), 400, 'BadRequest'],
  ['timeoutMs beyond the server limit', sql('SELECT 1', { timeoutMs: 3_600_000 }), 400, 'BadRequest'],
  ['timeoutMs negative', sql('SELECT 1', { timeoutMs: -1 }), 400, 'BadRequest'],
  // Paths.
  ['encoded .. in a specimen ID', { target: '/api/specimens/%2e%2e' }, 400, 'BadPath'],
  ['encoded slash', { target: '/api/specimens/a%2Fb' }, 400, 'BadPath'],
  ['encoded backslash', { target: '/api/specimens/..%5C..%5Cetc' }, 400, 'BadPath'],
  ['encoded NUL', { target: '/api/specimens/x%00y' }, 400, 'BadPath'],
  ['raw .. in a static path', { target: '/assets/../../etc/passwd' }, 400, 'BadPath'],
  ['invalid percent encoding', { target: '/api/specimens/%E0%A4%A' }, 400, 'BadPath'],
  ['an empty segment', { target: '/api//catalog' }, 400, 'BadPath'],
  ['a NUL in the query string', { target: '/api/runs?q=%00' }, 400, 'BadRequest'],
  ['an invalid run ID', { target: `${api}/runs/..%2F..` }, 400, 'BadPath'],
  ['a run that does not exist', { target: `${api}/runs/notarun` }, 404, 'NotFoundError'],
  [
    'a tensor name with a dot segment',
    { target: `${api}/runs/RUN/tensors/.hidden` },
    400,
    'InvalidNameError',
  ],
  ['an absolute target', { target: 'http://evil.example/api/health' }, 400, 'BadPath'],
  ['a static symlink out of the web build', { target: '/assets/leak.js' }, 404, undefined],
  ['an unknown API route', { target: '/api/../../etc/passwd' }, 400, 'BadPath'],
  // SQL over HTTP.
  ['a settings function', sql("SELECT current_setting('temp_directory')"), 403, 'QueryNotAllowedError'],
  ['duckdb_databases()', sql('SELECT path FROM duckdb_databases()'), 403, 'QueryNotAllowedError'],
  ['a file outside', sql("SELECT * FROM read_text('/etc/passwd')"), 400, 'SqlError'],
  [
    'a file behind a symlinked directory',
    sql(`SELECT * FROM read_text('VAULT/linkdir/secret.txt')`),
    400,
    'SqlError',
  ],
  [
    'a deep JSON value',
    sql("SELECT (repeat('[', 5000) || repeat(']', 5000))::JSON AS j"),
    400,
    'QueryLimitError',
  ],
  ['a row larger than the result limit', sql("SELECT repeat('x', 40000000) AS s"), 400, 'QueryLimitError'],
  [
    'a cross join',
    sql('SELECT count(*) FROM range(1000000) a, range(1000000) b', { timeoutMs: 300 }),
    408,
    'QueryTimeoutError',
  ],
  ['a write', sql("COPY catalog TO '/tmp/x.csv'"), 403, 'QueryNotAllowedError'],
];

function send(a: Attempt): Promise<Reply> {
  const server = a.guarded ? guarded : open;
  const host =
    a.host === undefined ? undefined : a.host === null ? null : a.host.replace('PORT', String(server.port));
  return request(server.port, a.target.replace('RUN', v.runId), {
    ...(a.method ? { method: a.method } : {}),
    ...(a.headers ? { headers: a.headers } : {}),
    ...(a.body !== undefined ? { body: a.body.replaceAll('VAULT', v.root) } : {}),
    ...(host !== undefined ? { host } : {}),
  });
}

describe('HTTP attacks', () => {
  it('has at least 50 distinct attempts', () => {
    expect(new Set(CASES.map(([name]) => name)).size).toBeGreaterThanOrEqual(50);
  });

  it.each(CASES)('%s', async (_name, attempt, status, tag) => {
    const r = await send(attempt);
    expect(r.status, r.text.slice(0, 300)).toBe(status);
    if (tag !== undefined) expect(JSON.parse(r.text).error.tag).toBe(tag);
    expect(r.text).not.toContain(SECRET);
    expect(r.text).not.toContain(v.root);
    expect(r.text).not.toContain(fs.realpathSync(v.root));
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('names the limit in the error of a value that cannot be serialized', async () => {
    const r = await send(sql("SELECT (repeat('[', 5000) || repeat(']', 5000))::JSON AS j"));
    expect(JSON.parse(r.text).error.message).toMatch(/nested deeper than 64 levels/);
  });

  it('streams a large result to a slow reader while other requests answer', async () => {
    const big = send(sql("SELECT repeat('z', 1000) AS s FROM range(20000)", { maxRows: 20000 }));
    const health = await request(open.port, '/api/health');
    expect(health.status).toBe(200);
    const r = await big;
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBeUndefined(); // streamed, not one string
    expect(JSON.parse(r.text).rows).toHaveLength(20000);
  });
});
