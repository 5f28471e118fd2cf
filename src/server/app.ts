/**
 * The request handler: admission (Host, origin, token — see security.ts), then either an API route or a
 * file of the web app, with every failure going through the single error handler (errors.ts). Only GET
 * and HEAD reach static files; the API's state-changing routes (`POST /api/index`, `PUT`/`DELETE
 * /api/views/:name`, and the notebook edits `PATCH /api/specimens/:id`, `PUT`/`POST
 * /api/specimens/:id/notes`) and the query route take other methods, admitted only from the same origin.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UserQueryPool } from '../catalog/sandbox/pool.js';
import type { ServerContext } from './context.js';
import { sendError } from './errors.js';
import { HttpError, sendJson, sendRedirect } from './http.js';
import { Router, splitPath } from './router.js';
import { registerCatalogRoutes } from './routes/catalog.js';
import { registerCodeRoutes } from './routes/code.js';
import { registerCompareRoutes } from './routes/compare.js';
import { registerExplorerRoutes } from './routes/explorer.js';
import { registerGroupRoutes } from './routes/groups.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerLogRoutes } from './routes/logs.js';
import { registerNotebookRoutes } from './routes/notebook.js';
import { registerPendingRoutes } from './routes/pending.js';
import { registerQueryRoutes } from './routes/query.js';
import { registerSpecimenRoutes } from './routes/specimens.js';
import { registerTensorRoutes } from './routes/tensors.js';
import { registerViewRoutes } from './routes/views.js';
import { admitOrigin, admitToken, type SecurityPolicy } from './security.js';
import { serveStatic } from './static.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Builds the router with every API route. */
export function buildRouter(ctx: ServerContext, tokenRequired: boolean, pool: UserQueryPool): Router {
  const router = new Router();
  registerHealthRoutes(router, ctx, tokenRequired);
  registerCatalogRoutes(router, ctx);
  registerSpecimenRoutes(router, ctx);
  registerNotebookRoutes(router, ctx);
  registerLogRoutes(router, ctx);
  registerCodeRoutes(router, ctx);
  registerPendingRoutes(router, ctx);
  registerCompareRoutes(router, ctx);
  registerExplorerRoutes(router, ctx);
  registerGroupRoutes(router, ctx);
  registerTensorRoutes(router, ctx);
  registerViewRoutes(router, ctx);
  registerQueryRoutes(router, ctx, pool);
  return router;
}

/** The request handler. `policy` is read on every request (its port is known only once listening). */
export function createHandler(
  ctx: ServerContext,
  getPolicy: () => SecurityPolicy,
  webDir: string,
  pool: UserQueryPool,
): RequestHandler {
  const router = buildRouter(ctx, getPolicy().token !== undefined, pool);
  return (req, res) => {
    handle(req, res).catch((err: unknown) => sendError(res, err, ctx.secretPaths));
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const policy = getPolicy();
    const target = req.url ?? '/';
    const isApi = target === '/api' || target.startsWith('/api/') || target.startsWith('/api?');
    const origin = admitOrigin(policy, req, isApi);
    if (!origin.ok)
      return sendJson(res, origin.status, { error: { tag: origin.tag, message: origin.message } });
    const { segments, query } = splitPath(target);
    const { verdict, source } = admitToken(policy, req, query.get('token'));
    if (!verdict.ok)
      return sendJson(res, verdict.status, { error: { tag: verdict.tag, message: verdict.message } });
    const method = req.method ?? 'GET';
    if (source === 'query' && (method === 'GET' || method === 'HEAD')) {
      // First visit with ?token=: keep it in a cookie and drop it from the address bar and history.
      query.delete('token');
      const rest = query.toString();
      const location = `/${segments.map(encodeURIComponent).join('/')}${rest ? `?${rest}` : ''}`;
      return sendRedirect(res, location, {
        'Set-Cookie': `${policy.cookieName}=${encodeURIComponent(policy.token!)}; HttpOnly; SameSite=Strict; Path=/`,
      });
    }
    if (isApi) {
      const match = router.match(method, segments);
      if (!match) throw new HttpError(404, 'NotFound', `no API route ${method} /${segments.join('/')}`);
      await match.handler({ method, params: match.params, query, raw: req, res });
      return;
    }
    if (method !== 'GET' && method !== 'HEAD')
      throw new HttpError(405, 'MethodNotAllowed', `method ${method} is not allowed here; use GET`);
    await serveStatic(res, webDir, segments);
  }
}
