// System metrics of `specimen run`: a real protocol (a shell and the Node.js process it starts) allocates
// memory; the runner samples the process tree into system.jsonl, sealing converts it to system.parquet,
// and DuckDB reads the peak back.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openMemory, quoteLiteral } from '../../src/duckdb/node-api.js';
import { MANIFEST_FILE } from '../../src/format/layout.js';
import { readManifestFile, writeManifestFile } from '../../src/format/msgpack.js';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { runCli, tempDir } from '../support/helpers.js';

let vaultDir: string;
const ALLOC = 300 * 1024 * 1024;
// Touches every page of ALLOC bytes, so they are resident, and holds them long enough to be sampled.
const ALLOCATE = `const b = Buffer.alloc(${ALLOC}, 1); setTimeout(() => console.log(b.length), 1500);`;

async function newSpecimen(id: string): Promise<void> {
  const r = await runCli(['new', id, '--domain', 'training', '--method', 'fine_tuning'], { cwd: vaultDir });
  expect(r.code, r.stderr).toBe(0);
}

async function onlyRun(id: string) {
  const [run, ...rest] = await (await SpecimenStorage.open(id, { vault: vaultDir })).listRunInfo();
  expect(rest).toHaveLength(0);
  return run!;
}

beforeAll(async () => {
  vaultDir = tempDir('sv-system-');
  expect((await runCli(['init', vaultDir])).code).toBe(0);
});

describe.runIf(process.platform === 'linux')('specimen run system metrics', () => {
  it('samples the protocol process tree into system.parquet; its peak RSS exceeds what the protocol allocated', async () => {
    const id = '2025_01_02_system_alloc';
    await newSpecimen(id);
    // The allocating process is a grandchild of the runner (under sh), so only a tree sum sees it.
    const r = await runCli(
      [
        'run',
        id,
        '--system-interval',
        '0.2',
        '--',
        'sh',
        '-c',
        `${JSON.stringify(process.execPath)} -e '${ALLOCATE}'; true`,
      ],
      { cwd: vaultDir },
    );
    expect(r.code, r.stderr).toBe(0);
    const run = await onlyRun(id);
    expect(run.status).toBe('succeeded');
    const file = path.join(run.path, 'system.parquet');
    expect(fs.existsSync(file)).toBe(true);
    const db = await openMemory();
    let row: { n: number; peak: bigint; cpu: number; first: number } | undefined;
    try {
      const reader = await db.connection.runAndReadAll(
        `SELECT count(*)::INTEGER AS n, max(rss_bytes)::BIGINT AS peak, max(cpu_percent)::DOUBLE AS cpu,
                min(elapsed_s)::DOUBLE AS first FROM read_parquet(${quoteLiteral(file)})`,
      );
      row = (reader.getRowObjectsJS() as (typeof row)[])[0];
      expect(row!.n).toBeGreaterThanOrEqual(3);
      expect(Number(row!.peak)).toBeGreaterThan(ALLOC);
      expect(row!.cpu).toBeGreaterThan(0);
      expect(row!.first).toBeGreaterThanOrEqual(0);
    } finally {
      db.close();
    }
    expect(run.manifest?.system_sample_failures).toBeUndefined();
    // The peaks are recorded with the run and become columns of the catalog's `runs`.
    const system = run.manifest?.system as { samples: number; peak_rss_bytes: number } | undefined;
    expect(system?.samples).toBe(row!.n);
    expect(system?.peak_rss_bytes).toBe(Number(row!.peak));
    expect((await runCli(['index'], { cwd: vaultDir })).code).toBe(0);
    const q = await runCli(
      [
        'query',
        `SELECT peak_rss_bytes, peak_gpu_memory_bytes FROM runs WHERE specimen_id = '${id}'`,
        '--format',
        'json',
      ],
      { cwd: vaultDir },
    );
    expect(q.code, q.stderr).toBe(0);
    const [catalogRow] = JSON.parse(q.stdout) as {
      peak_rss_bytes: number;
      peak_gpu_memory_bytes: number | null;
    }[];
    expect(catalogRow!.peak_rss_bytes).toBeGreaterThan(ALLOC);
    expect(catalogRow!.peak_rss_bytes).toBe(system?.peak_rss_bytes);
  });

  it('the catalog computes the peaks from system.parquet for runs whose manifest does not record them', async () => {
    const id = '2025_01_02_system_backfill';
    await newSpecimen(id);
    const query = async () => {
      const q = await runCli(
        [
          'query',
          `SELECT run_id, peak_rss_bytes, peak_gpu_memory_bytes FROM runs WHERE specimen_id = '${id}' ORDER BY run_id`,
          '--format',
          'json',
        ],
        { cwd: vaultDir },
      );
      expect(q.code, q.stderr).toBe(0);
      return JSON.parse(q.stdout) as {
        peak_rss_bytes: number | null;
        peak_gpu_memory_bytes: number | null;
      }[];
    };
    const expected: number[] = [];
    // Twice: the first indexed by a whole build, the second by an update of the existing catalog.
    for (let i = 0; i < 2; i++) {
      const r = await runCli(
        ['run', id, '--system-interval', '0.2', '--', process.execPath, '-e', ALLOCATE],
        { cwd: vaultDir },
      );
      expect(r.code, r.stderr).toBe(0);
      const runs = await (await SpecimenStorage.open(id, { vault: vaultDir })).listRunInfo();
      const run = runs.at(-1)!;
      const system = run.manifest?.system as { peak_rss_bytes: number };
      expected.push(system.peak_rss_bytes);
      // As sealed before the manifest's `system` recorded peaks.
      const file = path.join(run.path, MANIFEST_FILE);
      const { system: _dropped, ...older } = await readManifestFile(file);
      fs.chmodSync(file, 0o644);
      await writeManifestFile(file, older);
      expect((await runCli(['index'], { cwd: vaultDir })).code).toBe(0);
      const rows = await query();
      expect(rows).toHaveLength(i + 1);
      expect(rows.map((row) => row.peak_rss_bytes)).toEqual(expected);
      expect(rows.every((row) => row.peak_gpu_memory_bytes === null)).toBe(true);
    }
    expect(expected[0]).toBeGreaterThan(ALLOC);
  });

  it('--no-system writes no system metrics', async () => {
    const id = '2025_01_02_system_off';
    await newSpecimen(id);
    const r = await runCli(
      ['run', id, '--no-system', '--', process.execPath, '-e', 'setTimeout(() => {}, 300)'],
      {
        cwd: vaultDir,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const run = await onlyRun(id);
    expect(fs.existsSync(path.join(run.path, 'system.parquet'))).toBe(false);
  });

  it("tells the protocol's Python package not to sample too, and the vault config turns sampling off", async () => {
    const id = '2025_01_02_system_env';
    await newSpecimen(id);
    // The child sees SPECIMEN_SYSTEM_INTERVAL=off while the runner samples, so the Python package stays quiet.
    const r = await runCli(
      [
        'run',
        id,
        '--system-interval',
        '0.2',
        '--',
        process.execPath,
        '-e',
        'console.log("I=" + process.env.SPECIMEN_SYSTEM_INTERVAL)',
      ],
      { cwd: vaultDir },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('I=off');
    const configFile = path.join(vaultDir, 'specimen-vault.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    fs.writeFileSync(configFile, JSON.stringify({ ...config, system: { interval_s: null } }));
    try {
      const id2 = '2025_01_02_system_cfg_off';
      await newSpecimen(id2);
      const r2 = await runCli(['run', id2, '--', process.execPath, '-e', 'setTimeout(() => {}, 300)'], {
        cwd: vaultDir,
      });
      expect(r2.code, r2.stderr).toBe(0);
      expect(fs.existsSync(path.join((await onlyRun(id2)).path, 'system.parquet'))).toBe(false);
    } finally {
      fs.writeFileSync(configFile, JSON.stringify(config));
    }
  });

  it('refuses a --system-interval that is not a positive number of seconds', async () => {
    const r = await runCli(['run', '2025_01_02_system_off', '--system-interval', 'soon'], { cwd: vaultDir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--system-interval must be a positive number of seconds, got "soon"');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
