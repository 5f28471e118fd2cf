// Shared test helpers: temporary directories that clean up, fixture locations, the built CLI.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
/** Files written by other implementations (see test/fixtures/README.md); read-only inputs. */
export const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');
export const REFERENCE_VAULT = path.join(FIXTURES, 'reference-vault');
export const ZARR_PYTHON = path.join(FIXTURES, 'zarr-python');
export const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
/** Debian's Python, which has python3-zarr, python3-msgpack and python3-numpy. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'sv-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Copies a directory tree (fixtures are read-only; tests that write work on a copy). */
export function copyTree(src: string, dest: string): void {
  fs.cpSync(src, dest, { recursive: true });
  for (const p of walk(dest)) fs.chmodSync(p, fs.statSync(p).isDirectory() ? 0o755 : 0o644);
}

function* walk(dir: string): Generator<string> {
  yield dir;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI with `args`; never throws on a non-zero exit. */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd: options.cwd ?? REPO_ROOT,
        env: { ...process.env, NO_COLOR: '1', ...options.env },
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs Debian's python3 with a script; resolves stdout, rejects with stderr on failure. */
export function runPython(script: string, args: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      DEBIAN_PYTHON,
      ['-c', script, ...args],
      { maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`python failed: ${stderr || err.message}`));
        else resolve(stdout);
      },
    );
  });
}

/** Polls `check` every 50 ms until it returns a value (bounded generously: this is not a timing test). */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  limitMs = 30_000,
): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
