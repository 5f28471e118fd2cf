/**
 * Runs staged in a specimen's `pending/` (the Python package writes there where no CLI is reachable, e.g.
 * on a cluster node), shown before `specimen adopt` or `specimen index` seals them:
 *
 * - `GET /api/specimens/:id/pending` — each staged run: its stage name, name, start, config, writer (host,
 *   pid) and state (`running` while its writer may be alive, `finished` once it wrote finish.json,
 *   `writer gone` otherwise), and its metric columns so far.
 * - `GET /api/specimens/:id/pending/:stage/series?metric=…&width=…[&from=…&to=…]` — chart series of its
 *   `metrics.jsonl` (`source=system`: its `system.jsonl`), read incrementally by the same live readers as
 *   a running run's, downsampled like `/api/series`.
 * - `GET /api/specimens/:id/pending/:stage/logs?stream=…&offset=…` — its console, as the run logs route.
 *
 * The server only reads a stage: adopting it is `specimen adopt`/`specimen index`, which never seal one
 * whose writer may be alive. A stage name must look like the package's (`<start>-<pid>-<hex>`) and its
 * real path must lie directly in the specimen's real `pending/` folder.
 *
 * @example
 * GET /api/specimens/2026_01_02_probe/pending
 * → {"specimen_id": "2026_01_02_probe", "runs": [{"stage": "20260102_101500-4242-1a2b3c", "state": "running", …}]}
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError, PathEscapeError } from '../../errors.js';
import { PENDING_DIR } from '../../format/layout.js';
import { listPendingRuns, PENDING_STAGE_PATTERN, type PendingRun } from '../../runner/external-run.js';
import type { PendingListResponse, PendingRunSummary, SeriesEntry, SeriesResponse } from '../api-types.js';
import type { ServerContext } from '../context.js';
import { HttpError, intParam, numberParam, sendJson } from '../http.js';
import type { Router } from '../router.js';
import { MAX_WIDTH, seriesOf } from './compare.js';
import { readLog } from './logs.js';
import { jsonSafe } from './runs-common.js';

/** The state a staged run is shown in (see the module comment). */
function stateOf(p: PendingRun): PendingRunSummary['state'] {
  if (p.finished) return 'finished';
  return p.writerMayBeAlive ? 'running' : 'writer gone';
}

/** The specimen's real `pending/` folder (confined to the vault), or undefined when it has none. */
async function pendingRoot(ctx: ServerContext, specimenId: string): Promise<string | undefined> {
  const storage = await ctx.specimen(specimenId);
  const dir = path.join(storage.path, PENDING_DIR);
  if (!(await fsp.lstat(dir).catch(() => undefined))) return undefined;
  return ctx.confine(dir, `pending runs of ${specimenId}`, PENDING_DIR);
}

/** The real directory of stage `stage` of a specimen, validated and confined (see the module comment). */
async function stageDir(ctx: ServerContext, specimenId: string, stage: string): Promise<string> {
  if (!PENDING_STAGE_PATTERN.test(stage))
    throw new HttpError(
      400,
      'BadRequest',
      `a pending run is named <YYYYMMDD_HHMMSS>-<pid>-<6 hex digits>, got ${JSON.stringify(stage)}`,
    );
  const root = await pendingRoot(ctx, specimenId);
  if (!root) throw new NotFoundError(`pending run of ${specimenId}`, stage);
  const real = await ctx.confine(path.join(root, stage), `pending run of ${specimenId}`, stage);
  if (path.dirname(real) !== root)
    throw new PathEscapeError(`${PENDING_DIR}/${stage}`, `${specimenId}/${PENDING_DIR}`);
  return real;
}

export function registerPendingRoutes(router: Router, ctx: ServerContext): void {
  router.get('/api/specimens/:id/pending', async ({ params, res }) => {
    const specimenId = params.id!;
    const root = await pendingRoot(ctx, specimenId);
    const body: PendingListResponse = { specimen_id: specimenId, runs: [] };
    for (const p of root ? await listPendingRuns(path.dirname(root)) : []) {
      let real: string;
      try {
        real = await stageDir(ctx, specimenId, p.stage);
      } catch {
        continue; // a stage that is a symlink out of pending/: not shown
      }
      const m = await ctx.metrics.get(real, p.stage);
      const r = p.request;
      body.runs.push({
        stage: p.stage,
        name: r.name ?? null,
        started: r.started ?? null,
        config: jsonSafe(r.config ?? {}),
        tags: r.tags ?? [],
        host: r.owner?.host ?? null,
        pid: r.owner?.pid ?? null,
        state: stateOf(p),
        metrics: m
          ? {
              rows: m.rows,
              has_step: m.hasStep,
              columns: m.columns.map((c) => ({ name: c.name, type: c.type, numeric: c.numeric })),
            }
          : null,
      });
    }
    sendJson(res, 200, body);
  });

  router.get('/api/specimens/:id/pending/:stage/series', async ({ params, query, res }) => {
    const specimenId = params.id!;
    const stage = params.stage!;
    const dir = await stageDir(ctx, specimenId, stage);
    const metrics = [...new Set(query.getAll('metric'))];
    if (metrics.length === 0 || metrics.length > 50)
      throw new HttpError(400, 'BadRequest', 'name one to 50 metrics: metric=<column>');
    const width = intParam(query, 'width', 800, 16, MAX_WIDTH);
    const from = numberParam(query, 'from');
    const to = numberParam(query, 'to');
    const source = query.get('source') ?? 'metrics';
    if (source !== 'metrics' && source !== 'system')
      throw new HttpError(
        400,
        'BadRequest',
        `source must be metrics or system, got ${JSON.stringify(source)}`,
      );
    const m =
      source === 'system' ? await ctx.metrics.getSystem(dir, stage) : await ctx.metrics.get(dir, stage);
    const loaded = [{ ref: { specimenId, runId: stage }, run: { status: 'running' }, m }];
    const series: SeriesEntry[] = metrics.flatMap((metric) => seriesOf(loaded, metric, { from, to, width }));
    const body: SeriesResponse = { width, from: from ?? null, to: to ?? null, series };
    sendJson(res, 200, body);
  });

  router.get('/api/specimens/:id/pending/:stage/logs', async ({ params, query, res }) => {
    const dir = await stageDir(ctx, params.id!, params.stage!);
    sendJson(res, 200, await readLog(ctx, dir, params.stage!, query));
  });
}
