// `specimen verify` and `specimen migrate` through the built CLI, on copies of the reference vault.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../../src/storage/hashing.js';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { copyTree, REFERENCE_VAULT, runCli, tempDir } from '../support/helpers.js';

function referenceCopy(): string {
  const dir = tempDir('sv-migrate-');
  copyTree(REFERENCE_VAULT, dir);
  return dir;
}

describe('specimen migrate', () => {
  it('plans without changing anything on --dry-run', async () => {
    const vault = referenceCopy();
    const before = fs.readdirSync(vault, { recursive: true, encoding: 'utf8' }).sort();
    const r = await runCli(['migrate', '--dry-run', '--vault', vault]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'would move specimens/2025_12_22_vn_comprehensive_experiments/strata → specimens/2025_12_22_vn_comprehensive_experiments/runs/20251222_194653',
    );
    expect(fs.readdirSync(vault, { recursive: true, encoding: 'utf8' }).sort()).toEqual(before);
  });

  it('moves strata/ to runs/<start time> byte for byte, seals it, and keeps every manifest field', async () => {
    const vault = referenceCopy();
    const vn = path.join(vault, 'specimens', '2025_12_22_vn_comprehensive_experiments');
    const digestBefore = await sha256File(path.join(vn, 'strata', 'metrics.parquet'));
    const manifestBytes = fs.readFileSync(path.join(vn, 'strata', 'manifest.msgpack'));
    const r = await runCli(['migrate', '--vault', vault]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.existsSync(path.join(vn, 'strata'))).toBe(false);
    const moved = path.join(vn, 'runs', '20251222_194653');
    expect(await sha256File(path.join(moved, 'metrics.parquet'))).toEqual(digestBefore);
    expect(fs.readFileSync(path.join(moved, 'manifest.legacy.msgpack')).equals(manifestBytes)).toBe(true);
    const s = await SpecimenStorage.open('2025_12_22_vn_comprehensive_experiments', { vault });
    const runs = await s.listRunInfo();
    expect(runs.map((x) => x.runId)).toEqual(['20251222_194653', '20251222_201718', '20251222_201819']);
    expect(runs[0]?.sealed).toBe(true);
    expect(runs[0]?.manifest?.sealed_at).toBeTruthy();
    expect((runs[0]!.manifest!.summary_statistics as { total_cases: number }).total_cases).toBe(75);
    expect((await s.readMetrics('20251222_194653')).numRows).toBe(75);
    // The demo specimen's manifest now points at the moved file.
    const demo = await SpecimenStorage.open('example_2024_12_19_synthetic_demo', { vault });
    const [demoRun] = await demo.listRunInfo();
    expect((demo.manifest.artifacts as Record<string, { path: string }>).metrics?.path).toBe(
      `runs/${demoRun!.runId}/metrics.parquet`,
    );
    expect((await demo.readMetrics()).numRows).toBe(100);
    const again = await runCli(['migrate', '--vault', vault]);
    expect(again.stdout).toContain('nothing to migrate');
  });
});

describe('specimen verify', () => {
  it('passes on intact sealed runs and lists every changed, missing and extra file', async () => {
    const vault = referenceCopy();
    expect((await runCli(['migrate', '--vault', vault])).code).toBe(0);
    const ok = await runCli(['verify', '--vault', vault]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/ok: 3 sealed run\(s\) verified, 0 modified/);
    const run = path.join(
      vault,
      'specimens',
      '2025_12_22_vn_comprehensive_experiments',
      'runs',
      '20251222_194653',
    );
    fs.chmodSync(path.join(run, 'metrics.parquet'), 0o644);
    fs.appendFileSync(path.join(run, 'metrics.parquet'), 'x');
    fs.rmSync(path.join(run, 'manifest.legacy.msgpack'));
    fs.writeFileSync(path.join(run, 'notes.txt'), 'added later');
    const bad = await runCli([
      'verify',
      '2025_12_22_vn_comprehensive_experiments',
      '--json',
      '--vault',
      vault,
    ]);
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout);
    const r = report.runs.find((x: { runId: string }) => x.runId === '20251222_194653');
    expect(r).toMatchObject({
      result: 'modified',
      changed: ['metrics.parquet'],
      missing: ['manifest.legacy.msgpack'],
      extra: ['notes.txt'],
    });
    const text = await runCli(['verify', '--vault', vault]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('changed  metrics.parquet');
    expect(text.stdout).toContain('missing  manifest.legacy.msgpack');
    expect(text.stdout).toContain('extra    notes.txt');
  });
});
