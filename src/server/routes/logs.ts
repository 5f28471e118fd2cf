/**
 * A run's console output: `GET /api/specimens/:id/runs/:run/logs?stream=stdout|stderr&offset=N` answers
 * the bytes of `stdout.log` / `stderr.log` from byte `offset` on (at most 256 kB, cut after the last
 * complete line unless the file ends there), with `next_offset` to ask from next time: a page following
 * a live run asks again with it and appends, reading only what is new. Without `offset`, the last
 * `tail` bytes (default 64 kB) are answered, from the start of a line. A run without the file answers
 * `exists: false` and empty text, so a page can poll before the writer has printed anything.
 *
 * @example
 * GET /api/specimens/2026_01_02_probe/runs/20260102_101010/logs?stream=stderr
 * → {"stream": "stderr", "exists": true, "size": 812, "offset": 0, "next_offset": 812, "text": "Traceback …"}
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { STDERR_FILE, STDOUT_FILE } from '../../format/layout.js';
import type { LogsResponse } from '../api-types.js';
import type { ServerContext } from '../context.js';
import { HttpError, intParam, sendJson } from '../http.js';
import type { Router } from '../router.js';

const STREAMS = { stdout: STDOUT_FILE, stderr: STDERR_FILE } as const;
const MAX_BYTES = 256 * 1024;
const DEFAULT_TAIL = 64 * 1024;

export function registerLogRoutes(router: Router, ctx: ServerContext): void {
  router.get('/api/specimens/:id/runs/:run/logs', async ({ params, query, res }) => {
    const { run } = await ctx.run(params.id!, params.run!);
    sendJson(res, 200, await readLog(ctx, run.path, params.run!, query));
  });
}

/**
 * The part of a run's console output that `query` asks for (`stream`, `offset`, `tail`; see the module
 * comment), from the run directory `dir` (already confined; the file is confined too). `label` names the
 * run in errors. Staged runs' consoles (routes/pending.ts) are read by the same function.
 */
export async function readLog(
  ctx: ServerContext,
  dir: string,
  label: string,
  query: URLSearchParams,
): Promise<LogsResponse> {
  const stream = query.get('stream') ?? 'stdout';
  if (stream !== 'stdout' && stream !== 'stderr')
    throw new HttpError(400, 'BadRequest', `stream must be stdout or stderr, got ${JSON.stringify(stream)}`);
  const file = path.join(dir, STREAMS[stream]);
  const empty = (offset: number): LogsResponse => ({
    stream,
    exists: false,
    size: 0,
    offset,
    next_offset: offset,
    text: '',
  });
  const st = await fsp.stat(file).catch(() => undefined);
  const asked = query.get('offset');
  const offset = asked === null ? undefined : intParam(query, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  if (!st) return empty(offset ?? 0);
  const real = await ctx.confine(file, 'log', `${label}/${STREAMS[stream]}`);
  const tail = intParam(query, 'tail', DEFAULT_TAIL, 1, MAX_BYTES);
  const handle = await fsp.open(real, 'r');
  try {
    const size = (await handle.stat()).size;
    // A file that shrank (rewritten) is read from its start again.
    let from = offset === undefined ? Math.max(0, size - tail) : offset > size ? 0 : offset;
    const want = Math.min(MAX_BYTES, size - from);
    const buf = Buffer.alloc(want);
    const { bytesRead } = await handle.read(buf, 0, want, from);
    let bytes = buf.subarray(0, bytesRead);
    if (offset === undefined && from > 0) {
      // A tail starts after the first newline, not in the middle of a line (or a UTF-8 character).
      const nl = bytes.indexOf(10);
      if (nl >= 0) {
        bytes = bytes.subarray(nl + 1);
        from += nl + 1;
      }
    }
    if (from + bytes.length < size) {
      // Not at the end: stop after the last complete line, so no character is split.
      const nl = bytes.lastIndexOf(10);
      if (nl >= 0) bytes = bytes.subarray(0, nl + 1);
    }
    return {
      stream,
      exists: true,
      size,
      offset: from,
      next_offset: from + bytes.length,
      text: bytes.toString('utf8'),
    };
  } finally {
    await handle.close();
  }
}
