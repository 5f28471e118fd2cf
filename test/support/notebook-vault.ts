// A small vault whose every byte of meaning is fixed (run IDs, times, commits, metrics), for the tests of the
// experiment log and the report: a learning-rate sweep with a superseded run, a failed run with a Python
// traceback in its stderr log, run notes, field notes and the lab-notebook fields.
import fs from 'node:fs';
import path from 'node:path';
import {
  FIELD_NOTES_FILE,
  MANIFEST_FILE,
  RUN_NOTES_FILE,
  RUNS_DIR,
  SPECIMENS_DIR,
  STDERR_FILE,
  SUPERSESSIONS_FILE,
} from '../../src/format/layout.js';
import { encodeManifest, type PlainObject } from '../../src/format/msgpack.js';
import { writeMetricsFile } from '../../src/storage/metrics/index.js';
import { Vault } from '../../src/storage/vault.js';
import { tempDir } from './helpers.js';

export const NOTEBOOK_SPECIMEN = '2025_03_01_lr_sweep';

interface RunSpec {
  runId: string;
  started: string;
  ended: string;
  status: 'succeeded' | 'failed';
  exitCode: number;
  lr: number;
  loss: number[];
  summary: PlainObject;
  commit: string;
  extraArtifacts?: Record<string, PlainObject>;
  stderr?: string;
  notes?: string;
}

const RUNS: RunSpec[] = [
  {
    runId: '20250301_090000',
    started: '2025-03-01T09:00:00.000Z',
    ended: '2025-03-01T09:01:30.000Z',
    status: 'succeeded',
    exitCode: 0,
    lr: 0.1,
    loss: [2, 1, 0.75, 0.5],
    summary: { final_loss: 0.5 },
    commit: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  },
  {
    runId: '20250301_100000',
    started: '2025-03-01T10:00:00.000Z',
    ended: '2025-03-01T10:00:12.500Z',
    status: 'failed',
    exitCode: 1,
    lr: 1,
    loss: [2, 8, 32],
    summary: {},
    commit: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
    stderr: [
      'epoch 0 loss=2.0',
      'Traceback (most recent call last):',
      '  File "train.py", line 40, in <module>',
      '    main()',
      '  File "train.py", line 31, in main',
      '    raise FloatingPointError("loss is NaN at step 3")',
      'FloatingPointError: loss is NaN at step 3',
      '',
    ].join('\n'),
    notes: 'Diverged | the learning rate is too high.\n',
  },
  {
    runId: '20250301_110000',
    started: '2025-03-01T11:00:00.000Z',
    ended: '2025-03-01T11:02:00.000Z',
    status: 'succeeded',
    exitCode: 0,
    lr: 0.01,
    loss: [2, 1.5, 1, 0.25],
    summary: { final_loss: 0.25, eval_split: 'test' },
    commit: 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed',
    extraArtifacts: { checkpoint: { path: 'model.pt', format: 'pytorch' } },
  },
];

const FIELD_NOTES = `# LR sweep

Three learning rates on the same MLP; a | pipe stays text.

## Observations

- lr 1.0 diverges at step 3
- lr 0.01 reaches the lowest loss
`;

/** Writes the vault (see the module comment) into a fresh temporary directory and opens it. */
export async function notebookVault(): Promise<Vault> {
  const root = tempDir('sv-notebook-');
  const vault = await Vault.init(root);
  const dir = path.join(root, SPECIMENS_DIR, NOTEBOOK_SPECIMEN);
  fs.mkdirSync(path.join(dir, RUNS_DIR), { recursive: true });
  fs.writeFileSync(
    path.join(dir, MANIFEST_FILE),
    encodeManifest({
      specimen_id: NOTEBOOK_SPECIMEN,
      created: '2025-03-01T08:00:00.000Z',
      taxonomy: { domain: 'training', method: 'fine_tuning' },
      model: 'mlp-2x64',
      status: 'active',
      tags: ['sweep', 'lr'],
      description: 'Learning-rate sweep of a small MLP | baseline',
      hypothesis: 'A learning rate of 0.01 reaches a lower loss than 0.1.',
    }),
  );
  fs.writeFileSync(path.join(dir, FIELD_NOTES_FILE), FIELD_NOTES);
  for (const r of RUNS) {
    const runDir = path.join(dir, RUNS_DIR, r.runId);
    fs.mkdirSync(runDir);
    const info = await writeMetricsFile(
      path.join(runDir, 'metrics.parquet'),
      { step: r.loss.map((_, i) => i), loss: r.loss },
      r.runId,
    );
    if (r.stderr !== undefined) fs.writeFileSync(path.join(runDir, STDERR_FILE), r.stderr);
    if (r.notes !== undefined) fs.writeFileSync(path.join(runDir, RUN_NOTES_FILE), r.notes);
    fs.writeFileSync(
      path.join(runDir, MANIFEST_FILE),
      encodeManifest({
        run_id: r.runId,
        run_timestamp: r.started,
        started: r.started,
        ended: r.ended,
        status: r.status,
        exit_code: r.exitCode,
        command: `python train.py --lr ${r.lr}`,
        seeds: { global: 7 },
        config: { lr: r.lr, epochs: r.loss.length },
        summary: r.summary,
        git: { commit: r.commit, branch: 'main', dirty: false },
        host: { hostname: 'lab-1', os: 'Linux 6.1', cpu_cores: 8 },
        runtime: { python: '3.11.9' },
        artifacts: {
          metrics: { path: 'metrics.parquet', format: 'parquet', rows: info.rows },
          ...(r.extraArtifacts ?? {}),
        },
      }),
    );
  }
  fs.writeFileSync(
    path.join(dir, SUPERSESSIONS_FILE),
    encodeManifest({
      '20250301_090000': {
        by: '20250301_110000',
        reason: 'evaluation used the training split',
        at: '2025-03-02T08:00:00.000Z',
      },
    }),
  );
  return vault;
}
