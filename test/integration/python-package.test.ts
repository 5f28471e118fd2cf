// The Python package's pytest suite (python/tests), run with a virtual environment that has pytest and
// the libraries it checks interop with. The interpreter is $SPECIMEN_TEST_PYTHON, else .venv*/bin/python
// in the checkout; without one the suite skips loudly locally and fails in CI (CI=true), where .ci/run
// creates .venv-ci.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/helpers.js';

const MODULES = ['pytest', 'numpy', 'pyarrow', 'polars', 'pandas', 'duckdb', 'msgpack', 'zarr'];

/** The interpreter to use, or the reason there is none. */
function findPython(): { python?: string; problem?: string } {
  const candidates = process.env.SPECIMEN_TEST_PYTHON
    ? [process.env.SPECIMEN_TEST_PYTHON]
    : fs
        .readdirSync(REPO_ROOT)
        .filter((d) => d.startsWith('.venv'))
        .sort()
        .map((d) => path.join(REPO_ROOT, d, 'bin', 'python'))
        .filter((p) => fs.existsSync(p));
  if (candidates.length === 0)
    return { problem: 'no $SPECIMEN_TEST_PYTHON and no .venv*/bin/python in the checkout' };
  const problems: string[] = [];
  for (const python of candidates) {
    try {
      execFileSync(python, ['-c', `import ${MODULES.join(', ')}`], { stdio: 'pipe' });
      return { python };
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim().split('\n').at(-1);
      problems.push(`${python}: ${stderr || (err as Error).message}`);
    }
  }
  return { problem: problems.join('; ') };
}

const { python, problem } = findPython();
if (problem) {
  const what = `the Python package's tests need an interpreter with ${MODULES.join(', ')}: ${problem}`;
  if (process.env.CI) throw new Error(`python-package tests cannot run on CI: ${what}`);
  console.warn(
    `\n!!! SKIPPING the Python package's pytest suite: ${what}.\n` +
      '!!! Create one: python3 -m venv .venv && .venv/bin/pip install pytest numpy pyarrow polars pandas duckdb msgpack zarr && .venv/bin/pip install -e ./python\n',
  );
}

describe.runIf(python !== undefined)('the Python package (pytest python/tests)', () => {
  it('passes', async () => {
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        python!,
        ['-m', 'pytest', 'python/tests', '-q', '-p', 'no:cacheprovider'],
        { cwd: REPO_ROOT, timeout: 900_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env } },
        (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: stdout + stderr }),
      );
    });
    expect(code, output).toBe(0);
    expect(output).toMatch(/\d+ passed/);
  }, 900_000);
});
