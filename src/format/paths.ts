/**
 * Path confinement: every path built from an ID, a tensor name or a request parameter goes through
 * `within()`, which resolves it and refuses anything that lands outside the given root.
 */
import path from 'node:path';
import { PathEscapeError } from '../errors.js';

/** Joins `parts` under `root` and throws PathEscapeError if the result is not inside `root`. */
export function within(root: string, ...parts: string[]): string {
  const absRoot = path.resolve(root);
  for (const p of parts) {
    if (p.includes('\0')) throw new PathEscapeError(p, absRoot);
  }
  const full = path.resolve(absRoot, ...parts);
  if (full !== absRoot && !full.startsWith(absRoot + path.sep))
    throw new PathEscapeError(parts.join('/'), absRoot);
  return full;
}

/** `full` relative to `root`, with forward slashes (the form stored in manifests and the catalog). */
export function relativePosix(root: string, full: string): string {
  return path.relative(root, full).split(path.sep).join('/');
}
