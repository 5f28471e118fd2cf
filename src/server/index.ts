/**
 * `startServer`: the local web app and its JSON API (docs/api.md) over one vault.
 *
 * Binds 127.0.0.1 unless told otherwise. Binding beyond loopback requires an access token, generated when
 * none is given; requests are admitted only with the right Host header and, for the API, from this origin
 * (see security.ts). The catalog is updated (incrementally) before the server starts answering unless
 * `index: false`, and kept current while it runs (a new specimen or run is indexed within a second) unless
 * `watch: false`.
 *
 * @example
 * const server = await startServer({ vaultRoot: './demo-vault', port: 0 })
 * console.log(server.url)   // http://localhost:41234/
 * await server.close()
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { limitsFromConfig, type QueryLimits } from '../catalog/sandbox/limits.js';
import { UserQueryPool } from '../catalog/sandbox/pool.js';
import { UsageError } from '../errors.js';
import { createHandler } from './app.js';
import { CatalogWatcher } from './catalog-watch.js';
import { ServerContext } from './context.js';
import { createPolicy, hostForUrl, isLoopback, type SecurityPolicy } from './security.js';
import { defaultWebDir } from './static.js';

export type * from './api-types.js';
export { ServerContext } from './context.js';
export { createPolicy, isLoopback } from './security.js';

/** Port used when none is given. */
export const DEFAULT_PORT = 7373;

export interface ServerOptions {
  vaultRoot: string;
  /** Default DEFAULT_PORT; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. Anything beyond loopback requires a token. */
  host?: string;
  /** Access token; generated when binding beyond loopback without one. */
  token?: string;
  /** Directory of the built web app (default: dist/web). */
  webDir?: string;
  /** Update the catalog before serving (default true). */
  index?: boolean;
  /**
   * Keep the catalog current while serving (catalog-watch.ts): true (default) checks every 500 ms, a
   * number is the interval in ms, false only updates it on `POST /api/index`.
   */
  watch?: boolean | number;
  /** Called with warnings (catalog problems) instead of printing them. */
  onWarning?: (message: string) => void;
  /**
   * Limits of user SQL (`POST /api/query`): these, over the vault config's `query` object, over
   * DEFAULT_QUERY_LIMITS.
   */
  queryLimits?: Partial<QueryLimits>;
}

export interface RunningServer {
  /** Address to open, without the token (`http://localhost:<port>/`). */
  url: string;
  /** The access token, when one is required. */
  token?: string;
  host: string;
  port: number;
  /** Stops accepting connections, ends open ones and closes the catalog. */
  close(): Promise<void>;
}

/** A fresh random access token (32 bytes, base64url). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

function displayHost(host: string): string {
  if (isLoopback(host)) return host === '127.0.0.1' || host === 'localhost' ? 'localhost' : hostForUrl(host);
  if (host === '0.0.0.0' || host === '::' || host === '[::]') {
    for (const list of Object.values(os.networkInterfaces())) {
      for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
    }
    return 'localhost';
  }
  return hostForUrl(host);
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`serve: invalid port ${port}`);
  if (options.token !== undefined && !/^[A-Za-z0-9._~+/=-]{16,256}$/.test(options.token))
    throw new UsageError('serve: a token must be 16 to 256 characters of letters, digits and ._~+/=-');
  const token = options.token ?? (isLoopback(host) ? undefined : generateToken());
  const ctx = await ServerContext.open(options.vaultRoot);
  let pool: UserQueryPool;
  try {
    pool = new UserQueryPool(ctx.root, { ...limitsFromConfig(ctx.vault.config.raw), ...options.queryLimits });
  } catch (err) {
    await ctx.close();
    throw err;
  }
  if (options.index !== false) {
    try {
      const report = await ctx.reindex();
      for (const w of report.warnings) options.onWarning?.(w);
    } catch (err) {
      options.onWarning?.(`catalog not updated: ${(err as Error).message}`);
    }
  }
  let policy: SecurityPolicy = createPolicy({ host, port, token });
  const server = http.createServer(createHandler(ctx, () => policy, options.webDir ?? defaultWebDir(), pool));
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (err: unknown) => {
    await pool.close();
    await ctx.close();
    throw err;
  });
  const actualPort = (server.address() as AddressInfo).port;
  policy = createPolicy({ host, port: actualPort, token });
  const watcher =
    options.watch === false
      ? undefined
      : new CatalogWatcher(ctx, {
          ...(typeof options.watch === 'number' ? { intervalMs: options.watch } : {}),
          ...(options.onWarning ? { onWarning: options.onWarning } : {}),
        });
  watcher?.start();
  let closing: Promise<void> | undefined;
  const running: RunningServer = {
    url: `http://${displayHost(host)}:${actualPort}/`,
    host,
    port: actualPort,
    close: () => {
      watcher?.stop();
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })
        .then(() => pool.close())
        .then(() => ctx.close());
      return closing;
    },
  };
  if (token !== undefined) running.token = token;
  return running;
}
