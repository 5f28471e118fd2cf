// The adversarial SQL table (sql-cases.ts): every attempt to write, to reach files or settings, to learn
// paths or to exhaust a resource, run through the sandbox with tight limits, has exactly its expected outcome
// and never shows a secret from outside the vault.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserQueryPool } from '../../src/catalog/sandbox/pool.js';
import { isVaultError } from '../../src/errors.js';
import { DEMO, demoVault, SECRET, type TestVault } from './harness.js';
import { SQL_CASES } from './sql-cases.js';

let v: TestVault;
let pool: UserQueryPool;
let vars: Record<string, string>;

beforeAll(async () => {
  v = await demoVault('sv-sql-');
  const spec = path.join(v.root, 'specimens', DEMO);
  fs.symlinkSync(path.join(v.outside, 'secret.csv'), path.join(v.root, 'link.csv'));
  fs.symlinkSync(v.outside, path.join(v.root, 'linkdir'));
  fs.linkSync(path.join(v.outside, 'secret.csv'), path.join(spec, 'hard.csv'));
  vars = { $ROOT: v.root, $OUT: v.outside, $SPEC: spec, $RUN: path.join(spec, 'runs', v.runId) };
  pool = new UserQueryPool(v.root, {
    timeoutMs: 4000,
    memoryLimit: '256MiB',
    maxTempDirectorySize: '64MiB',
    maxResultBytes: 32 << 20,
    maxConcurrent: 2,
  });
});

afterAll(async () => {
  await pool?.close();
  v?.cleanup();
});

function fill(sql: string): string {
  return sql.replace(/\$(ROOT|OUT|SPEC|RUN)/g, (m) => vars[m]!);
}

describe('SQL escape and resource attempts', () => {
  it('has at least 100 distinct attempts', () => {
    expect(new Set(SQL_CASES.map(([, , sql]) => sql)).size).toBeGreaterThanOrEqual(100);
  });

  it.each(SQL_CASES)('%s: %s', async (_category, _name, sql, expected) => {
    // Attempts meant to run forever get a short limit; the others the pool's, so a loaded machine does not
    // turn a legitimate query into a timeout.
    const short = !('ok' in expected) && expected.tag.includes('Timeout');
    const outcome = await pool.run(fill(sql), short ? { timeoutMs: 500 } : {}).then(
      (r) => ({ ok: true as const, rows: r.rows }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    if ('ok' in expected) {
      expect(outcome.ok, outcome.ok ? '' : String((outcome as { err: Error }).err?.message)).toBe(true);
      if (outcome.ok) {
        expected.check?.(outcome.rows);
        expect(JSON.stringify(outcome.rows)).not.toContain(SECRET);
      }
      return;
    }
    expect(outcome.ok, `expected ${expected.tag}`).toBe(false);
    const err = (outcome as { err: unknown }).err;
    expect(isVaultError(err), String(err)).toBe(true);
    const tagged = err as Error & { _tag: string };
    expect(tagged._tag, tagged.message).toMatch(new RegExp(`^(${expected.tag})$`));
    if (expected.match) expect(tagged.message).toMatch(expected.match);
    expect(tagged.message).not.toContain(SECRET);
    expect(tagged.message).not.toMatch(/root:x:0:0/);
  });

  it('wrote nothing outside the vault', () => {
    expect(fs.readdirSync(v.outside).sort()).toEqual(['secret.csv', 'secret.txt']);
  });
});
