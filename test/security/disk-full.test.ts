// Disk full: a vault on a 3 MiB tmpfs (skipped where tmpfs cannot be mounted, e.g. without root). Logging
// metrics (through the flush worker) and writing tensors (through the codec worker pool) until the disk is
// full fail with a StorageFullError; the run is sealed as failed with the reason, the rows flushed before
// stay readable, the earlier sealed run still verifies; `specimen run` whose outputs fill the disk exits 5
// with the run sealed as failed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isVaultError, SpecimenStorage, Vault } from '../../src/index.js';
import { runCli, tempDir } from '../support/helpers.js';

const mountPoint = tempDir('sv-full-');
const mounted = (() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mountPoint], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

afterAll(async () => {
  if (mounted) {
    // A writer's worker or a child process may hold a file on the mount for a moment after its test ends:
    // retry, then detach lazily so the mount never outlives the suite.
    for (let attempt = 0; ; attempt++) {
      try {
        execFileSync('umount', [mountPoint], { stdio: 'ignore' });
        break;
      } catch {
        if (attempt === 20) {
          execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
          break;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
  fs.rmSync(mountPoint, { recursive: true, force: true });
});

describe.skipIf(!mounted)('disk full', () => {
  const root = path.join(mountPoint, 'vault');
  const id = '2025_01_02_full';

  it('fails metrics and tensor writes with StorageFullError, seals the run as failed, keeps the rest', async () => {
    const vault = await Vault.init(root);
    await vault.createSpecimen({ specimenId: id, domain: 'training', method: 'fine_tuning', model: 'm' });
    const first = await SpecimenStorage.open(id, { vault });
    await first.startRun({});
    const w1 = first.metricsWriter();
    for (let i = 0; i < 100; i++) w1.log({ step: i, loss: i });
    await w1.close();
    await first.finish({});

    const second = await SpecimenStorage.open(id, { vault });
    const runId = await second.startRun({});
    // Small parts, so some are flushed before the disk fills.
    const w = second.metricsWriter({ flushRows: 4096 });
    let logged = 0;
    const metricsError = await (async () => {
      for (let i = 0; i < 5_000_000; i++) {
        w.log({ step: i, loss: Math.random(), note: 'y'.repeat(50) });
        logged++;
        if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
      }
      await w.close();
    })().catch((e: unknown) => e);
    expect(isVaultError(metricsError, 'StorageFullError'), String(metricsError)).toBe(true);
    expect(metricsError).toMatchObject({ subsystem: 'metrics', code: 'ENOSPC' });
    expect((metricsError as Error).message).toMatch(
      /^metrics: no space left on the disk while writing .*disk full/,
    );

    // 16 MiB of noise with zstd: its chunks are encoded by the codec worker pool, then written.
    const tensorError = await second
      .writeTensors('noise', new Float32Array(4 << 20).map(Math.random), {
        shape: [4 << 20],
        chunks: [1 << 18],
        compressor: 'zstd',
      })
      .catch((e: unknown) => e);
    expect(isVaultError(tensorError, 'StorageFullError'), String(tensorError)).toBe(true);
    expect(tensorError).toMatchObject({ subsystem: 'tensor', code: 'ENOSPC' });
    // The partial array is gone.
    const runDir = path.join(root, 'specimens', id, 'runs', runId);
    expect(fs.readdirSync(runDir).filter((f) => f.includes('noise'))).toEqual([]);

    const finishError = await second.finish({}).catch((e: unknown) => e);
    expect(isVaultError(finishError, 'StorageFullError')).toBe(true);
    const manifest = await second.readRunManifest(runId);
    expect(manifest.status).toBe('failed');
    expect(manifest.error).toMatchObject({ type: 'StorageFullError' });
    // The rows flushed before the disk filled are readable: the first parts, in order.
    const table = await second.readMetrics(runId);
    expect(table.numRows).toBeGreaterThan(0);
    expect(table.numRows).toBeLessThan(logged);
    expect(table.numRows % 4096).toBe(0);
    expect(Number(table.getChild('step')!.get(table.numRows - 1))).toBe(table.numRows - 1);

    // Both runs verify: the first untouched, the failed one as it was sealed.
    const verify = await runCli(['verify', id, '--vault', root]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stderr).not.toMatch(/unexpected failure/);
    // Room for the next test.
    fs.rmSync(runDir, { recursive: true, force: true });
  });

  it('`specimen run` whose outputs fill the disk exits 5 and seals the run as failed', async () => {
    // A protocol appending metrics lines until the disk is full, then ending normally (as the Python package
    // does: logging never crashes the training loop); converting them to Parquet then finds no space.
    const protocol = [
      'node',
      '-e',
      "const fs=require('fs');const f=process.env.SPECIMEN_RUN_DIR+'/metrics.jsonl';const fd=fs.openSync(f,'a');let i=0;try{for(;;i++)fs.writeSync(fd,JSON.stringify({step:i,loss:1/(i+1),note:'z'.repeat(40)})+'\\n')}catch(e){console.log('stopped at',i,e.code)}",
    ];
    const r = await runCli(['run', id, '--vault', root, '--', ...protocol], { timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(5);
    expect(r.stdout).toMatch(/stopped at \d+ ENOSPC/);
    expect(r.stderr).toMatch(/error: run: no space left on the disk while writing .*disk full/);
    expect(r.stderr).toMatch(/sealed as failed/);
    expect(r.stderr).not.toMatch(/unexpected failure|at .*\.js:\d+/);
    const storage = await SpecimenStorage.open(id, { vault: root });
    const runs = await storage.listRunInfo();
    const last = runs.at(-1)!;
    expect(last.status).toBe('failed');
    const manifest = await storage.readRunManifest(last.runId);
    expect(manifest.error).toMatchObject({ type: 'StorageFullError' });
    // Every line the protocol wrote is kept, and the run verifies as sealed.
    const runDir = path.join(root, 'specimens', id, 'runs', last.runId);
    expect(fs.statSync(path.join(runDir, 'metrics.jsonl')).size).toBeGreaterThan(1 << 20);
    const verify = await runCli(['verify', id, '--vault', root]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
