// Saved views through the HTTP API of a real server: save, list, read and delete `views/<name>.json`; the
// state-changing requests (PUT, DELETE) keep the server's protections — a cross-origin or cross-site request,
// a wrong Host, a form-encoded body, a missing token or a views folder linked out of the vault changes
// nothing — and a same-origin request from the web app is accepted.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { Vault } from '../../src/storage/vault.js';
import { tempDir } from '../support/helpers.js';
import { request } from '../support/http.js';

const VIEW = {
  version: 1,
  title: 'When does the test loss turn?',
  runs: ['2025_01_02_grok'],
  items: [
    { kind: 'text', markdown: 'Compare the **turns**.' },
    { kind: 'chart', metrics: ['test_loss'], group_by: ['lr'] },
    { kind: 'table', sql: 'SELECT run_id FROM runs ORDER BY run_id' },
  ],
};

let dir: string;
let root: string;
let server: RunningServer;
let tokenServer: RunningServer;

const sameOrigin = (port: number) => ({
  'Content-Type': 'application/json',
  Origin: `http://localhost:${port}`,
  'Sec-Fetch-Site': 'same-origin',
});

function put(port: number, name: string, body: unknown, headers: Record<string, string>) {
  return request(port, `/api/views/${name}`, { method: 'PUT', headers, body: JSON.stringify(body) });
}

const viewFile = (name: string) => path.join(root, 'views', `${name}.json`);

beforeAll(async () => {
  dir = tempDir('sv-views-');
  root = path.join(dir, 'vault');
  await Vault.init(root);
  server = await startServer({ vaultRoot: root, port: 0, index: false });
  tokenServer = await startServer({
    vaultRoot: root,
    port: 0,
    index: false,
    token: 'views-token-0123456789',
  });
});

afterAll(async () => {
  await server?.close();
  await tokenServer?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('views API', () => {
  it('saves a view from the same origin, lists it and reads it back with defaults filled in', async () => {
    const saved = await put(server.port, 'turns', VIEW, sameOrigin(server.port));
    expect(saved.status).toBe(200);
    expect(fs.existsSync(viewFile('turns'))).toBe(true);
    const onDisk = JSON.parse(fs.readFileSync(viewFile('turns'), 'utf8'));
    expect(onDisk.items[1]).toEqual({
      kind: 'chart',
      metrics: ['test_loss'],
      group_by: ['lr'],
      x: 'step',
      log: false,
    });
    const list = JSON.parse((await request(server.port, '/api/views')).text);
    expect(list.views).toEqual([{ name: 'turns', title: VIEW.title, items: 3 }]);
    const got = JSON.parse((await request(server.port, '/api/views/turns')).text);
    expect(got.view).toEqual(onDisk);
    // A request without Origin (curl, the CLI) is same-origin too.
    const plain = await put(
      server.port,
      'turns',
      { ...VIEW, title: 'Turns' },
      { 'Content-Type': 'application/json' },
    );
    expect(plain.status).toBe(200);
    expect(JSON.parse(fs.readFileSync(viewFile('turns'), 'utf8')).title).toBe('Turns');
  });

  it('refuses a cross-origin or cross-site save and changes nothing', async () => {
    const before = fs.readFileSync(viewFile('turns'), 'utf8');
    const evil = { ...VIEW, title: 'owned' };
    const cross = await put(server.port, 'turns', evil, {
      'Content-Type': 'application/json',
      Origin: 'http://evil.example',
    });
    expect(cross.status).toBe(403);
    expect(JSON.parse(cross.text).error.tag).toBe('CrossOrigin');
    const site = await put(server.port, 'evil', evil, {
      'Content-Type': 'application/json',
      'Sec-Fetch-Site': 'cross-site',
    });
    expect(site.status).toBe(403);
    // What a cross-site HTML form can send: no JSON content type.
    const form = await request(server.port, '/api/views/evil', {
      method: 'PUT',
      headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify(evil),
    });
    expect(form.status).toBe(415);
    const rebinding = await put(server.port, 'evil', evil, { 'Content-Type': 'application/json' }).then(() =>
      request(server.port, '/api/views/evil', {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(evil),
        host: 'attacker.example:80',
      }),
    );
    expect(rebinding.status).toBe(403);
    expect(JSON.parse(rebinding.text).error.tag).toBe('ForbiddenHost');
    const del = await request(server.port, '/api/views/turns', {
      method: 'DELETE',
      headers: { Origin: 'http://evil.example' },
    });
    expect(del.status).toBe(403);
    // A cross-origin POST (what a page elsewhere can send) is refused before any route is looked at.
    const post = await request(server.port, '/api/views/turns', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: 'http://evil.example' },
      body: JSON.stringify(evil),
    });
    expect(post.status).toBe(403);
    expect(JSON.parse(post.text).error.tag).toBe('CrossOrigin');
    expect(fs.readFileSync(viewFile('turns'), 'utf8')).toBe(before);
  });

  it('requires the token where the server has one', async () => {
    const without = await put(tokenServer.port, 'tok', VIEW, sameOrigin(tokenServer.port));
    expect(without.status).toBe(403);
    expect(JSON.parse(without.text).error.tag).toBe('TokenRequired');
    expect(fs.existsSync(viewFile('tok'))).toBe(false);
    const withToken = await put(tokenServer.port, 'tok', VIEW, {
      ...sameOrigin(tokenServer.port),
      Authorization: 'Bearer views-token-0123456789',
    });
    expect(withToken.status).toBe(200);
    expect(fs.existsSync(viewFile('tok'))).toBe(true);
  });

  it('validates names and bodies with clear errors', async () => {
    const badName = await put(server.port, 'Bad%20Name', VIEW, sameOrigin(server.port));
    expect(badName.status).toBe(400);
    expect(JSON.parse(badName.text).error.tag).toBe('InvalidNameError');
    const traversal = await put(server.port, '..%2Fescape', VIEW, sameOrigin(server.port));
    expect(traversal.status).toBe(400);
    const badBody = await put(
      server.port,
      'broken',
      { ...VIEW, items: [{ kind: 'chart', metrics: 'loss' }] },
      sameOrigin(server.port),
    );
    expect(badBody.status).toBe(400);
    const err = JSON.parse(badBody.text).error;
    expect(err.tag).toBe('ManifestError');
    expect(err.message).toContain('items.0');
    expect(fs.existsSync(viewFile('broken'))).toBe(false);
    const missing = await request(server.port, '/api/views/turn');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text).error.message).toContain('"turns"');
  });

  it('deletes a view from the same origin', async () => {
    const del = await request(server.port, '/api/views/tok', {
      method: 'DELETE',
      headers: { Origin: `http://localhost:${server.port}` },
    });
    expect(del.status).toBe(200);
    expect(fs.existsSync(viewFile('tok'))).toBe(false);
    expect((await request(server.port, '/api/views/tok')).status).toBe(404);
  });

  it('never writes through a views folder linked out of the vault', async () => {
    const outside = path.join(dir, 'outside');
    fs.mkdirSync(outside);
    const views = path.join(root, 'views');
    fs.renameSync(views, path.join(dir, 'views-kept'));
    fs.symlinkSync(outside, views);
    try {
      const r = await put(server.port, 'escape', VIEW, sameOrigin(server.port));
      expect(r.status).toBe(403);
      expect(JSON.parse(r.text).error.tag).toBe('PathEscapeError');
      expect(fs.readdirSync(outside)).toEqual([]);
    } finally {
      fs.rmSync(views);
      fs.renameSync(path.join(dir, 'views-kept'), views);
    }
  });
});
