// An imported run is assembled and sealed in staging and renamed into place: a failure while writing it
// leaves no run directory (sealed or not) and no staging directory behind. Needs no Python.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SourceRun } from '../../src/import/types.js';
import { STAGING_DIR, writeImportedRun } from '../../src/import/write-run.js';
import { Vault } from '../../src/storage/vault.js';
import { tempDir } from '../support/helpers.js';

function sourceRun(overrides: Partial<SourceRun> = {}): SourceRun {
  return {
    sourceRunId: 'abc123',
    experiment: { key: '1', name: 'atomic' },
    status: 'succeeded',
    started: '2025-01-02T10:00:00.000Z',
    ended: '2025-01-02T10:05:00.000Z',
    config: { lr: '0.1' },
    tags: {},
    provenance: {},
    series: [{ name: 'loss', steps: [0, 1, 2], values: [1, 0.5, 0.25], wallTimes: [10, 11, 12] }],
    tensors: [],
    notes: [],
    artifacts: [],
    problems: [],
    ...overrides,
  };
}

describe('writing an imported run', () => {
  it('seals a complete run under its start time', async () => {
    const vault = await Vault.init(tempDir('sv-import-atomic-'));
    await vault.createSpecimen({
      specimenId: '2025_01_02_atomic',
      domain: 'training',
      method: 'fine_tuning',
    });
    const w = await writeImportedRun(vault, '2025_01_02_atomic', sourceRun(), {
      tool: 'mlflow',
      sourcePath: '/x/mlflow.db',
    });
    expect(w.runId).toBe('20250102_100000');
    expect(w.rows).toBe(3);
    expect(fs.readdirSync(path.join(vault.root, STAGING_DIR))).toEqual([]);
  });

  it('leaves neither a run nor staging behind when writing fails midway', async () => {
    const vault = await Vault.init(tempDir('sv-import-atomic-'));
    await vault.createSpecimen({
      specimenId: '2025_01_02_atomic',
      domain: 'training',
      method: 'fine_tuning',
    });
    // Metrics are written first; the tensor series then does not fit its shape, so writing throws.
    const broken = sourceRun({
      tensors: [
        { tag: 'w', kind: 'tensor', steps: [0, 1], wallTimes: [1, 2], shape: [3], data: new Float64Array(5) },
      ],
    });
    await expect(
      writeImportedRun(vault, '2025_01_02_atomic', broken, { tool: 'mlflow', sourcePath: '/x' }),
    ).rejects.toThrow(/tensor/);
    expect(fs.readdirSync(path.join(vault.specimenDir('2025_01_02_atomic'), 'runs'))).toEqual([]);
    expect(fs.readdirSync(path.join(vault.root, STAGING_DIR))).toEqual([]);
  });
});
