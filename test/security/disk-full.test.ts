// Disk full: a vault on a 3 MiB tmpfs (skipped where tmpfs cannot be mounted, e.g. without root). Logging
// metrics and writing tensors until the disk is full fail with an error that names the subsystem and the
// cause, and the earlier sealed run still verifies.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SpecimenStorage, Vault } from '../../src/index.js';
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
  it('fails metrics and tensor writes clearly and keeps the earlier sealed run whole', async () => {
    const root = path.join(mountPoint, 'vault');
    const vault = await Vault.init(root);
    const id = '2025_01_02_full';
    await vault.createSpecimen({ specimenId: id, domain: 'training', method: 'fine_tuning', model: 'm' });
    const first = await SpecimenStorage.open(id, { vault });
    await first.startRun({});
    const w1 = first.metricsWriter();
    for (let i = 0; i < 100; i++) w1.log({ step: i, loss: i });
    await w1.close();
    await first.finish({});

    const second = await SpecimenStorage.open(id, { vault });
    await second.startRun({});
    const w = second.metricsWriter();
    const metricsError = await (async () => {
      for (let i = 0; i < 5_000_000; i++) {
        w.log({ step: i, loss: Math.random(), note: 'y'.repeat(50) });
        if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
      }
      await w.close();
    })().catch((e: unknown) => e as Error);
    expect(metricsError).toBeInstanceOf(Error);
    expect((metricsError as Error).message).toMatch(
      /^metrics: writing .* failed: .*(No space|Could not write)/s,
    );

    const tensorError = await (async () => {
      for (let i = 0; i < 100; i++)
        await second.writeTensors(`t${i}`, new Float32Array(100_000).map(Math.random), { shape: [100_000] });
    })().catch((e: unknown) => e as NodeJS.ErrnoException);
    expect(tensorError).toBeInstanceOf(Error);
    expect((tensorError as NodeJS.ErrnoException).code).toBe('ENOSPC');

    // The sealed run is untouched: verify finds no change.
    const verify = await runCli(['verify', id, '--vault', root]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stderr).not.toMatch(/unexpected failure/);
  });
});
