// DuckDB failures never abort the process: a vault with symbolic links to directories and files outside it
// is indexed and queried every way (library, sandboxed user SQL, CLI, server) in child processes, so that an
// uncaught native exception (std::terminate → SIGABRT) fails this test instead of ending the test runner.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, tempDir } from '../support/helpers.js';

const CHILD = path.join(import.meta.dirname, 'children', 'symlinked-vault.ts');
const dir = tempDir('sv-abort-');

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  what: string;
  ok: boolean;
  tag?: string;
  message?: string;
}

describe('no native abort', () => {
  it('turns every DuckDB failure over links out of the vault into a tagged error', async () => {
    const { code, signal, stdout, stderr } = await new Promise<{
      code: number | null;
      signal: NodeJS.Signals | null;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', CHILD, dir],
        { cwd: REPO_ROOT, timeout: 90_000, maxBuffer: 16 << 20 },
        (_err, out, err) =>
          resolve({ code: child.exitCode, signal: child.signalCode, stdout: out, stderr: err }),
      );
    });
    expect(signal, stderr).toBeNull();
    expect(stderr).not.toMatch(/terminate called/);
    expect(code, stderr).toBe(0);
    const outcomes = JSON.parse(stdout.trim().split('\n').at(-1)!) as Outcome[];
    expect(outcomes.length).toBeGreaterThanOrEqual(15);
    for (const o of outcomes) {
      if (!o.ok) expect(o.tag, `${o.what}: ${o.message}`).toMatch(/^(SqlError|QueryNotAllowedError)$/);
      expect(o.message ?? '').not.toMatch(/TOP-SECRET/);
    }
    const byWhat = new Map(outcomes.map((o) => [o.what, o]));
    expect(byWhat.get('index')?.ok).toBe(true);
    expect(byWhat.get('index full')?.ok).toBe(true);
    // A user query may not read through a link that leaves the vault, wherever DuckDB meets it.
    for (const o of outcomes.filter(
      (x) => x.what.startsWith('user') && /metrics|exp_|linkdir|\*\*/.test(x.what),
    ))
      expect(o.ok, o.what).toBe(false);

    // The CLI over the same vault: a clear error, never a signal.
    const root = path.join(dir, 'vault');
    for (const sql of [
      'SELECT count(*) FROM metrics',
      `SELECT * FROM read_text('${root}/linkdir/secret.txt')`,
    ]) {
      const r = await runCli(['query', sql, '--vault', root], { timeoutMs: 60_000 });
      expect([0, 2], r.stderr).toContain(r.code);
      expect(r.stderr).not.toMatch(/terminate called|internal error|unexpected failure/);
    }
  });
});
