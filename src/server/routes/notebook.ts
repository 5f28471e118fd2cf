/**
 * Editing a specimen's lab notebook from the web UI — the only routes besides re-indexing that change the
 * vault:
 *
 * - `PATCH /api/specimens/:id` `{hypothesis?, expected_results?, conclusion?, description?, status?, tags?}`
 * - `PUT /api/specimens/:id/notes` `{text, base_sha256?}` replaces field_notes.md
 * - `POST /api/specimens/:id/notes` `{entry}` appends a dated entry (as `specimen note`)
 *
 * They write only the specimen's manifest and field notes, atomically (temp file + rename: a sealed run's
 * files are never opened for writing), after validating every value (UsageError → 400 naming the field).
 * Admission (Host, same origin, token) is checked before any route runs (security.ts), and the JSON content
 * type that readJsonBody demands cannot be sent cross-origin without a preflight this server never grants.
 * After a manifest edit the catalog is updated incrementally, so catalog queries see it at once (the field
 * notes are not in the catalog).
 *
 * @example
 * fetch('/api/specimens/2025_01_02_probe', { method: 'PATCH', headers: { 'Content-Type': 'application/json' },
 *   body: JSON.stringify({ hypothesis: 'layer 6 encodes syntax', tags: ['gpt2'] }) })
 */
import path from 'node:path';
import { FIELD_NOTES_FILE, MANIFEST_FILE } from '../../format/layout.js';
import { effectiveSpecimenStatus } from '../../format/manifest.js';
import {
  appendFieldNote,
  countRuns,
  parseNotebookPatch,
  updateNotebook,
  withNotebookLock,
  writeFieldNotes,
} from '../../storage/notebook.js';
import type { Json, SpecimenEditResponse } from '../api-types.js';
import type { ServerContext } from '../context.js';
import { HttpError, readJsonBody, sendJson } from '../http.js';
import type { Router } from '../router.js';
import { jsonSafe } from './runs-common.js';
import { MAX_TEXT_BYTES, readFieldNotesForClient } from './specimens.js';

/** Opens the specimen and checks that the files an edit replaces stay inside the vault. */
async function editable(ctx: ServerContext, id: string) {
  const storage = await ctx.specimen(id);
  await ctx.confine(path.join(storage.path, MANIFEST_FILE), 'manifest', `${id}/${MANIFEST_FILE}`);
  return storage;
}

/** Answers an edit; `reindex` when the catalog holds what changed (the manifest; not the field notes). */
async function answer(
  ctx: ServerContext,
  id: string,
  res: Parameters<typeof sendJson>[0],
  reindex: boolean,
): Promise<void> {
  let indexed = true;
  if (reindex) {
    try {
      await ctx.reindex();
    } catch {
      // The edit is on disk; the next index (`specimen index`, or the catalog page's re-index) picks it up.
      indexed = false;
    }
  }
  const storage = await ctx.specimen(id);
  const notes = await readFieldNotesForClient(ctx, storage.path, id);
  const body: SpecimenEditResponse = {
    specimen_id: id,
    manifest: jsonSafe(storage.manifest) as Record<string, Json>,
    status: effectiveSpecimenStatus(storage.manifest.status, countRuns(storage.path)),
    field_notes_sha256: notes.sha256,
    indexed,
  };
  sendJson(res, 200, body);
}

export function registerNotebookRoutes(router: Router, ctx: ServerContext): void {
  router.patch('/api/specimens/:id', async ({ params, raw, res }) => {
    const id = params.id!;
    const body = await readJsonBody(raw);
    const patch = parseNotebookPatch(body);
    if (Object.keys(patch).length === 0)
      throw new HttpError(400, 'BadRequest', 'nothing to change: send at least one field');
    await editable(ctx, id);
    await updateNotebook(ctx.vault, id, patch);
    await answer(ctx, id, res, true);
  });

  router.put('/api/specimens/:id/notes', async ({ params, raw, res }) => {
    const id = params.id!;
    const body = await readJsonBody(raw);
    for (const k of Object.keys(body))
      if (k !== 'text' && k !== 'base_sha256')
        throw new HttpError(
          400,
          'BadRequest',
          `unknown field ${JSON.stringify(k)}; send text and base_sha256`,
        );
    const text = body.text;
    if (typeof text !== 'string') throw new HttpError(400, 'BadRequest', 'text must be a string');
    if (Buffer.byteLength(text) > MAX_TEXT_BYTES)
      throw new HttpError(
        400,
        'BadRequest',
        `field notes of more than ${MAX_TEXT_BYTES} bytes cannot be edited here; edit ${FIELD_NOTES_FILE} in a text editor`,
      );
    const base = body.base_sha256;
    if (base !== undefined && base !== null && (typeof base !== 'string' || !/^[0-9a-f]{64}$/.test(base)))
      throw new HttpError(400, 'BadRequest', 'base_sha256 must be 64 hex digits or null');
    const storage = await editable(ctx, id);
    // Checked and written under the notebook lock, so a `specimen note` cannot slip in between.
    await withNotebookLock(storage.path, async () => {
      const current = await readFieldNotesForClient(ctx, storage.path, id);
      if (current.truncated)
        throw new HttpError(
          409,
          'Conflict',
          `${FIELD_NOTES_FILE} is larger than ${MAX_TEXT_BYTES} bytes; edit it in a text editor`,
        );
      // An edit made from an older version would silently drop what was added since (a `specimen note`,
      // another tab): refused, and the page reloads the notes.
      if (base !== undefined && base !== current.sha256)
        throw new HttpError(
          409,
          'Conflict',
          'the field notes changed since they were loaded; reload them and edit again',
        );
      await writeFieldNotes(ctx.vault, id, text);
    });
    await answer(ctx, id, res, false);
  });

  router.post('/api/specimens/:id/notes', async ({ params, raw, res }) => {
    const id = params.id!;
    const body = await readJsonBody(raw);
    if (typeof body.entry !== 'string') throw new HttpError(400, 'BadRequest', 'entry must be a string');
    const storage = await editable(ctx, id);
    // Confines an existing notes file (a symlink out of the vault is refused) before it is read.
    await readFieldNotesForClient(ctx, storage.path, id);
    await appendFieldNote(ctx.vault, id, body.entry);
    await answer(ctx, id, res, false);
  });
}
