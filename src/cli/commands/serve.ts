/**
 * `specimen serve [--port N] [--host H] [--open] [--token T] [--no-watch]`: serves the web app and its JSON
 * API over the vault, keeping the catalog current as specimens and runs appear, until interrupted (Ctrl+C or SIGTERM closes it cleanly and exits 0). Binds 127.0.0.1 unless --host
 * says otherwise; beyond loopback an access token is required (given with --token or generated) and
 * printed with the URL.
 */
import { spawn } from 'node:child_process';
import { findVaultRoot } from '../../format/vault-config.js';
import { DEFAULT_PORT, startServer } from '../../server/index.js';
import { UsageError } from '../exit.js';
import { keepRunningWhenOutputCloses, painter } from '../output.js';

/** Opens `url` in the desktop's browser, if there is one; failures are ignored. */
function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', url] : [url];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // No browser launcher: the URL is printed anyway.
  }
}

export default async function serve(opts: {
  port?: string;
  host?: string;
  open?: boolean;
  token?: string;
  vault?: string;
  queryTimeout?: string;
  /** False with --no-watch: the catalog is updated only by Re-index. */
  watch?: boolean;
  /** Called once the server listens (the demo starts its live runs then). */
  onListening?: (url: string) => void;
  /** Called when the server is stopping. */
  onStop?: () => void;
}): Promise<number> {
  // The server keeps serving when the reader of its log goes away.
  keepRunningWhenOutputCloses();
  const queryTimeout = opts.queryTimeout === undefined ? undefined : Number(opts.queryTimeout);
  if (
    queryTimeout !== undefined &&
    !(Number.isInteger(queryTimeout) && queryTimeout >= 1 && queryTimeout <= 3_600_000)
  )
    throw new UsageError(
      `serve: --query-timeout must be an integer number of milliseconds between 1 and 3600000, got ${JSON.stringify(opts.queryTimeout)}`,
    );
  const port = opts.port === undefined ? DEFAULT_PORT : Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(
      `serve: --port must be an integer between 0 and 65535, got ${JSON.stringify(opts.port)}`,
    );
  const root = findVaultRoot(opts.vault === undefined ? {} : { explicit: opts.vault });
  const paint = painter(process.stderr);
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({
      vaultRoot: root,
      port,
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      ...(opts.token !== undefined ? { token: opts.token } : {}),
      ...(queryTimeout !== undefined ? { queryLimits: { timeoutMs: queryTimeout } } : {}),
      watch: opts.watch !== false,
      onWarning: (m) => process.stderr.write(`${paint('yellow', 'warning:')} ${m}\n`),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new UsageError(`serve: port ${port} is in use; choose another with --port`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
      throw new UsageError(`serve: cannot bind ${opts.host}: no such address on this machine`);
    throw err;
  }
  const openUrl = server.token ? `${server.url}?token=${encodeURIComponent(server.token)}` : server.url;
  console.log(`Specimen Vault is serving ${root}`);
  console.log(`  open ${openUrl}`);
  if (server.token) {
    console.log(`  access token: ${server.token}`);
    console.log(
      '  (required on every request: the link above sets it as a cookie; API clients send Authorization: Bearer <token>)',
    );
  }
  console.log('Press Ctrl+C to stop.');
  if (opts.open) openBrowser(openUrl);
  opts.onListening?.(server.url);
  await new Promise<void>((resolve) => {
    const stop = () => {
      opts.onStop?.();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}
