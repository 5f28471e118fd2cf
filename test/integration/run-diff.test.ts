// `specimen diff` (runner/run-diff.ts) through the built CLI: two real runs begun and sealed as the Python
// package does, differing in config, seed, command and one package version; the diff names exactly those,
// section by section, and a bad reference is a usage error naming the expected form.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginRun, sealExternalRun } from '../../src/runner/external-run.js';
import type { RunDiff } from '../../src/runner/run-diff.js';
import type { CompareResponse } from '../../src/server/api-types.js';
import { startServer } from '../../src/server/index.js';
import { Vault } from '../../src/storage/vault.js';
import { runCli, tempDir } from '../support/helpers.js';
import { request } from '../support/http.js';

const S = '2026_01_02_diff_probe';

describe('specimen diff', () => {
  let dir: string;
  let vault: Vault;
  let a: string;
  let b: string;

  beforeAll(async () => {
    dir = tempDir('sv-diff-');
    vault = await Vault.init(path.join(dir, 'vault'));
    await vault.createSpecimen({
      specimenId: S,
      domain: 'training',
      method: 'fine_tuning',
      description: 'd',
    });
    const begin = async (lr: number, seed: number, numpy: string, script: string) => {
      const r = await beginRun(vault, S, {
        config: { lr, model: { layers: 4, width: 64 } },
        seed,
        command: ['python', script],
        language: 'python',
        python_version: '3.11.7',
        python_packages: ['msgpack==1.0.8', `numpy==${numpy}`],
      });
      fs.writeFileSync(path.join(r.run_dir, 'metrics.jsonl'), '{"step": 0, "loss": 1}\n');
      await sealExternalRun(vault, S, r.run_id);
      return `${S}/${r.run_id}`;
    };
    a = await begin(0.1, 1, '1.26.4', 'train.py');
    // Run IDs have one-second resolution.
    await new Promise((r) => setTimeout(r, 1100));
    b = await begin(0.01, 2, '2.0.1', 'train_v2.py');
  }, 120_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lists what differs in config, seed, code and dependencies, and nothing else', async () => {
    const r = await runCli(['diff', a, b, '--json', '--vault', vault.root]);
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as RunDiff;
    const section = (name: string) => d.sections.find((s) => s.name === name)!.changes;
    expect(d.same).toBe(false);
    expect(section('config')).toEqual([{ key: 'lr', a: 0.1, b: 0.01 }]);
    expect(section('seed')).toEqual([{ key: 'global', a: 1, b: 2 }]);
    expect(section('code')).toEqual([{ key: 'command', a: 'python train.py', b: 'python train_v2.py' }]);
    expect(section('dependencies')).toEqual([{ key: 'python:numpy', a: '1.26.4', b: '2.0.1' }]);
    expect(section('environment')).toEqual([]);

    const text = await runCli(['diff', a, b, '--vault', vault.root]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('config: 1 differ');
    expect(text.stdout).toContain('environment: same');
    expect(text.stdout).toMatch(/python:numpy\s*│\s*1\.26\.4\s*│\s*2\.0\.1/);

    const self = JSON.parse(
      (await runCli(['diff', a, a, '--json', '--vault', vault.root])).stdout,
    ) as RunDiff;
    expect(self.same).toBe(true);
  });

  it('gives the compare page the same differences, one value per run', async () => {
    const server = await startServer({ vaultRoot: vault.root, port: 0, index: false, watch: false });
    try {
      const r = await request(
        server.port,
        `/api/compare?run=${encodeURIComponent(a)}&run=${encodeURIComponent(b)}`,
      );
      expect(r.status, r.text).toBe(200);
      const body = JSON.parse(r.text) as CompareResponse;
      expect(body.differences).toEqual([
        { section: 'code', key: 'command', values: ['python train.py', 'python train_v2.py'] },
        { section: 'dependencies', key: 'python:numpy', values: ['1.26.4', '2.0.1'] },
      ]);
      expect(body.runs.map((x) => x.seed)).toEqual([1, 2]);
    } finally {
      await server.close();
    }
  });

  it('refuses a reference that is not <specimen_id>/<run_id>, and names a missing run', async () => {
    const bad = await runCli(['diff', 'just-a-run', b, '--vault', vault.root]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('a run is <specimen_id>/<run_id>');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const missing = await runCli(['diff', `${S}/20990101_000000`, b, '--vault', vault.root]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('not found');
  });
});
