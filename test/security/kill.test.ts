// SIGKILL at 30 seeded random moments each: `specimen run` killed while its protocol logs metrics, and
// `specimen index --full` killed while it builds. Afterwards every sealed run still verifies, and the catalog
// opens (or the next index rebuilds it) cleanly. Kills run three at a time (two cores; a runner mostly
// waits on its protocol), and three indexers killed together also contend for the catalog lock, so the
// lock of a killed holder is taken over as well.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT, runCli } from '../support/helpers.js';
import { DEMO, demoVault, type TestVault } from './harness.js';

const KILLS = 30;
/** Processes started (and killed) together. */
const AT_ONCE = 3;
let v: TestVault;

beforeAll(async () => {
  v = await demoVault('sv-kill-');
});

afterAll(() => v?.cleanup());

/** Seeded delays in milliseconds. */
function delays(seed: number, min: number, max: number): number[] {
  return fc.sample(fc.integer({ min, max }), { seed, numRuns: KILLS });
}

/** Runs `task` over `items`, AT_ONCE at a time, batch after batch. */
async function inBatches<T, R>(
  items: readonly T[],
  task: (item: T) => Promise<R>,
  after?: () => Promise<void>,
) {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += AT_ONCE) {
    out.push(...(await Promise.all(items.slice(i, i + AT_ONCE).map(task))));
    await after?.();
  }
  return out;
}

/** Starts the CLI and SIGKILLs it after `ms`; resolves with how it ended. */
function killAfter(args: string[], ms: number): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: 'ignore',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

// A protocol that logs a metrics row every millisecond or so for two seconds.
const PROTOCOL = [
  'node',
  '-e',
  "const fs=require('fs');const f=process.env.SPECIMEN_RUN_DIR+'/metrics.jsonl';let i=0;const t=setInterval(()=>{fs.appendFileSync(f,JSON.stringify({step:i,loss:1/(i+1)})+'\\n');if(++i>=2000)clearInterval(t)},1)",
];

describe('SIGKILL at random moments', () => {
  it('leaves every sealed run verifiable after `specimen run` is killed', async () => {
    const moments = delays(7, 50, 2500);
    expect(new Set(moments).size).toBeGreaterThan(25);
    const ends = await inBatches(moments, (ms) =>
      killAfter(['run', DEMO, '--vault', v.root, '--', ...PROTOCOL], ms),
    );
    // Most are killed mid-run; a late moment may find the run sealed already.
    expect(ends.filter((r) => r.signal === 'SIGKILL').length).toBeGreaterThan(20);
    const verify = await runCli(['verify', '--json', '--vault', v.root]);
    expect(verify.stderr).not.toMatch(/unexpected failure/);
    const report = JSON.parse(verify.stdout) as unknown;
    const text = JSON.stringify(report);
    // Sealed runs are intact; killed ones are reported as not sealed, never as changed.
    expect(verify.code, text.slice(0, 500)).toBe(0);
    const index = await runCli(['index', '--vault', v.root]);
    expect(index.code, index.stderr).toBe(0);
    const q = await runCli([
      'query',
      'SELECT count(*) AS n FROM runs',
      '--format',
      'json',
      '--vault',
      v.root,
    ]);
    expect(q.code, q.stderr).toBe(0);
  });

  it('leaves a catalog that opens, or is rebuilt cleanly, after `specimen index` is killed', async () => {
    const check = async () => {
      const q = await runCli([
        'query',
        'SELECT count(*) AS n FROM catalog',
        '--format',
        'json',
        '--vault',
        v.root,
      ]);
      if (q.code !== 0) {
        // No catalog yet, or a stale lock of the killed indexer: the next index takes over and rebuilds.
        expect(q.stderr).not.toMatch(/unexpected failure/);
        const again = await runCli(['index', '--vault', v.root]);
        expect(again.code, again.stderr).toBe(0);
      }
    };
    // The kill moments spread over how long a full build takes here, measured with the same contention
    // (AT_ONCE together), so a faster indexer or a faster machine still gets killed mid-build.
    const started = Date.now();
    const whole = await Promise.all(
      Array.from({ length: AT_ONCE }, async () => {
        const r = await runCli(['index', '--full', '--vault', v.root]);
        expect(r.code, r.stderr).toBe(0);
        return Date.now() - started;
      }),
    );
    const span = Math.min(...whole);
    const moments = delays(11, 2, 90).map((pct) => Math.max(5, Math.round((span * pct) / 100)));
    expect(new Set(moments).size).toBeGreaterThan(20);
    const ends = await inBatches(
      moments,
      (ms) => killAfter(['index', '--full', '--vault', v.root], ms),
      check,
    );
    expect(ends.filter((r) => r.signal === 'SIGKILL').length).toBeGreaterThan(15);
    const index = await runCli(['index', '--vault', v.root]);
    expect(index.code, index.stderr).toBe(0);
    const q = await runCli([
      'query',
      'SELECT count(*) AS n FROM catalog',
      '--format',
      'json',
      '--vault',
      v.root,
    ]);
    expect(q.code, q.stderr).toBe(0);
    expect(JSON.parse(q.stdout)).toEqual([{ n: 1 }]);
    expect(fs.readdirSync(v.root).filter((f) => f.includes('.build-'))).toEqual([]);
  });
});
