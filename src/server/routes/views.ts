/**
 * Saved views (report-builder pages, `views/<name>.json`): `GET /api/views` lists them, `GET
 * /api/views/:name` reads one, `PUT /api/views/:name` saves one (the body is the view; validated with the
 * view schema, written atomically) and `DELETE /api/views/:name` removes one. Saving and deleting change the
 * vault, so they pass the same admission as every state-changing request (Host, same origin, token) and
 * take only `application/json` bodies, which a cross-site form cannot send.
 */

import { deleteView, listViews, readView, saveView } from '../../storage/views.js';
import type { SavedViewJson, ViewListResponse, ViewResponse } from '../api-types.js';
import type { ServerContext } from '../context.js';
import { readJsonBody, sendJson } from '../http.js';
import type { Router } from '../router.js';

export function registerViewRoutes(router: Router, ctx: ServerContext): void {
  router.get('/api/views', async ({ res }) => {
    const body: ViewListResponse = {
      views: (await listViews(ctx.root)).map((v) => ({
        ...v,
        ...(v.error ? { error: ctx.secretPaths.reduce((s, p) => s.split(p).join('<vault>'), v.error) } : {}),
      })),
    };
    sendJson(res, 200, body);
  });

  router.get('/api/views/:name', async ({ params, res }) => {
    const name = params.name!;
    const body: ViewResponse = { name, view: (await readView(ctx.root, name)) as SavedViewJson };
    sendJson(res, 200, body);
  });

  router.put('/api/views/:name', async ({ params, raw, res }) => {
    const name = params.name!;
    const view = await saveView(ctx.root, name, await readJsonBody(raw));
    const body: ViewResponse = { name, view: view as SavedViewJson };
    sendJson(res, 200, body);
  });

  router.delete('/api/views/:name', async ({ params, res }) => {
    await deleteView(ctx.root, params.name!);
    sendJson(res, 200, { deleted: params.name! });
  });
}
