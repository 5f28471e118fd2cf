/**
 * The web app's files, from the production build (`dist/web`). Only files under that directory (after
 * resolving symlinks) with a known type are served; `/` is `index.html`. Hashed assets are cached for a
 * year, `index.html` never, so a rebuilt app is picked up on reload.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { within } from '../format/paths.js';
import { HttpError, sendBytes } from './http.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** The default build directory: `dist/web` beside the compiled server, or under the repository root. */
export function defaultWebDir(): string {
  const candidates = [
    path.resolve(import.meta.dirname, '..', 'web'),
    path.resolve(import.meta.dirname, '..', '..', 'dist', 'web'),
  ];
  return candidates.find((c) => fs.existsSync(path.join(c, 'index.html'))) ?? candidates[0]!;
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Specimen Vault</title>
<p>The web app has not been built. Run <code>npm run build</code> (or <code>npm run build:web</code>) and reload.</p>`;

/** Serves the file named by `segments` (already decoded and validated by the router). */
export async function serveStatic(
  res: ServerResponse,
  webDir: string,
  segments: readonly string[],
): Promise<void> {
  const rel = segments.length === 0 ? ['index.html'] : segments;
  const ext = path.extname(rel.at(-1)!).toLowerCase();
  const type = TYPES[ext];
  if (!type) throw new HttpError(404, 'NotFound', 'no such file');
  const file = within(webDir, ...rel);
  let real: string;
  let realDir: string;
  try {
    [real, realDir] = await Promise.all([fsp.realpath(file), fsp.realpath(webDir)]);
  } catch {
    if (rel.length === 1 && rel[0] === 'index.html') {
      sendBytes(res, 503, Buffer.from(NOT_BUILT), {
        'Content-Type': TYPES['.html']!,
        'Cache-Control': 'no-store',
      });
      return;
    }
    throw new HttpError(404, 'NotFound', 'no such file');
  }
  if (!real.startsWith(realDir + path.sep)) throw new HttpError(404, 'NotFound', 'no such file');
  const st = await fsp.stat(real);
  if (!st.isFile()) throw new HttpError(404, 'NotFound', 'no such file');
  const body = await fsp.readFile(real);
  const hashed = rel[0] === 'assets';
  sendBytes(res, 200, body, {
    'Content-Type': type,
    'Cache-Control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
}
