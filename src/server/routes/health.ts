/** `GET /api/health`: the vault's name, the package version, and whether a token is required. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { HealthResponse } from '../api-types.js';
import type { ServerContext } from '../context.js';
import { sendJson } from '../http.js';
import type { Router } from '../router.js';

function packageVersion(): string {
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, rel), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'specimen-vault' && pkg.version) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return '0.0.0';
}

export function registerHealthRoutes(router: Router, ctx: ServerContext, tokenRequired: boolean): void {
  const version = packageVersion();
  router.get('/api/health', ({ res }) => {
    const body: HealthResponse = {
      ok: true,
      name: ctx.vault.config.name ?? path.basename(ctx.root),
      version,
      tokenRequired,
    };
    sendJson(res, 200, body);
  });
}
