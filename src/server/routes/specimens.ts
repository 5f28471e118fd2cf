/**
 * A specimen and its runs: `GET /api/specimens/:id` (manifest, status, field notes raw and as Markdown,
 * protocol, runs),
 * `GET /api/specimens/:id/runs/:run` (one run: config, summary, metric columns, tensors) and
 * `GET /api/specimens/:id/runs/:run/metrics` (its metrics table, a page of rows at a time) and
 * `GET /api/specimens/:id/turns` (the turns the catalog recorded for its runs).
 */

import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fieldNotesToMarkdown } from '../../format/field-notes.js';
import { FIELD_NOTES_FILE } from '../../format/layout.js';
import { effectiveSpecimenStatus } from '../../format/manifest.js';
import { PROTOCOL_FILES } from '../../format/protocols.js';
import { describeTensor } from '../../storage/describe.js';
import { readSupersessions } from '../../storage/supersede.js';
import type {
  Json,
  MetricsPage,
  RunResponse,
  SpecimenResponse,
  TensorInfo,
  TurnEntry,
  TurnsResponse,
} from '../api-types.js';
import type { ServerContext } from '../context.js';
import { intParam, sendJson } from '../http.js';
import type { Router } from '../router.js';
import { jsonSafe, runConfig, runSummary, runSummaryFigures } from './runs-common.js';

/** Largest protocol or field notes sent (bytes); longer field notes are sent cut short and not editable. */
export const MAX_TEXT_BYTES = 200_000;

/** Reads a small text file of a specimen, confined to the vault; null when absent. */
async function readText(ctx: ServerContext, file: string, label: string): Promise<string | null> {
  const exists = await fsp.stat(file).catch(() => undefined);
  if (!exists) return null;
  const real = await ctx.confine(file, 'file', label);
  const handle = await fsp.open(real, 'r');
  try {
    const buf = Buffer.alloc(Math.min(MAX_TEXT_BYTES, (await handle.stat()).size));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** The field notes as sent: text (cut at MAX_TEXT_BYTES), sha256 of the whole file, whether it was cut. */
export async function readFieldNotesForClient(
  ctx: ServerContext,
  specimenDir: string,
  specimenId: string,
): Promise<{ text: string | null; sha256: string | null; truncated: boolean }> {
  const file = path.join(specimenDir, FIELD_NOTES_FILE);
  const exists = await fsp.lstat(file).catch(() => undefined);
  if (!exists) return { text: null, sha256: null, truncated: false };
  const real = await ctx.confine(file, 'file', `${specimenId}/${FIELD_NOTES_FILE}`);
  const handle = await fsp.open(real, 'r');
  try {
    const size = (await handle.stat()).size;
    // Notes beyond the edit limit are only shown: reading (and hashing) all of a huge file buys nothing.
    const buf = Buffer.alloc(Math.min(size, MAX_TEXT_BYTES + 1));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const truncated = bytesRead > MAX_TEXT_BYTES;
    const bytes = buf.subarray(0, Math.min(bytesRead, MAX_TEXT_BYTES));
    return {
      text: bytes.toString('utf8'),
      sha256: truncated ? null : createHash('sha256').update(bytes).digest('hex'),
      truncated,
    };
  } finally {
    await handle.close();
  }
}

export function registerSpecimenRoutes(router: Router, ctx: ServerContext): void {
  router.get('/api/specimens/:id/turns', async ({ params, res }) => {
    const storage = await ctx.specimen(params.id!);
    const q = await ctx.catalog();
    const body: TurnsResponse = {
      specimen_id: storage.specimenId,
      turns: (await q.turnsOf(storage.specimenId)) as unknown as TurnEntry[],
    };
    sendJson(res, 200, body);
  });

  router.get('/api/specimens/:id', async ({ params, res }) => {
    const storage = await ctx.specimen(params.id!);
    const [runs, supersessions] = await Promise.all([storage.listRunInfo(), readSupersessions(storage.path)]);
    let protocolFile: string | null = null;
    let protocol: string | null = null;
    for (const f of PROTOCOL_FILES) {
      protocol = await readText(ctx, path.join(storage.path, f), `${params.id}/${f}`);
      if (protocol !== null) {
        protocolFile = f;
        break;
      }
    }
    const notes = await readFieldNotesForClient(ctx, storage.path, storage.specimenId);
    const body: SpecimenResponse = {
      specimen_id: storage.specimenId,
      manifest: jsonSafe(storage.manifest) as Record<string, Json>,
      status: effectiveSpecimenStatus(storage.manifest.status, runs.length),
      field_notes: notes.text,
      field_notes_markdown: notes.text === null ? null : fieldNotesToMarkdown(notes.text),
      field_notes_sha256: notes.sha256,
      field_notes_truncated: notes.truncated,
      protocol_file: protocolFile,
      protocol,
      runs: runs.map((r) => runSummary(r, supersessions)),
    };
    sendJson(res, 200, body);
  });

  router.get('/api/specimens/:id/runs/:run', async ({ params, res }) => {
    const { storage, run } = await ctx.run(params.id!, params.run!);
    const supersessions = await readSupersessions(storage.path);
    const metrics = await ctx.runMetrics(run);
    const tensors: TensorInfo[] = [];
    for (const name of await ctx.tensorNames(run)) {
      try {
        tensors.push(describeTensor(run, name, await ctx.tensor(run, name)));
      } catch {
        // A tensor still being written (or unreadable) is left out of the list.
      }
    }
    const body: RunResponse = {
      run: {
        ...runSummary(run, supersessions),
        config: runConfig(run),
        summary: runSummaryFigures(run),
        manifest: jsonSafe(run.manifest ?? null),
      },
      metrics: metrics ? { rows: metrics.rows, has_step: metrics.hasStep, columns: metrics.columns } : null,
      tensors,
    };
    sendJson(res, 200, body);
  });

  router.get('/api/specimens/:id/runs/:run/metrics', async ({ params, query, res }) => {
    const { run } = await ctx.run(params.id!, params.run!);
    const metrics = await ctx.runMetrics(run);
    const offset = intParam(query, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(query, 'limit', 200, 1, 5000);
    if (!metrics) {
      const empty: MetricsPage = { columns: [], rows: [], offset, total: 0 };
      sendJson(res, 200, empty);
      return;
    }
    const end = Math.min(metrics.rows, offset + limit);
    const rows: Json[][] = [];
    for (let i = offset; i < end; i++) {
      const row = metrics.order ? metrics.order[i]! : i;
      rows.push(metrics.columns.map((c) => jsonSafe(metrics.value(c.name, row))));
    }
    const body: MetricsPage = { columns: metrics.columns, rows, offset, total: metrics.rows };
    sendJson(res, 200, body);
  });
}
