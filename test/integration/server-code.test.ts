// The code kept with runs over the API (real server on a socket, real runs through the built CLI in a real
// git repository): the list of kept files with sizes and the sha256 sealing recorded, untracked and skipped
// files; one file as text; the unified diff of a file between two runs; and every path that would leave
// the run's code/ folder refused (`..`, an encoded slash, a symlink out of the folder, a binary file).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodeDiffResponse, CodeFileResponse, CodeListResponse } from '../../src/server/api-types.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { buildCodeVault, type CodeVault, CODE_SPECIMEN as S } from '../support/code-vault.js';
import { request } from '../support/http.js';

describe('kept code over the API', () => {
  let v: CodeVault;
  let server: RunningServer;
  const get = async <T>(target: string): Promise<T> => {
    const r = await request(server.port, target);
    if (r.status !== 200) throw new Error(`${target}: ${r.status} ${r.text}`);
    return JSON.parse(r.text) as T;
  };
  const codeUrl = (runId: string, file?: string) =>
    `/api/specimens/${S}/runs/${runId}/code${file === undefined ? '' : `/${file}`}`;

  beforeAll(async () => {
    v = await buildCodeVault();
    server = await startServer({ vaultRoot: v.dir, port: 0 });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    if (v) fs.rmSync(v.dir, { recursive: true, force: true });
  });

  it('lists the kept files with their size and sealed sha256, untracked and skipped files', async () => {
    const [clean, dirty] = v.runs;
    const a = await get<CodeListResponse>(codeUrl(clean.runId));
    expect(a.files.map((f) => f.name)).toEqual(['protocol.py']);
    expect(a.untracked).toEqual([]);
    expect(a.skipped).toEqual([]);
    const b = await get<CodeListResponse>(codeUrl(dirty.runId));
    expect(b.files.map((f) => f.name)).toEqual(['git.diff', 'protocol.py', 'untracked.txt']);
    for (const f of b.files) {
      const bytes = fs.readFileSync(path.join(dirty.path, 'code', f.name));
      expect(f.bytes).toBe(bytes.length);
      expect(f.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    expect(b.untracked).toContain(`specimens/${S}/helper.py`);
    expect(b.skipped.map((s) => s.file)).toEqual(['protocol.bin']);
    expect(b.skipped[0]!.reason).toMatch(/binary/);
  });

  it('serves one kept file as text, and git.diff as the unified diff it is', async () => {
    const [, dirty] = v.runs;
    const f = await get<CodeFileResponse>(codeUrl(dirty.runId, 'protocol.py'));
    expect(f.text).toBe("lr = 0.01\nprint('lr', lr)\nprint('done')\n");
    expect(f.truncated).toBe(false);
    expect(f.bytes).toBe(Buffer.byteLength(f.text));
    const d = await get<CodeFileResponse>(codeUrl(dirty.runId, 'git.diff'));
    expect(d.text).toContain('-lr = 0.1');
    expect(d.text).toContain('+lr = 0.01');
  });

  it('diffs one kept file between two runs', async () => {
    const [clean, dirty] = v.runs;
    const d = await get<CodeDiffResponse>(
      `/api/code-diff?run=${S}/${clean.runId}&run=${S}/${dirty.runId}&file=protocol.py`,
    );
    expect(d.same).toBe(false);
    expect(d.patch).toContain(`--- ${clean.runId}/protocol.py`);
    expect(d.patch).toContain(`+++ ${dirty.runId}/protocol.py`);
    expect(d.patch).toContain('-lr = 0.1');
    expect(d.patch).toContain('+lr = 0.01');
    expect(d.patch).toContain(" print('lr', lr)");
    // A file only one run kept is diffed against /dev/null.
    const only = await get<CodeDiffResponse>(
      `/api/code-diff?run=${S}/${clean.runId}&run=${S}/${dirty.runId}&file=git.diff`,
    );
    expect(only.a.present).toBe(false);
    expect(only.b.present).toBe(true);
    expect(only.patch).toContain('--- /dev/null');
    const same = await get<CodeDiffResponse>(
      `/api/code-diff?run=${S}/${clean.runId}&run=${S}/${clean.runId}&file=protocol.py`,
    );
    expect(same.same).toBe(true);
    expect(same.patch).toBe('');
    expect(
      (await request(server.port, `/api/code-diff?run=${S}/${clean.runId}&file=protocol.py`)).status,
    ).toBe(400);
  });

  it('refuses every path out of the run’s code/ folder, a symlink out of it, and binary files', async () => {
    const [clean, dirty] = v.runs;
    const status = async (target: string) => {
      const r = await request(server.port, target);
      expect(r.text).not.toContain(v.dir);
      return r.status;
    };
    // `..` and encoded slashes never reach the route; names that are not safe names are refused by it.
    expect(await status(`${codeUrl(dirty.runId)}/..`)).toBe(400);
    expect(await status(`${codeUrl(dirty.runId)}/%2e%2e`)).toBe(400);
    expect(await status(`${codeUrl(dirty.runId)}/..%2Fmanifest.msgpack`)).toBe(400);
    expect(await status(`${codeUrl(dirty.runId)}/.hidden`)).toBe(400);
    expect(await status(`/api/code-diff?run=${S}/${clean.runId}&run=${S}/${dirty.runId}&file=..`)).toBe(400);
    expect(await status(codeUrl(dirty.runId, 'nothing.py'))).toBe(404);
    // A symlink in code/ to a file of the same run (outside code/) or out of the vault is refused.
    const code = path.join(dirty.path, 'code');
    fs.symlinkSync(path.join(dirty.path, 'manifest.msgpack'), path.join(code, 'manifest.py'));
    const outside = path.join(path.dirname(v.dir), `sv-code-outside-${process.pid}.txt`);
    fs.writeFileSync(outside, 'secret\n');
    fs.symlinkSync(outside, path.join(code, 'outside.py'));
    fs.writeFileSync(path.join(code, 'blob.bin'), Buffer.from([1, 0, 2]));
    try {
      expect(await status(codeUrl(dirty.runId, 'manifest.py'))).toBe(403);
      expect(await status(codeUrl(dirty.runId, 'outside.py'))).toBe(403);
      expect(
        await status(`/api/code-diff?run=${S}/${clean.runId}&run=${S}/${dirty.runId}&file=outside.py`),
      ).toBe(403);
      expect(await status(codeUrl(dirty.runId, 'blob.bin'))).toBe(415);
      // Listed files are the ones that can be read: neither symlink is.
      const list = await get<CodeListResponse>(codeUrl(dirty.runId));
      expect(list.files.map((f) => f.name)).not.toContain('outside.py');
      expect(list.files.map((f) => f.name)).not.toContain('manifest.py');
      // A code/ folder that is itself a symlink out of the vault is refused.
      const cleanCode = path.join(clean.path, 'code');
      const moved = path.join(path.dirname(v.dir), `sv-code-moved-${process.pid}`);
      fs.renameSync(cleanCode, moved);
      fs.symlinkSync(moved, cleanCode);
      try {
        expect(await status(codeUrl(clean.runId, 'protocol.py'))).toBe(403);
        expect(await status(codeUrl(clean.runId))).toBe(403);
      } finally {
        fs.unlinkSync(cleanCode);
        fs.renameSync(moved, cleanCode);
      }
    } finally {
      for (const f of ['manifest.py', 'outside.py', 'blob.bin'])
        fs.rmSync(path.join(code, f), { force: true });
      fs.rmSync(outside, { force: true });
    }
  });
});
