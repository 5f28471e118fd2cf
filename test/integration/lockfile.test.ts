// `npm ci` refuses a lock file that lacks any optional dependency; this keeps the README's first command true.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../support/helpers.js';

it('lists every optional platform package so `npm ci` accepts it (run scripts/complete-lockfile.mjs)', () => {
  const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { optionalDependencies?: Record<string, string> }>;
  };
  const missing: string[] = [];
  for (const entry of Object.values(lock.packages))
    for (const name of Object.keys(entry.optionalDependencies ?? {}))
      if (!lock.packages[`node_modules/${name}`]) missing.push(name);
  expect(missing).toEqual([]);
});
