// Editing the lab notebook over HTTP against a real vault and server: PATCH of the notebook fields and tags,
// PUT/POST of field notes, input validation (400s naming the field), cross-origin refusal and the token
// (CSRF), symlinked notes, the catalog following each edit, and sealed runs left byte for byte as they were.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexVault } from '../../src/catalog/index.js';
import { runSyntheticDemo } from '../../src/demo/run-demo.js';
import { readManifestFile } from '../../src/format/msgpack.js';
import type { QueryResponse, SpecimenEditResponse, SpecimenResponse } from '../../src/server/api-types.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { Vault } from '../../src/storage/vault.js';
import { tempDir } from '../support/helpers.js';
import { type Reply, request } from '../support/http.js';

const DEMO = 'example_2024_12_19_synthetic_demo';
const PLANNED = '2026_01_05_planned_probe';
const LINKED = '2026_01_06_linked_notes';
const LEGACY_NOTES = '# Demo\n●SECTION|Observations\nLoss fell.\n●LOG|2025-12-22 20:17|run:20251222_201718\n';

let dir: string;
let root: string;
let outside: string;
let server: RunningServer;
let guarded: RunningServer;
let vault: Vault;

function send(
  port: number,
  method: string,
  target: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return request(port, target, {
    method,
    headers: { 'Content-Type': 'application/json', Origin: `http://localhost:${port}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const patch = (body: unknown, headers?: Record<string, string>, id = DEMO) =>
  send(server.port, 'PATCH', `/api/specimens/${id}`, body, headers);
const putNotes = (body: unknown, headers?: Record<string, string>, id = DEMO) =>
  send(server.port, 'PUT', `/api/specimens/${id}/notes`, body, headers);

async function getSpecimen(id = DEMO): Promise<SpecimenResponse> {
  const r = await request(server.port, `/api/specimens/${id}`);
  expect(r.status, r.text).toBe(200);
  return JSON.parse(r.text) as SpecimenResponse;
}

async function sql<T = Record<string, unknown>>(q: string): Promise<T[]> {
  const r = await send(server.port, 'POST', '/api/query', { sql: q });
  expect(r.status, r.text).toBe(200);
  const body = JSON.parse(r.text) as QueryResponse;
  return body.rows.map((row) => Object.fromEntries(body.columns.map((c, i) => [c.name, row[i]]))) as T[];
}

function errorOf(r: Reply): { tag: string; message: string } {
  return (JSON.parse(r.text) as { error: { tag: string; message: string } }).error;
}

/** sha256 of every file under `dir` (relative path → digest), and each entry's mode. */
function snapshot(d: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string) => {
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      const f = path.join(p, e.name);
      const st = fs.lstatSync(f);
      const key = path.relative(d, f);
      if (e.isDirectory()) {
        out[`${key}/`] = `mode ${st.mode}`;
        walk(f);
      } else
        out[key] =
          `${createHash('sha256').update(fs.readFileSync(f)).digest('hex')} mode ${st.mode} mtime ${st.mtimeMs}`;
    }
  };
  walk(d);
  return out;
}

let runsBefore: Record<string, string>;

beforeAll(async () => {
  dir = tempDir('sv-notebook-api-');
  root = path.join(dir, 'vault');
  outside = path.join(dir, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.md'), 'OUTSIDE\n');
  vault = await Vault.init(root);
  await runSyntheticDemo({ vault });
  fs.writeFileSync(path.join(vault.specimenDir(DEMO), 'field_notes.md'), LEGACY_NOTES);
  await vault.createSpecimen({
    specimenId: PLANNED,
    domain: 'interpretability',
    method: 'probe_training',
    status: 'planned',
    hypothesis: 'layer 6 encodes syntax',
  });
  await vault.createSpecimen({ specimenId: LINKED, domain: 'training', method: 'fine_tuning' });
  fs.symlinkSync(path.join(outside, 'secret.md'), path.join(vault.specimenDir(LINKED), 'field_notes.md'));
  await indexVault(root);
  runsBefore = snapshot(path.join(vault.specimenDir(DEMO), 'runs'));
  server = await startServer({ vaultRoot: root, port: 0, index: false });
  guarded = await startServer({ vaultRoot: root, port: 0, index: false, token: 'a-long-enough-test-token' });
}, 120_000);

afterAll(async () => {
  await server?.close();
  await guarded?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('reading', () => {
  it('sends the notes raw and as Markdown (older markup converted), their hash, and the status', async () => {
    const s = await getSpecimen();
    expect(s.field_notes).toBe(LEGACY_NOTES);
    expect(s.field_notes_markdown).toContain('## Observations');
    expect(s.field_notes_markdown).toContain('### Log 2025-12-22 20:17');
    expect(s.field_notes_markdown).toContain('- **run:** `20251222_201718`');
    expect(s.field_notes_sha256).toBe(createHash('sha256').update(LEGACY_NOTES).digest('hex'));
    expect(s.field_notes_truncated).toBe(false);
    expect(s.status).toBe('active');
    expect((await getSpecimen(PLANNED)).status).toBe('planned');
  });
});

describe('PATCH /api/specimens/:id', () => {
  it('edits hypothesis, expected results, tags and status, and the catalog follows', async () => {
    const r = await patch({
      hypothesis: 'the loss falls below 0.1',
      expected_results: 'accuracy above 0.9',
      tags: ['demo', 'synthetic', 'edited'],
    });
    expect(r.status, r.text).toBe(200);
    const body = JSON.parse(r.text) as SpecimenEditResponse;
    expect(body.indexed).toBe(true);
    expect(body.manifest).toMatchObject({
      hypothesis: 'the loss falls below 0.1',
      tags: ['demo', 'synthetic', 'edited'],
    });
    const m = await readManifestFile(path.join(vault.specimenDir(DEMO), 'manifest.msgpack'));
    expect(m).toMatchObject({
      hypothesis: 'the loss falls below 0.1',
      expected_results: 'accuracy above 0.9',
    });
    expect(
      await sql(`SELECT hypothesis, expected_results, tags FROM catalog WHERE specimen_id = '${DEMO}'`),
    ).toEqual([
      {
        hypothesis: 'the loss falls below 0.1',
        expected_results: 'accuracy above 0.9',
        tags: ['demo', 'synthetic', 'edited'],
      },
    ]);
    const concluded = await patch({ conclusion: 'it does', status: 'concluded' });
    expect(concluded.status, concluded.text).toBe(200);
    expect(await sql(`SELECT status, conclusion FROM catalog WHERE specimen_id = '${DEMO}'`)).toEqual([
      { status: 'concluded', conclusion: 'it does' },
    ]);
    // Clearing a field removes it.
    expect((await patch({ expected_results: '' })).status).toBe(200);
    const cleared = await readManifestFile(path.join(vault.specimenDir(DEMO), 'manifest.msgpack'));
    expect('expected_results' in cleared).toBe(false);
  });

  it('moves a planned specimen on, and refuses planned once runs exist', async () => {
    expect((await patch({ status: 'active' }, {}, PLANNED)).status).toBe(200);
    expect((await patch({ status: 'planned' }, {}, PLANNED)).status).toBe(200);
    const r = await patch({ status: 'planned' });
    expect(r.status).toBe(400);
    expect(errorOf(r)).toEqual({
      tag: 'UsageError',
      message: expect.stringContaining('cannot be planned any more'),
    });
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const cases: [unknown, string, string][] = [
      [{ tags: ['ok', 'not ok'] }, 'UsageError', '"not ok" is not a tag'],
      [{ tags: 'demo' }, 'UsageError', 'tags must be a list'],
      [{ tags: ['a', 'a'] }, 'UsageError', 'listed twice'],
      [{ tags: Array.from({ length: 65 }, (_, i) => `t${i}`) }, 'UsageError', 'at most 64 tags'],
      [{ hypothesis: 'x'.repeat(20_001) }, 'UsageError', 'hypothesis is 20001 characters long'],
      [{ hypothesis: 42 }, 'UsageError', 'hypothesis must be a string'],
      [{ status: 'finished' }, 'UsageError', 'status must be one of planned, active, concluded'],
      [{ owner: 'me' }, 'UsageError', 'unknown field "owner"'],
      [{}, 'BadRequest', 'nothing to change'],
      ['[1,2]', 'BadRequest', 'must be a JSON object'],
      ['{"hypothesis":', 'BadRequest', 'not valid JSON'],
    ];
    for (const [body, tag, message] of cases) {
      const r = await patch(body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      const e = errorOf(r);
      expect(e.tag).toBe(tag);
      expect(e.message).toContain(message);
    }
    const conclusionless = await patch({ conclusion: null, status: 'concluded' });
    expect(conclusionless.status).toBe(400);
    expect(errorOf(conclusionless).message).toContain('write a conclusion');
    expect((await patch({ hypothesis: 'x' }, {}, '2026_01_09_missing')).status).toBe(404);
    expect((await patch({ hypothesis: 'x' }, {}, 'not..valid')).status).toBe(400);
    const form = await patch('hypothesis=x', { 'Content-Type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
  });
});

describe('field notes', () => {
  it('replaces the notes given the hash they were loaded with, and refuses a stale one', async () => {
    const before = await getSpecimen();
    const text = `${before.field_notes}\n## Edited\n\nfrom the browser\n`;
    const r = await putNotes({ text, base_sha256: before.field_notes_sha256 });
    expect(r.status, r.text).toBe(200);
    const notesFile = path.join(vault.specimenDir(DEMO), 'field_notes.md');
    expect(fs.readFileSync(notesFile, 'utf8')).toBe(text);
    expect((JSON.parse(r.text) as SpecimenEditResponse).field_notes_sha256).toBe(
      createHash('sha256').update(text).digest('hex'),
    );
    const stale = await putNotes({ text: 'overwrite', base_sha256: before.field_notes_sha256 });
    expect(stale.status).toBe(409);
    expect(errorOf(stale).tag).toBe('Conflict');
    expect(fs.readFileSync(notesFile, 'utf8')).toBe(text);
    expect(fs.readdirSync(path.dirname(notesFile)).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });

  it('appends a dated entry with POST', async () => {
    const r = await send(server.port, 'POST', `/api/specimens/${DEMO}/notes`, { entry: 'seen from the UI' });
    expect(r.status, r.text).toBe(200);
    const notes = fs.readFileSync(path.join(vault.specimenDir(DEMO), 'field_notes.md'), 'utf8');
    expect(notes).toMatch(/\n## \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\n\nseen from the UI\n$/);
    const empty = await send(server.port, 'POST', `/api/specimens/${DEMO}/notes`, { entry: ' ' });
    expect(empty.status).toBe(400);
  });

  it('refuses oversized or malformed notes', async () => {
    const big = await putNotes({ text: 'x'.repeat(200_001) });
    expect(big.status).toBe(400);
    expect(errorOf(big).message).toContain('cannot be edited here');
    expect((await putNotes({ text: 3 })).status).toBe(400);
    expect((await putNotes({ text: 'a', base_sha256: 'nothex' })).status).toBe(400);
    expect((await putNotes({ text: 'a', extra: 1 })).status).toBe(400);
    const nul = await putNotes({ text: 'a\u0000b' });
    expect(nul.status).toBe(400);
  });

  it('never writes through a notes symlink that leaves the vault', async () => {
    const r = await putNotes({ text: 'pwned' }, {}, LINKED);
    expect(r.status).toBe(403);
    expect(errorOf(r).tag).toBe('PathEscapeError');
    const a = await send(server.port, 'POST', `/api/specimens/${LINKED}/notes`, { entry: 'pwned' });
    expect(a.status).toBe(403);
    expect(fs.readFileSync(path.join(outside, 'secret.md'), 'utf8')).toBe('OUTSIDE\n');
    expect(r.text).not.toContain(dir);
  });
});

describe('cross-site requests (CSRF) and the token', () => {
  it('refuses edits from another origin or site, and changes nothing', async () => {
    const manifestFile = path.join(vault.specimenDir(DEMO), 'manifest.msgpack');
    const notesFile = path.join(vault.specimenDir(DEMO), 'field_notes.md');
    const manifestBefore = fs.readFileSync(manifestFile);
    const notesBefore = fs.readFileSync(notesFile);
    const p = server.port;
    const hostile: Record<string, string>[] = [
      { Origin: 'http://evil.example' },
      { Origin: `http://localhost:${p + 1}` },
      { Origin: 'null' },
      { Origin: `http://localhost:${p}`, 'Sec-Fetch-Site': 'cross-site' },
      { Origin: `http://localhost:${p}`, 'Sec-Fetch-Site': 'same-site' },
    ];
    for (const headers of hostile) {
      for (const r of [
        await patch({ hypothesis: 'csrf' }, headers),
        await putNotes({ text: 'csrf' }, headers),
        await send(p, 'POST', `/api/specimens/${DEMO}/notes`, { entry: 'csrf' }, headers),
      ]) {
        expect(r.status, JSON.stringify(headers)).toBe(403);
        expect(errorOf(r).tag).toBe('CrossOrigin');
      }
    }
    // A page on another name that resolves here (DNS rebinding).
    const rebound = await request(p, `/api/specimens/${DEMO}`, {
      method: 'PATCH',
      host: 'evil.example',
      headers: { 'Content-Type': 'application/json' },
      body: '{"hypothesis":"csrf"}',
    });
    expect(rebound.status).toBe(403);
    expect(errorOf(rebound).tag).toBe('ForbiddenHost');
    expect(fs.readFileSync(manifestFile).equals(manifestBefore)).toBe(true);
    expect(fs.readFileSync(notesFile).equals(notesBefore)).toBe(true);
    // The same request from the page's own origin goes through.
    const same = await patch(
      { hypothesis: 'same origin' },
      { Origin: `http://127.0.0.1:${p}`, 'Sec-Fetch-Site': 'same-origin' },
    );
    expect(same.status, same.text).toBe(200);
  });

  it('needs the token where the server requires one', async () => {
    const p = guarded.port;
    const none = await send(p, 'PATCH', `/api/specimens/${DEMO}`, { hypothesis: 'no token' });
    expect(none.status).toBe(403);
    expect(errorOf(none).tag).toBe('TokenRequired');
    const wrong = await send(
      p,
      'PATCH',
      `/api/specimens/${DEMO}`,
      { hypothesis: 'x' },
      { Authorization: 'Bearer wrong-token-wrong-token' },
    );
    expect(wrong.status).toBe(403);
    const ok = await send(
      p,
      'PATCH',
      `/api/specimens/${DEMO}`,
      { hypothesis: 'with token' },
      { Authorization: 'Bearer a-long-enough-test-token' },
    );
    expect(ok.status, ok.text).toBe(200);
    const m = await readManifestFile(path.join(vault.specimenDir(DEMO), 'manifest.msgpack'));
    expect(m.hypothesis).toBe('with token');
  });
});

describe('sealed runs', () => {
  it('are byte-identical (and keep their modes and mtimes) after every edit above', () => {
    const after = snapshot(path.join(vault.specimenDir(DEMO), 'runs'));
    expect(Object.keys(after).length).toBeGreaterThan(3);
    expect(after).toEqual(runsBefore);
  });
});
