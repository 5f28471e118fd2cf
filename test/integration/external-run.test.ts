// `specimen begin`, `seal` and `adopt` through the built CLI, with the files a writer in another language
// leaves (JSON lines, .npy, finish.json) written by hand, so this needs no Python.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { UNOWNED_STAGE_QUIET_MS } from '../../src/runner/external-run.js';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { runCli, tempDir } from '../support/helpers.js';

const ID = '2026_01_02_probe';
let vault: string;

/** A little-endian float32 .npy file. */
function npy(shape: number[], values: number[]): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += `${' '.repeat(63 - ((10 + header.length) % 64))}\n`;
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(new Float32Array(values).buffer)]);
}

async function cli(args: string[]): Promise<string> {
  const r = await runCli([...args, '--vault', vault]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

async function runInfos() {
  return (await SpecimenStorage.open(ID, { vault })).listRunInfo();
}

beforeAll(async () => {
  vault = tempDir('sv-external-');
  await cli(['init', vault]);
  await cli(['new', ID, '--domain', 'training', '--method', 'fine_tuning']);
});

describe('specimen begin / seal', () => {
  it('begins a running run owned by the writer and seals it with finish.json', async () => {
    const request = path.join(vault, 'request.json');
    fs.writeFileSync(
      request,
      JSON.stringify({
        config: { lr: 0.1 },
        seed: 7,
        name: 'baseline',
        tags: ['a'],
        owner: { pid: process.pid, host: 'elsewhere' },
      }),
    );
    const begun = JSON.parse(await cli(['begin', ID, '--request', request, '--json', '--no-provenance']));
    expect(begun).toMatchObject({ specimen_id: ID, zarr_format: 2 });
    const dir: string = begun.run_dir;
    expect((await runInfos()).at(-1)?.status).toBe('incomplete'); // the owner is not on this host
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), '{"step":0,"loss":NaN}\n{"step":1,"loss":0.5}\n');
    fs.mkdirSync(path.join(dir, 'w.npy-series'));
    fs.writeFileSync(path.join(dir, 'w.npy-series', '000000000020.npy'), npy([2], [3, 4]));
    fs.writeFileSync(path.join(dir, 'w.npy-series', '000000000010.npy'), npy([2], [1, 2]));
    fs.writeFileSync(
      path.join(dir, 'finish.json'),
      JSON.stringify({
        status: 'failed',
        summary: { best: 0.5 },
        error: { type: 'ValueError', message: 'x' },
      }),
    );
    const sealed = JSON.parse(await cli(['seal', ID, begun.run_id, '--json']));
    expect(sealed).toMatchObject({ status: 'failed', rows: 2, tensors: ['w', 'w.steps'] });
    const [run] = await runInfos();
    expect(run?.sealed).toBe(true);
    expect(run?.manifest).toMatchObject({
      seeds: { global: 7 },
      config: { lr: 0.1 },
      name: 'baseline',
      summary: { best: 0.5 },
    });
    expect(run?.manifest?.error).toEqual({ type: 'ValueError', message: 'x' });
    expect(Object.keys(run?.manifest?.files ?? {})).not.toContain('finish.json');
    const s = await SpecimenStorage.open(ID, { vault });
    const w = await s.readTensorLazy('w');
    expect([w.zarrFormat, ...w.shape]).toEqual([2, 2, 2]);
    expect([...(await w.readAll()).data]).toEqual([1, 2, 3, 4]);
    expect([...(await (await s.readTensorLazy('w.steps')).readAll()).data]).toEqual([10n, 20n]);
    const again = await runCli(['seal', ID, begun.run_id, '--vault', vault]);
    expect(again.code).toBe(4); // sealed runs are immutable
    expect((await runCli(['verify', '--vault', vault])).code).toBe(0);
  }, 60_000);

  it('names the closest specimen for an unknown ID', async () => {
    const r = await runCli(['begin', '2026_01_02_prob', '--json', '--no-provenance', '--vault', vault]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`did you mean "${ID}"`);
  });
});

describe('staged runs', () => {
  it('are left while their writer lives, then sealed by specimen index', async () => {
    const before = (await runInfos()).length;
    const stage = path.join(vault, 'specimens', ID, 'pending', '20260102_101500-1-abc');
    fs.mkdirSync(stage, { recursive: true });
    const begin = {
      seed: 1,
      started: '2026-01-02T10:15:00.000Z',
      owner: { pid: process.pid, host: (await import('node:os')).hostname() },
    };
    fs.writeFileSync(path.join(stage, 'begin.json'), JSON.stringify(begin));
    fs.writeFileSync(path.join(stage, 'metrics.jsonl'), '{"step":0,"loss":1}\n');
    const skipped = JSON.parse(await cli(['adopt', ID, '--json']));
    expect(skipped.adopted).toEqual([]);
    expect(skipped.skipped[0].reason).toContain('may still be running');
    fs.writeFileSync(
      path.join(stage, 'finish.json'),
      JSON.stringify({ status: 'succeeded', summary: { k: 1 } }),
    );
    const r = await runCli(['index', '--vault', vault]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'adopted specimens/2026_01_02_probe/pending/20260102_101500-1-abc as run 20260102_101500',
    );
    const runs = await runInfos();
    expect(runs).toHaveLength(before + 1);
    const adopted = runs.find((x) => x.runId === '20260102_101500');
    expect(adopted).toMatchObject({ status: 'succeeded', sealed: true });
    expect(adopted?.manifest?.summary).toEqual({ k: 1 });
    expect(fs.existsSync(path.join(vault, 'specimens', ID, 'pending'))).toBe(false);
  }, 60_000);

  it('leaves a stage that names no writer while it was written to recently, and adopts it once quiet', async () => {
    const stage = path.join(vault, 'specimens', ID, 'pending', '20260102_111500-1-abcdef');
    fs.mkdirSync(stage, { recursive: true });
    // No owner (a writer that says nothing of its process): only its recent writes tell it may be alive.
    fs.writeFileSync(path.join(stage, 'begin.json'), JSON.stringify({ started: '2026-01-02T11:15:00.000Z' }));
    fs.writeFileSync(path.join(stage, 'metrics.jsonl'), '{"step":0,"loss":1}\n');
    const left = JSON.parse(await cli(['adopt', ID, '--json']));
    expect(left.adopted).toEqual([]);
    expect(left.skipped[0].reason).toContain('names no writer process');
    const idx = await runCli(['index', '--vault', vault]);
    expect(idx.code, idx.stderr).toBe(0);
    expect(fs.existsSync(path.join(stage, 'metrics.jsonl'))).toBe(true);
    // Unchanged for longer than the quiet time: its writer is taken to be gone, and it is sealed.
    const old = new Date(Date.now() - UNOWNED_STAGE_QUIET_MS - 60_000);
    for (const f of fs.readdirSync(stage)) fs.utimesSync(path.join(stage, f), old, old);
    const report = JSON.parse(await cli(['adopt', ID, '--json']));
    expect(report.adopted.map((a: { run_id: string }) => a.run_id)).toEqual(['20260102_111500']);
    expect(report.adopted[0].status).toBe('interrupted');
  }, 60_000);

  it('adopt seals an incomplete run whose writer is gone as interrupted', async () => {
    const request = path.join(vault, 'dead.json');
    fs.writeFileSync(
      request,
      JSON.stringify({ owner: { pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname() } }),
    );
    const begun = JSON.parse(await cli(['begin', ID, '--request', request, '--json', '--no-provenance']));
    fs.writeFileSync(path.join(begun.run_dir, 'metrics.jsonl'), '{"step":0,"loss":1}\n{"step":1,"loss":0.5}');
    const report = JSON.parse(await cli(['adopt', '--json']));
    expect(report.adopted.map((a: { run_id: string }) => a.run_id)).toEqual([begun.run_id]);
    const run = (await runInfos()).find((x) => x.runId === begun.run_id);
    expect(run).toMatchObject({ status: 'interrupted', sealed: true });
    expect(run?.manifest?.artifacts?.metrics?.rows).toBe(2);
    expect(await cli(['adopt'])).toContain('nothing to adopt');
  }, 60_000);
});
