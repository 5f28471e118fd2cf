// `specimen session`: begins and seals runs over stdin/stdout for a writer in another process (the
// Python package), with the files it leaves (JSON lines, finish.json) written by hand here.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { beforeAll, describe, expect, it } from 'vitest';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { CLI, runCli, tempDir } from '../support/helpers.js';

const ID = '2026_01_02_probe';
let vault: string;

beforeAll(async () => {
  vault = tempDir('sv-session-');
  expect((await runCli(['init', vault])).code).toBe(0);
  expect(
    (await runCli(['new', ID, '--domain', 'training', '--method', 'fine_tuning', '--vault', vault])).code,
  ).toBe(0);
});

/** Starts a session and returns a function sending one request and resolving its reply. */
function session() {
  const child = spawn(process.execPath, [CLI, 'session', '--vault', vault], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const replies = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const ask = async (req: unknown): Promise<Record<string, unknown>> => {
    child.stdin!.write(typeof req === 'string' ? `${req}\n` : `${JSON.stringify(req)}\n`);
    const { value } = await replies.next();
    return JSON.parse(value as string) as Record<string, unknown>;
  };
  const end = () =>
    new Promise<number | null>((resolve) => {
      child.on('exit', (code) => resolve(code));
      child.stdin!.end();
    });
  return { ask, end };
}

describe('specimen session', () => {
  it('begins and seals several runs in one process, answering each request in order', async () => {
    const s = session();
    const sealed: string[] = [];
    for (let i = 0; i < 3; i++) {
      const begun = await s.ask({ id: i, op: 'begin', specimen: ID, request: { config: { i }, seed: i } });
      expect(begun).toMatchObject({ id: i, ok: true });
      const result = begun.result as { run_id: string; run_dir: string };
      const lines = Array.from({ length: 100 }, (_, step) =>
        JSON.stringify({ step, loss: 1 / (step + 1 + i) }),
      );
      fs.writeFileSync(path.join(result.run_dir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
      fs.writeFileSync(
        path.join(result.run_dir, 'finish.json'),
        JSON.stringify({ status: 'failed', summary: { i } }),
      );
      const seal = await s.ask({ id: `s${i}`, op: 'seal', specimen: ID, run: result.run_id });
      expect(seal).toMatchObject({
        id: `s${i}`,
        ok: true,
        result: { status: 'failed', rows: 100, tensors: [] },
      });
      sealed.push(result.run_id);
    }
    expect(await s.end()).toBe(0);
    const runs = await (await SpecimenStorage.open(ID, { vault })).listRunInfo();
    const ours = runs.filter((r) => sealed.includes(r.runId));
    expect(ours.map((r) => [r.status, r.sealed])).toEqual([
      ['failed', true],
      ['failed', true],
      ['failed', true],
    ]);
    expect(new Set(ours.map((r) => r.manifest?.config?.i))).toEqual(new Set([0, 1, 2]));
    expect(ours.every((r) => r.manifest?.summary?.i !== undefined)).toBe(true);
  });

  it('answers bad requests with the exit code and message of the command, and keeps going', async () => {
    const s = session();
    expect(await s.ask('not json')).toMatchObject({ id: null, ok: false, code: 2 });
    expect(await s.ask({ id: 1, op: 'launch' })).toMatchObject({ id: 1, ok: false, code: 2 });
    const missing = await s.ask({ id: 2, op: 'begin', specimen: '2026_01_02_prob' });
    expect(missing).toMatchObject({ id: 2, ok: false, code: 3 });
    expect(String(missing.message)).toContain(ID); // the closest ID
    expect(await s.ask({ id: 3, op: 'seal', specimen: ID, run: '../x' })).toMatchObject({ id: 3, ok: false });
    expect(await s.ask({ id: 4, op: 'seal', specimen: ID, run: 'r', status: 'great' })).toMatchObject({
      id: 4,
      ok: false,
      code: 2,
    });
    // Still serving.
    expect(await s.ask({ id: 5, op: 'begin', specimen: ID })).toMatchObject({ id: 5, ok: true });
    expect(await s.end()).toBe(0);
  });
});
