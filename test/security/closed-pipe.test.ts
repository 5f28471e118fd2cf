// Output into a closed reader (`specimen verify --help | head -1`): the CLI exits quietly with its own exit
// code instead of dying on EPIPE with a stack trace; `specimen run` still runs its protocol to the end and
// seals the run. The reading end of the child's stdout is closed before the child has started, so its
// first write fails every time.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT, runCli } from '../support/helpers.js';
import { DEMO, demoVault, type TestVault } from './harness.js';

let v: TestVault;

beforeAll(async () => {
  v = await demoVault('sv-pipe-');
});

afterAll(() => v?.cleanup());

/** Runs the CLI with its stdout closed at once; resolves with its exit and what it wrote on stderr. */
function intoClosedPipe(
  args: string[],
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('output into a closed pipe', () => {
  it.each([
    ['verify --help', ['verify', '--help'], 0],
    ['--help', ['--help'], 0],
    ['--version', ['--version'], 0],
    ['ls --json', ['ls', '--json'], 0],
    ['show', ['show', DEMO], 0],
    ['verify', ['verify'], 0],
    ['query of 200,000 rows', ['query', 'SELECT range AS n FROM range(200000)', '--format', 'csv'], 0],
    ['an unknown command', ['frobnicate'], 2],
  ])('%s exits quietly with its own code', async (_what, args, code) => {
    const r = await intoClosedPipe([...args, '--vault', v.root]);
    expect(r.signal).toBeNull();
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled 'error' event|node:events|unexpected failure/);
    expect(r.code, r.stderr).toBe(code);
  });

  it('`specimen run` with its output closed still runs the protocol to the end and seals the run', async () => {
    const protocol = [
      'node',
      '-e',
      "for(let i=0;i<20000;i++)console.log('line',i);require('fs').writeFileSync(process.env.SPECIMEN_RUN_DIR+'/done.txt','ok')",
    ];
    const r = await intoClosedPipe(['run', DEMO, '--vault', v.root, '--', ...protocol]);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled 'error' event|unexpected failure/);
    expect(r.code, r.stderr).toBe(0);
    const list = await runCli(['show', DEMO, '--json', '--vault', v.root]);
    expect(list.code, list.stderr).toBe(0);
    const runs = (JSON.parse(list.stdout) as { runs: { run_id: string; status: string }[] }).runs;
    const last = runs.at(-1)!;
    expect(last.status).toBe('succeeded');
    // The protocol got to its end (it was not killed with the runner) and its run verifies.
    const dir = path.join(v.root, 'specimens', DEMO, 'runs', last.run_id);
    expect(fs.readFileSync(path.join(dir, 'done.txt'), 'utf8')).toBe('ok');
    const verify = await runCli(['verify', DEMO, '--vault', v.root]);
    expect(verify.code, verify.stdout).toBe(0);
  });
});
