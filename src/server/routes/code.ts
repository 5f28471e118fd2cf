/**
 * The code kept with a run (`runs/<id>/code/`, runner/code-kept.ts):
 *
 * - `GET /api/specimens/:id/runs/:run/code` — the kept files (name, bytes, sha256 as sealing recorded it,
 *   or computed for a run not sealed yet), the untracked files `untracked.txt` names, and the files that
 *   were skipped, with the reason, as the manifest's `code` records them.
 * - `GET /api/specimens/:id/runs/:run/code/:file` — one kept file as text, cut at MAX_CODE_VIEW_BYTES
 *   (after the last complete line); a binary file is refused (415).
 * - `GET /api/code-diff?run=A&run=B&file=<name>` — the unified diff of one kept file between two runs
 *   (A → B; `/dev/null` on the side that lacks it), as `specimen diff` prints it.
 *
 * Every file is confined to its run's `code/` folder: the name must be a safe name (no `/`, no `..`), and
 * its real path, symlinks resolved, must sit directly in the real `code/` folder of the run, itself inside
 * the vault; anything else is a 403.
 *
 * @example
 * GET /api/specimens/2026_01_02_probe/runs/20260102_101010/code/protocol.py
 * → {"name": "protocol.py", "bytes": 812, "sha256": "…", "text": "import …", "truncated": false}
 */
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError, PathEscapeError } from '../../errors.js';
import { assertSafeName } from '../../format/ids.js';
import { CODE_DIR, CODE_FILE_MAX_BYTES, CODE_UNTRACKED_FILE } from '../../format/layout.js';
import { within } from '../../format/paths.js';
import { diffKeptCode } from '../../runner/run-diff.js';
import type { RunInfo } from '../../storage/describe.js';
import type { CodeDiffResponse, CodeFileResponse, CodeListResponse } from '../api-types.js';
import { parseRunRef, type ServerContext } from '../context.js';
import { HttpError, sendJson } from '../http.js';
import type { Router } from '../router.js';

/** Largest part of a kept file sent for viewing (kept files are at most CODE_FILE_MAX_BYTES anyway). */
export const MAX_CODE_VIEW_BYTES = CODE_FILE_MAX_BYTES;

/** The manifest's `code` field: what was kept and what was skipped. */
function keptField(run: RunInfo): { skipped: { file: string; reason: string }[] } {
  const code = (run.manifest as Record<string, unknown> | undefined)?.code;
  const skipped: { file: string; reason: string }[] = [];
  if (code && typeof code === 'object' && Array.isArray((code as { skipped?: unknown }).skipped))
    for (const s of (code as { skipped: unknown[] }).skipped)
      if (s && typeof s === 'object')
        skipped.push({
          file: String((s as { file?: unknown }).file ?? ''),
          reason: String((s as { reason?: unknown }).reason ?? ''),
        });
  return { skipped };
}

/** The run's real `code/` folder (confined to the vault), or undefined when the run kept no code. */
async function codeDir(ctx: ServerContext, run: RunInfo): Promise<string | undefined> {
  const dir = path.join(run.path, CODE_DIR);
  const st = await fsp.lstat(dir).catch(() => undefined);
  if (!st) return undefined;
  const real = await ctx.confine(dir, 'code folder', `${run.runId}/${CODE_DIR}`);
  if (!(await fsp.stat(real)).isDirectory()) return undefined;
  return real;
}

/**
 * The real path of kept file `name` of `run`, which must be a regular file directly in the run's real
 * `code/` folder (see the module comment).
 */
async function confineCodeFile(ctx: ServerContext, run: RunInfo, name: string): Promise<string> {
  assertSafeName('code file', name);
  const label = `${run.runId}/${CODE_DIR}/${name}`;
  const dir = await codeDir(ctx, run);
  if (!dir) throw new NotFoundError(`code file of ${run.specimenId}/${run.runId}`, name);
  const real = await ctx.confine(
    within(path.join(run.path, CODE_DIR), name),
    `code file of ${run.runId}`,
    name,
  );
  if (path.dirname(real) !== dir) throw new PathEscapeError(label, `the run's ${CODE_DIR}/ folder`);
  if (!(await fsp.stat(real)).isFile()) throw new NotFoundError(`code file of ${run.runId}`, name);
  return real;
}

/** The sha256 sealing recorded for a kept file, or undefined (a run not sealed yet). */
function recordedSha(run: RunInfo, name: string): string | undefined {
  const entry = run.manifest?.files?.[`${CODE_DIR}/${name}`];
  return entry?.sha256;
}

async function sha256Of(file: string): Promise<string> {
  return createHash('sha256')
    .update(await fsp.readFile(file))
    .digest('hex');
}

/** A kept file's text, cut at `max` bytes after the last complete line; undefined when it is binary. */
async function readCodeText(
  file: string,
  max = MAX_CODE_VIEW_BYTES,
): Promise<{ text: string; bytes: number; truncated: boolean } | undefined> {
  const handle = await fsp.open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const buf = Buffer.alloc(Math.min(size, max));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    let bytes = buf.subarray(0, bytesRead);
    // A NUL byte in the first 8 KiB marks a file as binary (git's rule, as keeping code applies it).
    if (bytes.subarray(0, 8192).includes(0)) return undefined;
    const truncated = bytesRead < size;
    if (truncated) {
      const nl = bytes.lastIndexOf(10);
      if (nl >= 0) bytes = bytes.subarray(0, nl + 1);
    }
    return { text: bytes.toString('utf8'), bytes: size, truncated };
  } finally {
    await handle.close();
  }
}

export function registerCodeRoutes(router: Router, ctx: ServerContext): void {
  router.get('/api/specimens/:id/runs/:run/code', async ({ params, res }) => {
    const { run } = await ctx.run(params.id!, params.run!);
    const dir = await codeDir(ctx, run);
    const body: CodeListResponse = {
      specimen_id: run.specimenId,
      run_id: run.runId,
      files: [],
      untracked: [],
      skipped: keptField(run).skipped,
    };
    const names = dir ? (await fsp.readdir(dir)).filter((n) => !n.startsWith('.tmp-')).sort() : [];
    for (const name of names) {
      let real: string;
      try {
        real = await confineCodeFile(ctx, run, name);
      } catch {
        // A symlink out of the folder, a subfolder or an odd name: not a kept file, not listed.
        continue;
      }
      const st = await fsp.stat(real);
      body.files.push({ name, bytes: st.size, sha256: recordedSha(run, name) ?? (await sha256Of(real)) });
      if (name === CODE_UNTRACKED_FILE) {
        const t = await readCodeText(real);
        if (t) body.untracked = t.text.split('\n').filter((l) => l !== '');
      }
    }
    sendJson(res, 200, body);
  });

  router.get('/api/specimens/:id/runs/:run/code/:file', async ({ params, res }) => {
    const { run } = await ctx.run(params.id!, params.run!);
    const name = params.file!;
    const real = await confineCodeFile(ctx, run, name);
    const t = await readCodeText(real);
    if (!t)
      throw new HttpError(415, 'NotText', `code file ${JSON.stringify(name)} is binary: only text is shown`);
    const body: CodeFileResponse = {
      name,
      bytes: t.bytes,
      sha256: recordedSha(run, name) ?? (await sha256Of(real)),
      text: t.text,
      truncated: t.truncated,
    };
    sendJson(res, 200, body);
  });

  router.get('/api/code-diff', async ({ query, res }) => {
    const refs = query.getAll('run');
    if (refs.length !== 2)
      throw new HttpError(400, 'BadRequest', 'name exactly two runs: run=<specimen_id>/<run_id>&run=…');
    const file = query.get('file');
    if (!file) throw new HttpError(400, 'BadRequest', 'file is required: file=<name of a kept code file>');
    assertSafeName('code file', file);
    const texts = await Promise.all(
      refs.map(async (text) => {
        const ref = parseRunRef(text);
        const { run } = await ctx.run(ref.specimenId, ref.runId);
        const dir = await codeDir(ctx, run);
        const present = dir && (await fsp.lstat(path.join(dir, file)).catch(() => undefined));
        if (!present) return { run, text: undefined };
        const t = await readCodeText(await confineCodeFile(ctx, run, file));
        if (!t) throw new HttpError(415, 'NotText', `code file ${JSON.stringify(file)} of ${text} is binary`);
        return { run, text: t.text, truncated: t.truncated };
      }),
    );
    const [a, b] = texts as [(typeof texts)[0], (typeof texts)[0]];
    if (a.text === undefined && b.text === undefined)
      throw new NotFoundError('code file of either run', file);
    const map = (t: string | undefined) => new Map(t === undefined ? [] : [[file, t]]);
    const [patch] = diffKeptCode(map(a.text), map(b.text), { a: a.run.runId, b: b.run.runId });
    const body: CodeDiffResponse = {
      file,
      a: { specimen_id: a.run.specimenId, run_id: a.run.runId, present: a.text !== undefined },
      b: { specimen_id: b.run.specimenId, run_id: b.run.runId, present: b.text !== undefined },
      same: patch === undefined,
      patch: patch?.patch ?? '',
      truncated: Boolean(a.truncated || b.truncated),
    };
    sendJson(res, 200, body);
  });
}
