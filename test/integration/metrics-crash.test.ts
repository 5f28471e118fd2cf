// Crash safety: a writer killed with SIGKILL loses at most its unflushed rows; every flushed part is readable.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readRunMetrics } from '../../src/storage/metrics/index.js';
import { listParts } from '../../src/storage/metrics/parts.js';
import { crashRow } from '../support/crash-child.js';
import { REPO_ROOT, tempDir } from '../support/helpers.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function startChild(runDir: string, mode: 'flush' | 'loop'): { child: ChildProcess; line: Promise<string> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(REPO_ROOT, 'test', 'support', 'crash-child.ts'), runDir, mode],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const line = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.on('exit', (code, signal) =>
      reject(new Error(`child exited (${code ?? signal}) early: ${stderr}`)),
    );
  });
  return { child, line };
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.on('exit', () => resolve());
  });
}

/** Asserts the table holds exactly rows 0..n-1 as the child logged them, and returns n. */
async function expectPrefix(runDir: string): Promise<number> {
  const table = await readRunMetrics(runDir, 'crash');
  expect(table).toBeDefined();
  const n = table!.numRows;
  const step = table!.getChild('step')!.toArray() as BigInt64Array;
  const loss = table!.getChild('loss')!.toArray() as Float64Array;
  const tag = table!.getChild('tag')!;
  for (let i = 0; i < n; i++) {
    const want = crashRow(i);
    if (step[i] !== BigInt(want.step) || loss[i] !== want.loss || tag.get(i) !== want.tag) {
      throw new Error(`row ${i}: got ${step[i]}, ${loss[i]}, ${tag.get(i)}; want ${JSON.stringify(want)}`);
    }
  }
  expect([...new Set(table!.getChild('run_id')!)]).toEqual(['crash']);
  return n;
}

describe('MetricsWriter crash safety', () => {
  it('keeps every flushed row readable after SIGKILL', async () => {
    const runDir = tempDir('sv-crash-');
    dirs.push(runDir);
    const { child, line } = startChild(runDir, 'flush');
    expect(await line).toBe('FLUSHED 5500');
    child.kill('SIGKILL');
    await killed(child);
    expect(child.signalCode).toBe('SIGKILL');
    expect(fs.existsSync(path.join(runDir, 'metrics.parquet'))).toBe(false);
    const n = await expectPrefix(runDir);
    expect(n).toBeGreaterThanOrEqual(5500);
    expect(n).toBeLessThanOrEqual(6700);
  });

  it('keeps complete parts readable when killed inside a loop that never yields', async () => {
    const runDir = tempDir('sv-crash-');
    dirs.push(runDir);
    const { child, line } = startChild(runDir, 'loop');
    expect(await line).toBe('STARTED');
    const deadline = Date.now() + 30_000;
    while ((await listParts(runDir)).length < 3 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const partsSeen = (await listParts(runDir)).length;
    expect(partsSeen).toBeGreaterThanOrEqual(3);
    child.kill('SIGKILL');
    await killed(child);
    const n = await expectPrefix(runDir);
    // Parts hold 1,000 rows each and are renamed into place whole.
    expect(n % 1000).toBe(0);
    expect(n).toBeGreaterThanOrEqual(partsSeen * 1000);
  });
});
