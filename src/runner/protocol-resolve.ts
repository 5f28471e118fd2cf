/**
 * Module resolve hook (see protocol-hooks.ts): maps the bare specifier `specimen-vault` to this package's
 * entry point, and runs TypeScript protocols as ES modules (so `import` and top-level `await` work) even in
 * a vault without a package.json saying `"type": "module"`. Everything else resolves as usual.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const jsEntry = new URL('../index.js', import.meta.url);
const entry = fs.existsSync(fileURLToPath(jsEntry))
  ? jsEntry.href
  : new URL('../index.ts', import.meta.url).href;

type Resolved = { url: string; format?: string | null; shortCircuit?: boolean };
type Next = (specifier: string, context: unknown) => Promise<Resolved>;

export async function resolve(specifier: string, context: unknown, next: Next): Promise<Resolved> {
  if (specifier === 'specimen-vault') return { url: entry, format: 'module', shortCircuit: true };
  const r = await next(specifier, context);
  if (r.url.startsWith('file:') && /\.m?ts$/.test(r.url) && !r.url.includes('/node_modules/'))
    return { ...r, format: 'module' };
  return r;
}
