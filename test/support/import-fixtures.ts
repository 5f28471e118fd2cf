// Fixtures of `specimen import`, written by the real tools (MLflow, TensorBoard, W&B, Trackio, pyarrow for
// Neptune's exporter format) from the virtual environment `.venv-import` that .ci/run creates. Generated
// once into a temporary directory keyed by the generator's content and reused by every test file; skipped
// loudly when the venv is absent locally, and a failure in CI (CI=true), like test/support/python.ts.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, tempDir } from './helpers.js';

export const IMPORT_PYTHON =
  process.env.SPECIMEN_IMPORT_PYTHON ?? path.join(REPO_ROOT, '.venv-import', 'bin', 'python');
const GENERATOR = path.join(REPO_ROOT, 'scripts', 'import-fixtures', 'generate.py');

let cached: string | null | undefined;

/** Whether the import venv is there (throws in CI when it is not). */
export function importVenvAvailable(): boolean {
  if (fs.existsSync(IMPORT_PYTHON)) return true;
  if (process.env.CI) {
    throw new Error(
      `${IMPORT_PYTHON} is missing; CI must create it (scripts/import-fixtures/generate.sh does, from .ci/run)`,
    );
  }
  console.warn(
    `\n*** SKIPPING import tests: no ${IMPORT_PYTHON} (create it with scripts/import-fixtures/generate.sh) ***\n`,
  );
  return false;
}

/**
 * Directory holding every source's fixtures, generating them on first use. Several test files may ask at
 * once (two workers): the first takes a lock directory and generates, the others wait for its marker.
 */
export function importFixtures(): string {
  if (cached) return cached;
  const given = process.env.SPECIMEN_IMPORT_FIXTURES;
  if (given && fs.existsSync(path.join(given, 'versions.json'))) {
    cached = given;
    return given;
  }
  const key = createHash('sha256').update(fs.readFileSync(GENERATOR)).update(IMPORT_PYTHON).digest('hex');
  const dir = path.join(os.tmpdir(), `specimen-import-fixtures-${key.slice(0, 12)}`);
  const done = path.join(dir, 'versions.json');
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 15 * 60_000;
  while (!fs.existsSync(done)) {
    try {
      fs.mkdirSync(lock);
    } catch {
      if (Date.now() > deadline) throw new Error(`import fixtures: gave up waiting for ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
      continue;
    }
    try {
      fs.rmSync(dir, { recursive: true, force: true });
      const out = execFileSync(IMPORT_PYTHON, [GENERATOR, dir], {
        encoding: 'utf8',
        env: { ...process.env, WANDB_MODE: 'offline', WANDB_SILENT: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
        maxBuffer: 64 * 1024 * 1024,
      });
      console.log(out.trim().split('\n').at(-1));
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
  cached = dir;
  return dir;
}

/** Non-finite numbers are strings in the expected JSON (JSON has no NaN); this turns them back. */
export function num(v: unknown): number {
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  return Number(v);
}

/** Reads `<fixtures>/<source>/<file>` as JSON. */
export function expectedJson<T>(dir: string, source: string, file = 'expected.json'): T {
  return JSON.parse(fs.readFileSync(path.join(dir, source, file), 'utf8')) as T;
}

/** A run that an import wrote, with its decoded manifest. */
export interface ImportedRunOnDisk {
  specimenId: string;
  runId: string;
  dir: string;
  manifest: Record<string, unknown> & { imported_from: Record<string, unknown> };
}

/** Every imported run of a vault, keyed by the source run ID recorded in its manifest. */
export async function importedRuns(vault: string): Promise<Map<string, ImportedRunOnDisk>> {
  const { readManifestFile } = await import('../../src/format/msgpack.js');
  const out = new Map<string, ImportedRunOnDisk>();
  const specimens = path.join(vault, 'specimens');
  for (const specimenId of fs.readdirSync(specimens)) {
    const runsDir = path.join(specimens, specimenId, 'runs');
    if (!fs.existsSync(runsDir)) continue;
    for (const runId of fs.readdirSync(runsDir)) {
      const dir = path.join(runsDir, runId);
      const manifest = (await readManifestFile(
        path.join(dir, 'manifest.msgpack'),
      )) as ImportedRunOnDisk['manifest'];
      out.set(String(manifest.imported_from.source_run_id), { specimenId, runId, dir, manifest });
    }
  }
  return out;
}

/** One metric of an imported run as (step, value, wall time in seconds) points, rows where it is null left out. */
export async function seriesOf(
  run: ImportedRunOnDisk,
): Promise<Map<string, { step: number; value: number; wallTime: number }[]>> {
  const { readRunMetrics } = await import('../../src/storage/metrics/read.js');
  const table = await readRunMetrics(run.dir, run.runId);
  const out = new Map<string, { step: number; value: number; wallTime: number }[]>();
  if (!table) return out;
  const names = table.schema.fields.map((f) => f.name);
  const step = table.getChild('step')!;
  const rowWall = table.getChild('wall_time');
  for (const name of names) {
    if (name === 'step' || name === 'run_id' || name === 'wall_time' || name.startsWith('wall_time.'))
      continue;
    const col = table.getChild(name)!;
    const own = table.getChild(`wall_time.${name}`);
    const points: { step: number; value: number; wallTime: number }[] = [];
    for (let i = 0; i < table.numRows; i++) {
      const v = col.get(i) as number | null;
      if (v === null) continue;
      const w = (own?.get(i) ?? rowWall?.get(i) ?? Number.NaN) as number;
      points.push({ step: Number(step.get(i)), value: v, wallTime: w });
    }
    out.set(name, points);
  }
  return out;
}

/** Sort key for comparing series regardless of the order a reader returns them in. */
export function byStepTime(
  a: { step: number; wallTime: number },
  b: { step: number; wallTime: number },
): number {
  return a.step - b.step || a.wallTime - b.wallTime;
}

/** An empty vault in a temporary directory, to import into. */
export function newVault(prefix = 'sv-import-'): string {
  const dir = tempDir(prefix);
  fs.writeFileSync(path.join(dir, 'specimen-vault.json'), '{"format_version": 1}\n');
  fs.mkdirSync(path.join(dir, 'specimens'));
  return dir;
}
