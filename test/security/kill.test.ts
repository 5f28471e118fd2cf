// SIGKILL at seeded random moments: `specimen run` killed while its protocol logs metrics, and
// `specimen index --full` killed while it builds. Afterwards every sealed run still verifies, and the catalog
// opens (or the next index rebuilds it) cleanly.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT, runCli } from '../support/helpers.js';
import { DEMO, demoVault, type TestVault } from './harness.js';

const KILLS = 8;
let v: TestVault;

beforeAll(async () => {
  v = await demoVault('sv-kill-');
});

afterAll(() => v?.cleanup());

/** Seeded delays in milliseconds. */
function delays(seed: number, min: number, max: number): number[] {
  return fc.sample(fc.integer({ min, max }), { seed, numRuns: KILLS });
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
    let killed = 0;
    for (const ms of delays(7, 50, 2500)) {
      const r = await killAfter(['run', DEMO, '--vault', v.root, '--', ...PROTOCOL], ms);
      if (r.signal === 'SIGKILL') killed++;
    }
    expect(killed).toBeGreaterThan(0);
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
    for (const ms of delays(11, 20, 1500)) {
      await killAfter(['index', '--full', '--vault', v.root], ms);
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
    }
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
