// Security of `specimen serve`: loopback binding, Host (DNS rebinding), cross-origin refusal, access tokens,
// path traversal (encoded, absolute, NUL), symlinks out of the vault, and user SQL that tries to leave the
// vault — all through real HTTP requests to an in-process server.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexVault } from '../../src/catalog/index.js';
import { runSyntheticDemo } from '../../src/demo/run-demo.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { Vault } from '../../src/storage/vault.js';
import { tempDir } from '../support/helpers.js';
import { type Reply, request } from '../support/http.js';

const DEMO = 'example_2024_12_19_synthetic_demo';
const SECRET = 'TOP-SECRET-OUTSIDE-THE-VAULT';

function query(port: number, sql: string, headers: Record<string, string> = {}): Promise<Reply> {
  return request(port, '/api/query', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ sql }),
  });
}

let dir: string;
let root: string;
let outside: string;
let webDir: string;
let runId: string;
let server: RunningServer;

beforeAll(async () => {
  dir = tempDir('sv-security-');
  root = path.join(dir, 'vault');
  outside = path.join(dir, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.txt'), `${SECRET}\n`);
  fs.writeFileSync(path.join(outside, 'secret.csv'), `secret\n${SECRET}\n`);
  const vault = await Vault.init(root);
  const demo = await runSyntheticDemo({ vault });
  runId = demo.runId;
  const specimenDir = vault.specimenDir(DEMO);
  const runDir = path.join(specimenDir, 'runs', runId);
  // Symlinks inside the vault that point out of it.
  fs.cpSync(specimenDir, path.join(outside, 'evil_specimen'), { recursive: true });
  fs.symlinkSync(path.join(outside, 'evil_specimen'), path.join(vault.specimensDir, 'evil_link'));
  fs.cpSync(path.join(runDir, 'activations.zarr'), path.join(outside, 'stolen.zarr'), { recursive: true });
  fs.chmodSync(runDir, 0o755);
  fs.symlinkSync(path.join(outside, 'stolen.zarr'), path.join(runDir, 'stolen.zarr'));
  fs.rmSync(path.join(specimenDir, 'field_notes.md'));
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(specimenDir, 'field_notes.md'));
  fs.symlinkSync(path.join(outside, 'secret.csv'), path.join(root, 'link.csv'));
  fs.symlinkSync(outside, path.join(root, 'linkdir'));
  await indexVault(root);
  // A web build directory of our own, with a symlink out of it.
  webDir = path.join(dir, 'web');
  fs.mkdirSync(path.join(webDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>app</title>');
  fs.writeFileSync(path.join(webDir, 'assets', 'app.js'), 'console.log(1)');
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(webDir, 'assets', 'leak.txt'));
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(webDir, 'assets', 'leak.js'));
  server = await startServer({ vaultRoot: root, port: 0, index: false, webDir });
});

afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('binding and Host', () => {
  it('binds 127.0.0.1 by default and needs no token there', async () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.token).toBeUndefined();
    expect((await request(server.port, '/api/health')).status).toBe(200);
    expect((await request(server.port, '/')).status).toBe(200);
  });

  it('accepts only Host headers naming this server (DNS rebinding)', async () => {
    const p = server.port;
    for (const host of [`localhost:${p}`, `127.0.0.1:${p}`, `LOCALHOST:${p}`]) {
      expect((await request(p, '/api/health', { host })).status, host).toBe(200);
    }
    for (const host of [
      `evil.example:${p}`,
      'localhost',
      `localhost:${p + 1}`,
      `127.0.0.2:${p}`,
      `attacker.localhost:${p}`,
    ]) {
      const r = await request(p, '/api/health', { host });
      expect(r.status, host).toBe(403);
      expect(JSON.parse(r.text).error.tag).toBe('ForbiddenHost');
    }
    expect((await request(p, '/', { host: `rebind.evil:${p}` })).status).toBe(403);
    // Node's HTTP parser already answers 400 to an HTTP/1.1 request without Host.
    expect([400, 403]).toContain((await request(p, '/api/health', { host: null })).status);
  });

  it('generates and requires a token when bound beyond loopback', async () => {
    const wide = await startServer({ vaultRoot: root, port: 0, index: false, host: '0.0.0.0', webDir });
    try {
      expect(wide.token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      const host = `127.0.0.1:${wide.port}`;
      expect((await request(wide.port, '/api/health', { host })).status).toBe(403);
      expect((await request(wide.port, '/', { host })).status).toBe(403);
      const ok = await request(wide.port, '/api/health', {
        host,
        headers: { Authorization: `Bearer ${wide.token}` },
      });
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.text).tokenRequired).toBe(true);
      expect(
        (await request(wide.port, '/api/health', { host: `${os.hostname()}.evil:${wide.port}` })).status,
      ).toBe(403);
    } finally {
      await wide.close();
    }
  });
});

describe('access token', () => {
  let guarded: RunningServer;
  const token = 'test-token-0123456789abcdef';
  beforeAll(async () => {
    guarded = await startServer({ vaultRoot: root, port: 0, index: false, token, webDir });
  });
  afterAll(async () => {
    await guarded.close();
  });

  it('refuses requests without the token or with a wrong one', async () => {
    const cases: Record<string, string>[] = [
      {},
      { Authorization: 'Bearer wrong-token-0123456789' },
      { Authorization: token },
      { Cookie: `sv_token_${guarded.port}=nope` },
    ];
    for (const headers of cases) {
      const r = await request(guarded.port, '/api/catalog', { headers });
      expect(r.status, JSON.stringify(headers)).toBe(403);
      expect(r.text).not.toContain(DEMO);
    }
    expect((await request(guarded.port, '/assets/app.js')).status).toBe(403);
    expect((await request(guarded.port, '/?token=wrong-token-0123456789')).status).toBe(403);
  });

  it('accepts a bearer token, and a cookie set by a first ?token= visit', async () => {
    expect(
      (await request(guarded.port, '/api/catalog', { headers: { Authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
    const first = await request(guarded.port, `/?token=${token}&x=1`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/?x=1');
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toContain(`sv_token_${guarded.port}=${token}`);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const withCookie = await request(guarded.port, '/api/catalog', {
      headers: { Cookie: cookie.split(';')[0]! },
    });
    expect(withCookie.status).toBe(200);
    expect((await request(guarded.port, '/', { headers: { Cookie: cookie.split(';')[0]! } })).status).toBe(
      200,
    );
  });
});

describe('origin checks and state', () => {
  it('refuses cross-origin API requests', async () => {
    const p = server.port;
    const cases: Record<string, string>[] = [
      { Origin: 'http://evil.example' },
      { Origin: `http://localhost:${p + 1}` },
      { 'Sec-Fetch-Site': 'cross-site' },
      { 'Sec-Fetch-Site': 'same-site' },
    ];
    for (const headers of cases) {
      const r = await request(p, '/api/catalog', { headers });
      expect(r.status, JSON.stringify(headers)).toBe(403);
      expect(JSON.parse(r.text).error.tag).toBe('CrossOrigin');
      expect((await query(p, 'SELECT 1', headers)).status).toBe(403);
    }
    expect(
      (
        await request(p, '/api/catalog', {
          headers: { Origin: `http://localhost:${p}`, 'Sec-Fetch-Site': 'same-origin' },
        })
      ).status,
    ).toBe(200);
    expect((await query(p, 'SELECT 1', { Origin: `http://127.0.0.1:${p}` })).status).toBe(200);
  });

  it('sends no CORS headers and a strict Content-Security-Policy', async () => {
    const r = await request(server.port, '/api/catalog', {
      headers: { Origin: `http://localhost:${server.port}` },
    });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    const page = await request(server.port, '/');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    const pre = await request(server.port, '/api/query', {
      method: 'OPTIONS',
      headers: { Origin: 'http://evil.example' },
    });
    expect(pre.status).toBe(403);
  });

  it('changes nothing on GET; state-changing routes need POST with a JSON body', async () => {
    const p = server.port;
    expect((await request(p, '/api/index')).status).toBe(405);
    expect((await request(p, '/api/query?sql=SELECT%201')).status).toBe(405);
    const form = await request(p, '/api/index', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'full=1',
    });
    expect(form.status).toBe(415);
    const text = await request(p, '/api/query', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: '{"sql":"SELECT 1"}',
    });
    expect(text.status).toBe(415);
    expect((await request(p, '/', { method: 'POST' })).status).toBe(405);
    expect((await request(p, '/api/catalog', { method: 'DELETE' })).status).toBe(405);
  });
});

describe('paths built from requests', () => {
  const noLeak = (r: Reply) => {
    expect(r.text).not.toContain(SECRET);
    expect(r.text).not.toContain('root:x:0:0');
    expect(r.text).not.toContain(dir);
  };

  it('refuses traversal: .., encoded %2e%2e and %2f, absolute paths, backslashes, NUL', async () => {
    const targets = [
      '/../../../etc/passwd',
      '/assets/../../../etc/passwd',
      '/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/assets/..%2f..%2f..%2fetc%2fpasswd',
      '/%2fetc%2fpasswd',
      '/assets/%2e%2e%5c%2e%2e%5cpackage.json',
      '/assets/app.js%00.html',
      '/api/specimens/..',
      '/api/specimens/%2e%2e',
      '/api/specimens/..%2F..%2Fetc',
      '/api/specimens/%2Fetc%2Fpasswd',
      `/api/specimens/${DEMO}%00`,
      `/api/specimens/${DEMO}/runs/..%2f..%2f..%2f..%2fetc`,
      `/api/specimens/${DEMO}/runs/%2e%2e`,
      `/api/specimens/${DEMO}/runs/${runId}/tensors/..%2factivations`,
      `/api/specimens/${DEMO}/runs/${runId}/tensors/%2fetc%2fpasswd`,
      `/api/specimens/${DEMO}/runs/${runId}/tensors/..`,
      `/api/specimens/${DEMO}/runs/${runId}/tensors/.hidden`,
      `/api/specimens/${DEMO}/runs/${runId}/tensors/a%5cb`,
      `/api/series?run=../../etc/${runId}&metric=loss`,
      `/api/series?run=${DEMO}/..&metric=loss`,
      `/api/compare?run=%2Fetc%2F${runId}`,
      `/api/values?run=${DEMO}/${runId}%00&step=1`,
    ];
    for (const t of targets) {
      const r = await request(server.port, t);
      expect([400, 403, 404], t).toContain(r.status);
      noLeak(r);
    }
  });

  it('never follows a symlink out of the vault or the web build', async () => {
    const link = await request(server.port, '/api/specimens/evil_link');
    expect(link.status).toBe(403);
    noLeak(link);
    const tensor = await request(
      server.port,
      `/api/specimens/${DEMO}/runs/${runId}/tensors/stolen/slice?sel=0,0:4`,
    );
    expect(tensor.status).toBe(403);
    const run = await request(server.port, `/api/specimens/${DEMO}/runs/${runId}`);
    expect(run.status).toBe(200);
    expect(JSON.parse(run.text).tensors.map((t: { name: string }) => t.name)).toEqual(['activations']);
    const notes = await request(server.port, `/api/specimens/${DEMO}`);
    expect(notes.status).toBe(403);
    noLeak(notes);
    for (const leak of ['/assets/leak.txt', '/assets/leak.js']) {
      const r = await request(server.port, leak);
      expect(r.status, leak).toBe(404);
      noLeak(r);
    }
    expect((await request(server.port, '/assets/app.js')).status).toBe(200);
    expect((await request(server.port, '/package.json')).status).toBe(404);
  });
});

describe('user SQL stays inside the vault', () => {
  const refused = async (sql: string, status: number[] = [400, 403]) => {
    const r = await query(server.port, sql);
    expect(status, `${sql} → ${r.status} ${r.text}`).toContain(r.status);
    expect(r.text).not.toContain(SECRET);
    expect(r.text).not.toContain('root:x:0:0');
    return JSON.parse(r.text) as { error: { tag: string; message: string } };
  };

  it('cannot read /etc/passwd or files outside the vault', async () => {
    await refused("SELECT * FROM read_text('/etc/passwd')");
    await refused("SELECT * FROM read_csv('/etc/passwd')");
    await refused("SELECT * FROM read_blob('/etc/passwd')");
    await refused(`SELECT * FROM read_text('${root}/../outside/secret.txt')`);
    await refused(`SELECT * FROM read_csv('${path.join(outside, 'secret.csv')}')`);
    await refused("SELECT * FROM 'file:///etc/passwd'");
  });

  it('cannot glob outside the vault', async () => {
    await refused("SELECT * FROM glob('/etc/*')");
    await refused(`SELECT * FROM glob('${outside}/*')`);
    await refused(`SELECT * FROM glob('${root}/../*')`);
    await refused(`SELECT * FROM read_csv('${root}/../*/secret.csv')`);
  });

  it('cannot follow symlinks in the vault that point out of it', async () => {
    await refused(`SELECT * FROM read_csv('${root}/link.csv')`);
    await refused(`SELECT * FROM read_text('${root}/linkdir/secret.txt')`);
    await refused(`SELECT * FROM glob('${root}/linkdir/*')`);
    await refused(`SELECT * FROM read_text('${root}/specimens/${DEMO}/field_notes.md')`);
  });

  it('cannot COPY, ATTACH, INSTALL, LOAD, SET or run several statements', async () => {
    const target = path.join(dir, 'copied.csv');
    await refused(`COPY (SELECT 1) TO '${target}'`);
    await refused(`COPY catalog TO '${path.join(root, 'inside.csv')}'`);
    expect(fs.existsSync(target)).toBe(false);
    expect(fs.existsSync(path.join(root, 'inside.csv'))).toBe(false);
    expect((await refused(`ATTACH '${path.join(dir, 'x.duckdb')}' AS x`)).error.tag).toBe(
      'QueryNotAllowedError',
    );
    expect(fs.existsSync(path.join(dir, 'x.duckdb'))).toBe(false);
    await refused('INSTALL httpfs');
    await refused('LOAD httpfs');
    await refused('SET enable_external_access = true');
    await refused("SET allowed_directories = ['/']");
    await refused('PRAGMA threads=1');
    await refused('CREATE TABLE t AS SELECT 1');
    await refused('SELECT 1; SELECT 2');
    await refused("SELECT 1; COPY (SELECT 1) TO '/tmp/x.csv'");
  });

  it('still reads the vault', async () => {
    const r = await query(server.port, `SELECT count(*) AS n FROM exp_${DEMO}`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).rows).toEqual([[100]]);
  });
});
