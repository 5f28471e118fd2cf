import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { catalogStatePath, readCatalogState } from '../../../src/catalog/build/delta.js';
import { locateCaret } from '../../../src/catalog/errors.js';
import {
  CatalogMissingError,
  indexVault,
  QueryNotAllowedError,
  SqlError,
  VaultQuery,
} from '../../../src/catalog/index.js';
import { jsonText, toTimestamp } from '../../../src/catalog/json.js';
import { exitCodeOf } from '../../../src/cli/exit.js';
import { openMemory, quoteLiteral } from '../../../src/duckdb/node-api.js';
import { isVaultError } from '../../../src/errors.js';
import { encodeManifest, type PlainObject } from '../../../src/format/msgpack.js';
import { SpecimenStorage } from '../../../src/storage/specimen-storage.js';
import { Vault } from '../../../src/storage/vault.js';
import { copyTree, REFERENCE_VAULT, tempDir } from '../../support/helpers.js';

const DEMO = 'example_2024_12_19_synthetic_demo';
const VN = '2025_12_22_vn_comprehensive_experiments';
const made: string[] = [];

afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A writable copy of the reference vault (the fixture itself is read-only). */
function referenceCopy(): string {
  const dir = tempDir('sv-catalog-');
  made.push(dir);
  const root = path.join(dir, 'vault');
  copyTree(REFERENCE_VAULT, root);
  return root;
}

function emptyVault(): string {
  const dir = tempDir('sv-catalog-');
  made.push(dir);
  fs.mkdirSync(path.join(dir, 'specimens'));
  return dir;
}

/** Runs one query on a plain DuckDB session (not the library's) and returns row objects. */
async function duck(sql: string): Promise<Record<string, unknown>[]> {
  const db = await openMemory();
  try {
    return (await db.connection.runAndReadAll(sql)).getRowObjectsJS();
  } finally {
    db.close();
  }
}

async function writeParquet(file: string, select: string): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = await openMemory();
  try {
    await db.connection.run(`COPY (${select}) TO ${quoteLiteral(file)} (FORMAT parquet)`);
  } finally {
    db.close();
  }
}

function writeSpecimen(root: string, id: string, extra: PlainObject = {}): string {
  const dir = path.join(root, 'specimens', id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'manifest.msgpack'),
    encodeManifest({
      specimen_id: id,
      created: '2025-01-02T03:04:05.123456+01:00',
      taxonomy: { domain: 'training', method: 'fine_tuning' },
      model: 'toy',
      status: 'active',
      tags: ['toy'],
      description: 'a test specimen',
      ...extra,
    }),
  );
  return dir;
}

/** A run as sealing leaves it: metrics.parquet (step, loss, acc, run_id) and a sealed manifest. */
async function writeSealedRun(
  root: string,
  id: string,
  runId: string,
  options: { rows?: number; summary?: PlainObject[]; extra?: PlainObject } = {},
): Promise<string> {
  const dir = path.join(root, 'specimens', id, 'runs', runId);
  const rows = options.rows ?? 10;
  await writeParquet(
    path.join(dir, 'metrics.parquet'),
    `SELECT i::BIGINT AS step, 1.0 / (i + 1) AS loss, i / ${rows}.0 AS acc, ${quoteLiteral(runId)} AS run_id FROM range(${rows}) t(i)`,
  );
  const bytes = fs.statSync(path.join(dir, 'metrics.parquet')).size;
  const metrics: PlainObject = {
    path: 'metrics.parquet',
    format: 'parquet',
    bytes,
    sha256: '0'.repeat(64),
    rows,
    columns: ['step', 'loss', 'acc', 'run_id'],
    column_types: { step: 'BIGINT', loss: 'DOUBLE', acc: 'DOUBLE', run_id: 'VARCHAR' },
  };
  if (options.summary) metrics.summary = options.summary;
  fs.writeFileSync(
    path.join(dir, 'manifest.msgpack'),
    encodeManifest({
      run_id: runId,
      run_timestamp: '2025-01-02T10:00:00Z',
      started: '2025-01-02T10:00:00Z',
      ended: '2025-01-02T10:01:30.5Z',
      status: 'succeeded',
      seeds: { global: 1 },
      config: { lr: 0.01, big: 2n ** 60n },
      summary: { final_loss: 0.1, diverged: Number.NaN },
      artifacts: { metrics },
      files: { 'metrics.parquet': { bytes, sha256: '0'.repeat(64) } },
      sealed_at: '2025-01-02T10:01:31Z',
      command: ['node', 'protocol.ts', '--fast'],
      git: { commit: 'abc123' },
      exit_code: 0,
      ...options.extra,
    }),
  );
  return dir;
}

describe('indexVault on the reference vault', () => {
  it('indexes the two good specimens, warns about the corrupt and the missing manifest', async () => {
    const root = referenceCopy();
    const warned: string[] = [];
    const report = await indexVault(root, { onWarning: (m) => warned.push(m) });
    expect(report.catalogPath).toBe(path.join(root, 'vault.duckdb'));
    expect(report.full).toBe(true);
    expect(report.specimens).toEqual({ total: 4, indexed: 2, unchanged: 0, skipped: 2, removed: 0 });
    expect(report.runs).toMatchObject({ total: 4, indexed: 4 });
    expect(report.nothingIndexable).toBe(false);
    expect(report.warnings).toEqual(warned);
    expect(warned).toHaveLength(2);
    expect(warned.find((w) => w.includes('2025_01_02_corrupt_manifest'))).toMatch(/cannot decode/);
    expect(warned.find((w) => w.includes('2025_01_03_no_manifest'))).toMatch(/no manifest\.msgpack/);

    const q = await VaultQuery.open(root);
    try {
      const specimens = await q.rows(
        'SELECT specimen_id, run_count, latest_run, tags, domain, path FROM catalog ORDER BY 1',
      );
      expect(specimens).toEqual([
        {
          specimen_id: VN,
          run_count: 3,
          latest_run: '20251222_201819',
          tags: ['vn', 'gemma-2-2b', 'layer_5', 'comprehensive'],
          domain: 'interpretability',
          path: `specimens/${VN}`,
        },
        {
          specimen_id: DEMO,
          run_count: 1,
          latest_run: 'strata',
          tags: ['demo', 'example', 'synthetic'],
          domain: 'interpretability',
          path: `specimens/${DEMO}`,
        },
      ]);
      const runs = await q.rows('SELECT specimen_id, run_id, status, is_latest FROM runs ORDER BY 1, 2');
      expect(runs.filter((r) => r.specimen_id === VN).map((r) => r.run_id)).toEqual([
        '20251222_201718',
        '20251222_201819',
        'strata',
      ]);
      expect(runs.filter((r) => r.specimen_id === DEMO)).toEqual([
        { specimen_id: DEMO, run_id: 'strata', status: 'succeeded', is_latest: true },
      ]);

      // The Python implementation's documented query, as written.
      const rows = await q.search(`SELECT step, loss, accuracy FROM exp_${DEMO} WHERE step >= 50`);
      expect(rows.numRows).toBe(50);
      expect(rows.schema.fields.map((f) => f.name)).toEqual(['step', 'loss', 'accuracy']);

      const vnRuns = await q.rows(`SELECT run_id, count(*) AS n FROM exp_${VN} GROUP BY ALL ORDER BY 1`);
      expect(vnRuns).toEqual([
        { run_id: '20251222_201718', n: 75 },
        { run_id: '20251222_201819', n: 75 },
        { run_id: 'strata', n: 75 },
      ]);

      // Legacy strata metrics have no summary stored anywhere: computed from the file, like DuckDB does.
      const [loss] = await q.rows(
        `SELECT "count", "min", "max", "first", "last", step_of_min FROM metric_summaries WHERE specimen_id = '${DEMO}' AND metric = 'loss'`,
      );
      const file = path.join(root, 'specimens', DEMO, 'strata', 'metrics.parquet');
      const [own] = await duck(
        `SELECT count(loss) AS n, min(loss) AS mn, max(loss) AS mx, arg_min(step, loss) AS s FROM read_parquet(${quoteLiteral(file)})`,
      );
      expect(loss?.count).toBe(100);
      expect(loss?.min).toBe(own?.mn);
      expect(loss?.max).toBe(own?.mx);
      expect(loss?.step_of_min).toBe(Number(own?.s));
      const metricNames = await q.rows(
        `SELECT list(metric ORDER BY metric) AS m FROM metric_summaries WHERE specimen_id = '${DEMO}'`,
      );
      expect(metricNames[0]?.m).toEqual(['accuracy', 'entropy', 'loss']);

      // Skipped specimens are nowhere in the catalog.
      const skipped = await q.rows(
        "SELECT count(*) AS n FROM runs WHERE specimen_id IN ('2025_01_02_corrupt_manifest', '2025_01_03_no_manifest')",
      );
      expect(skipped[0]?.n).toBe(0);
    } finally {
      q.close();
    }
  });

  it('queries one metric across all runs through the metrics view', async () => {
    const root = referenceCopy();
    await indexVault(root);
    const q = await VaultQuery.open(root);
    try {
      const purity = await q.rows(
        "SELECT specimen_id, run_id, count(*) AS n, min(value) AS lo FROM metrics WHERE metric = 'nl_purity' GROUP BY ALL ORDER BY run_id",
      );
      expect(purity.map((r) => [r.specimen_id, r.run_id, r.n])).toEqual([
        [VN, '20251222_201718', 75],
        [VN, '20251222_201819', 75],
        [VN, 'strata', 75],
      ]);
      const file = path.join(root, 'specimens', VN, 'runs', '20251222_201718', 'metrics.parquet');
      const [own] = await duck(`SELECT min(nl_purity) AS lo FROM read_parquet(${quoteLiteral(file)})`);
      expect(purity[0]?.lo).toBe(own?.lo);
      const loss = await q.rows(
        "SELECT specimen_id, run_id, step, value FROM metrics WHERE metric = 'loss' AND step = 3",
      );
      expect(loss).toHaveLength(1);
      expect(loss[0]).toMatchObject({ specimen_id: DEMO, run_id: 'strata', step: 3 });
      // A VARCHAR column is no metric.
      const text = await q.rows("SELECT count(*) AS n FROM metrics WHERE metric = 'category'");
      expect(text[0]?.n).toBe(0);
    } finally {
      q.close();
    }
  });

  it('says so when nothing at all can be indexed', async () => {
    const root = emptyVault();
    fs.mkdirSync(path.join(root, 'specimens', '2025_01_01_broken'));
    const report = await indexVault(root);
    expect(report.nothingIndexable).toBe(true);
    expect(report.specimens).toMatchObject({ total: 1, indexed: 0, skipped: 1 });
    expect(report.warnings[0]).toMatch(/2025_01_01_broken: no manifest\.msgpack/);
    const q = await VaultQuery.open(root);
    try {
      expect(await q.rows('SELECT count(*) AS n FROM catalog')).toEqual([{ n: 0 }]);
      expect(await q.rows('SELECT count(*) AS n FROM metrics')).toEqual([{ n: 0 }]);
    } finally {
      q.close();
    }
  });

  it('refuses a directory that is no vault, and VaultQuery a vault never indexed', async () => {
    const dir = tempDir('sv-catalog-');
    made.push(dir);
    await expect(indexVault(dir)).rejects.toMatchObject({ _tag: 'VaultNotFoundError' });
    const root = emptyVault();
    const err = await VaultQuery.open(root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CatalogMissingError);
    expect(exitCodeOf(err)).toBe(3);
  });
});

describe('incremental index', () => {
  async function twoSpecimens(): Promise<string> {
    const root = emptyVault();
    for (const id of ['2025_01_02_alpha', '2025_01_02_beta']) {
      writeSpecimen(root, id);
      await writeSealedRun(root, id, '20250102_100000');
    }
    return root;
  }

  async function snapshot(root: string): Promise<Record<string, unknown>> {
    const q = await VaultQuery.open(root);
    try {
      return {
        catalog: await q.rows('SELECT * FROM catalog ORDER BY specimen_id'),
        runs: await q.rows('SELECT * FROM runs ORDER BY specimen_id, run_id'),
        artifacts: await q.rows('SELECT * FROM artifacts ORDER BY specimen_id, run_id, name'),
        summaries: await q.rows('SELECT * FROM metric_summaries ORDER BY specimen_id, run_id, metric'),
        metrics: await q.rows(
          'SELECT specimen_id, run_id, metric, count(*) AS n, sum(value) AS s FROM metrics GROUP BY ALL ORDER BY ALL',
        ),
        alpha: await q.rows(
          'SELECT run_id, count(*) AS n FROM exp_2025_01_02_alpha GROUP BY ALL ORDER BY ALL',
        ),
        views: await q.rows('SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1'),
      };
    } finally {
      q.close();
    }
  }

  it('re-reads only the specimen that changed, and matches a full rebuild', async () => {
    const root = await twoSpecimens();
    const first = await indexVault(root);
    expect(first.specimens).toMatchObject({ indexed: 2, unchanged: 0 });

    const again = await indexVault(root);
    expect(again.full).toBe(false);
    expect(again.specimens).toMatchObject({ total: 2, indexed: 0, unchanged: 2 });
    expect(again.runs).toMatchObject({ total: 2, indexed: 0, unchanged: 2 });

    await writeSealedRun(root, '2025_01_02_alpha', '20250103_090000', { rows: 4 });
    const incremental = await indexVault(root);
    expect(incremental.specimens).toMatchObject({ total: 2, indexed: 1, unchanged: 1, skipped: 0 });
    expect(incremental.runs).toEqual({ total: 3, indexed: 1, unchanged: 2, removed: 0 });
    const after = await snapshot(root);
    expect(after.alpha).toEqual([
      { run_id: '20250102_100000', n: 10 },
      { run_id: '20250103_090000', n: 4 },
    ]);
    const alphaRuns = (after.runs as Record<string, unknown>[]).filter(
      (r) => r.specimen_id === '2025_01_02_alpha',
    );
    expect(alphaRuns.map((r) => [r.run_id, r.is_latest])).toEqual([
      ['20250102_100000', false],
      ['20250103_090000', true],
    ]);
    expect((after.catalog as Record<string, unknown>[])[0]).toMatchObject({
      run_count: 2,
      latest_run: '20250103_090000',
    });

    await indexVault(root, { full: true });
    expect(await snapshot(root)).toEqual(after);
  });

  it('adds runs through the delta: the catalog file stays as it is, open readers see them at once', async () => {
    const root = await twoSpecimens();
    await indexVault(root);
    const file = path.join(root, 'vault.duckdb');
    const before = fs.readFileSync(file);
    const q = await VaultQuery.open(root);
    // A plain DuckDB client, as a notebook would open it.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const plain = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY', file_search_path: root });
    const con = await plain.connect();
    try {
      expect(await q.rows('SELECT count(*) AS n FROM runs')).toEqual([{ n: 2 }]);
      await writeSealedRun(root, '2025_01_02_alpha', '20250103_090000', { rows: 4 });
      await writeSealedRun(root, '2025_01_02_beta', '20250103_090000', { rows: 6 });
      const report = await indexVault(root);
      expect(report.specimens).toMatchObject({ indexed: 2, unchanged: 0 });
      expect(report.runs).toEqual({ total: 4, indexed: 2, unchanged: 2, removed: 0 });
      expect(fs.readFileSync(file).equals(before)).toBe(true);
      expect(
        await q.rows(
          "SELECT specimen_id, count(*) AS n, sum(value) AS s FROM metrics WHERE metric = 'loss' AND run_id = '20250103_090000' GROUP BY ALL ORDER BY ALL",
        ),
      ).toEqual([
        { specimen_id: '2025_01_02_alpha', n: 4, s: 1 + 1 / 2 + 1 / 3 + 1 / 4 },
        { specimen_id: '2025_01_02_beta', n: 6, s: 1 + 1 / 2 + 1 / 3 + 1 / 4 + 1 / 5 + 1 / 6 },
      ]);
      expect(
        await q.rows('SELECT run_id, count(*) AS n FROM exp_2025_01_02_beta GROUP BY ALL ORDER BY ALL'),
      ).toEqual([
        { run_id: '20250102_100000', n: 10 },
        { run_id: '20250103_090000', n: 6 },
      ]);
      const plainRows = (
        await con.runAndReadAll('SELECT specimen_id, run_count, latest_run FROM catalog ORDER BY specimen_id')
      ).getRowObjectsJS();
      expect(plainRows).toEqual([
        { specimen_id: '2025_01_02_alpha', run_count: 2, latest_run: '20250103_090000' },
        { specimen_id: '2025_01_02_beta', run_count: 2, latest_run: '20250103_090000' },
      ]);
      const latest = (
        await con.runAndReadAll('SELECT count(*) AS n FROM runs WHERE is_latest')
      ).getRowObjectsJS();
      expect(latest).toEqual([{ n: 2n }]);

      // A third run of alpha: the delta is rebuilt, still without touching the file.
      await writeSealedRun(root, '2025_01_02_alpha', '20250104_090000', { rows: 2 });
      const again = await indexVault(root);
      expect(again.specimens).toMatchObject({ indexed: 1, unchanged: 1 });
      expect(again.runs).toMatchObject({ total: 5, indexed: 1 });
      expect(fs.readFileSync(file).equals(before)).toBe(true);
      const nothing = await indexVault(root);
      expect(nothing.specimens).toMatchObject({ indexed: 0, unchanged: 2 });
      const viaDelta = await snapshot(root);
      await indexVault(root, { full: true });
      expect(fs.readFileSync(file).equals(before)).toBe(false);
      expect(await snapshot(root)).toEqual(viaDelta);
    } finally {
      con.closeSync();
      plain.closeSync();
      q.close();
    }
  });

  it('keeps reporting a specimen it cannot index while updating through the delta', async () => {
    const root = await twoSpecimens();
    const broken = path.join(root, 'specimens', '2025_01_02_gamma');
    fs.mkdirSync(broken);
    fs.writeFileSync(path.join(broken, 'manifest.msgpack'), Buffer.from([0xc1, 0xc1]));
    const first = await indexVault(root);
    expect(first.specimens).toMatchObject({ indexed: 2, skipped: 1 });
    expect(first.warnings.join('\n')).toContain('2025_01_02_gamma');
    const file = path.join(root, 'vault.duckdb');
    const before = fs.readFileSync(file);
    await writeSealedRun(root, '2025_01_02_alpha', '20250103_090000');
    const second = await indexVault(root);
    expect(second.specimens).toMatchObject({ indexed: 1, unchanged: 1, skipped: 1 });
    expect(second.warnings.join('\n')).toContain('2025_01_02_gamma');
    // The broken specimen changes but stays broken: still through the delta, still reported.
    await writeSealedRun(root, '2025_01_02_gamma', '20250103_090000');
    const third = await indexVault(root);
    expect(third.specimens).toMatchObject({ skipped: 1 });
    expect(third.warnings.join('\n')).toContain('2025_01_02_gamma');
    const fourth = await indexVault(root);
    expect(fourth.specimens).toMatchObject({ indexed: 0, skipped: 1 });
    expect(fourth.warnings.join('\n')).toContain('2025_01_02_gamma');
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    const q = await VaultQuery.open(root);
    try {
      expect(await q.rows('SELECT specimen_id, run_count FROM catalog ORDER BY 1')).toEqual([
        { specimen_id: '2025_01_02_alpha', run_count: 2 },
        { specimen_id: '2025_01_02_beta', run_count: 1 },
      ]);
    } finally {
      q.close();
    }
  });

  it('gets past a delta update that died half-way, and keeps only the current and previous delta', async () => {
    const root = await twoSpecimens();
    await indexVault(root);
    const state = readCatalogState(root)!;
    const gen = path.join(root, 'vault.duckdb.d', state.gen);
    const deltas = () =>
      fs
        .readdirSync(gen)
        .filter((n) => n.startsWith('delta-'))
        .sort();
    for (const [i, run] of ['20250103_090000', '20250104_090000', '20250105_090000'].entries()) {
      await writeSealedRun(root, '2025_01_02_alpha', run, { rows: 3 + i });
      await indexVault(root);
    }
    expect(deltas()).toEqual(['delta-2', 'delta-3']);
    expect(fs.readlinkSync(path.join(gen, 'delta'))).toBe('delta-3');
    // What an update killed before switching leaves: half a directory and a temporary link.
    fs.mkdirSync(path.join(gen, 'delta-4', 'm-0000'), { recursive: true });
    fs.writeFileSync(path.join(gen, 'delta-4', 'catalog.parquet'), 'half a file');
    fs.symlinkSync('delta-4', path.join(gen, 'delta.99999.tmp'));
    await writeSealedRun(root, '2025_01_02_beta', '20250106_090000', { rows: 2 });
    const report = await indexVault(root);
    expect(report.runs).toMatchObject({ total: 6, indexed: 1 });
    expect(fs.readlinkSync(path.join(gen, 'delta'))).toBe('delta-4');
    expect(deltas()).toEqual(['delta-3', 'delta-4']);
    expect(fs.existsSync(path.join(gen, 'delta.99999.tmp'))).toBe(false);
    const viaDelta = await snapshot(root);
    expect((viaDelta.runs as unknown[]).length).toBe(6);
    await indexVault(root, { full: true });
    expect(await snapshot(root)).toEqual(viaDelta);
  });

  it('rewrites the catalog file when a change needs it, and stays right', async () => {
    const root = await twoSpecimens();
    await indexVault(root);
    const file = path.join(root, 'vault.duckdb');
    const rewritten = async (change: () => unknown, options = {}): Promise<boolean> => {
      const before = fs.readFileSync(file);
      await change();
      await indexVault(root, options);
      return !fs.readFileSync(file).equals(before);
    };
    // A new specimen needs its view.
    expect(
      await rewritten(async () => {
        writeSpecimen(root, '2025_01_02_gamma');
        await writeSealedRun(root, '2025_01_02_gamma', '20250102_100000', { rows: 3 });
      }),
    ).toBe(true);
    // A metrics column the metrics view has no branch for.
    expect(
      await rewritten(() =>
        writeParquet(
          path.join(root, 'specimens', '2025_01_02_beta', 'runs', '20250105_000000', 'metrics.parquet'),
          "SELECT i::BIGINT AS step, i * 2.0 AS grad, '20250105_000000' AS run_id FROM range(5) t(i)",
        ),
      ),
    ).toBe(true);
    // A run whose file is listed in the catalog file goes.
    expect(
      await rewritten(() =>
        fs.rmSync(path.join(root, 'specimens', '2025_01_02_alpha', 'runs', '20250102_100000'), {
          recursive: true,
        }),
      ),
    ).toBe(true);
    // More changed specimens than the delta takes.
    expect(
      await rewritten(
        async () => {
          await writeSealedRun(root, '2025_01_02_alpha', '20250106_000000');
          await writeSealedRun(root, '2025_01_02_gamma', '20250106_000000');
        },
        { maxDeltaSpecimens: 1 },
      ),
    ).toBe(true);
    // The state beside the file gone: rewritten from what the file itself records.
    expect(
      await rewritten(async () => {
        fs.rmSync(path.join(root, 'vault.duckdb.d', 'state.json'));
        await writeSealedRun(root, '2025_01_02_beta', '20250107_000000');
      }),
    ).toBe(true);
    // A state file of the older format (one JSON object), as an earlier version wrote it.
    expect(
      await rewritten(async () => {
        const state = readCatalogState(root)!;
        expect(Object.keys(state.specimens).length).toBe(3);
        fs.writeFileSync(catalogStatePath(root), JSON.stringify(state));
        expect(readCatalogState(root)).toBeUndefined();
        await writeSealedRun(root, '2025_01_02_beta', '20250108_000000');
      }),
    ).toBe(true);
    expect(fs.readFileSync(catalogStatePath(root), 'utf8').split('\n')).toHaveLength(4);
    // A torn specimen line: not trusted either.
    expect(
      await rewritten(async () => {
        const text = fs.readFileSync(catalogStatePath(root), 'utf8');
        fs.writeFileSync(catalogStatePath(root), text.slice(0, text.lastIndexOf('\t')));
        expect(readCatalogState(root)).toBeUndefined();
        await writeSealedRun(root, '2025_01_02_alpha', '20250108_000000');
      }),
    ).toBe(true);
    // A catalog file that is not the one the state describes (restored from a copy).
    fs.copyFileSync(file, `${file}.copy`);
    fs.renameSync(`${file}.copy`, file);
    expect(await rewritten(() => writeSealedRun(root, '2025_01_02_gamma', '20250107_000000'))).toBe(true);
    // After all that, the same answers as a rebuild from scratch.
    const q = await VaultQuery.open(root);
    try {
      expect(await q.rows('SELECT DISTINCT metric FROM metrics ORDER BY 1')).toEqual([
        { metric: 'acc' },
        { metric: 'grad' },
        { metric: 'loss' },
      ]);
    } finally {
      q.close();
    }
    const incremental = await snapshot(root);
    await indexVault(root, { full: true });
    expect(await snapshot(root)).toEqual(incremental);
  });

  it('follows removed runs and specimens, manifest edits, supersessions and broken manifests', async () => {
    const root = await twoSpecimens();
    await writeSealedRun(root, '2025_01_02_alpha', '20250103_090000');
    await indexVault(root);

    // A manifest edit (atomic rename, as the library writes) and a supersession record.
    const vault = await Vault.open(root);
    await vault.updateSpecimenManifest('2025_01_02_alpha', (m) => {
      m.tags = ['toy', 'edited'];
    });
    fs.writeFileSync(
      path.join(root, 'specimens', '2025_01_02_alpha', 'supersessions.msgpack'),
      encodeManifest({
        '20250102_100000': { by: '20250103_090000', reason: 'bug', at: '2025-01-03T10:00:00Z' },
      }),
    );
    let report = await indexVault(root);
    expect(report.specimens).toMatchObject({ indexed: 1, unchanged: 1 });
    expect(report.runs.indexed).toBe(0);
    let q = await VaultQuery.open(root);
    expect(await q.rows("SELECT tags FROM catalog WHERE specimen_id = '2025_01_02_alpha'")).toEqual([
      { tags: ['toy', 'edited'] },
    ]);
    expect(
      await q.rows(
        "SELECT run_id, superseded_by FROM runs WHERE specimen_id = '2025_01_02_alpha' ORDER BY 1",
      ),
    ).toEqual([
      { run_id: '20250102_100000', superseded_by: '20250103_090000' },
      { run_id: '20250103_090000', superseded_by: null },
    ]);
    q.close();

    // A run removed, then a whole specimen, then a manifest broken.
    fs.rmSync(path.join(root, 'specimens', '2025_01_02_alpha', 'runs', '20250103_090000'), {
      recursive: true,
    });
    report = await indexVault(root);
    expect(report.runs).toMatchObject({ total: 2, indexed: 0, removed: 1 });
    fs.rmSync(path.join(root, 'specimens', '2025_01_02_beta'), { recursive: true });
    report = await indexVault(root);
    expect(report.specimens).toMatchObject({ total: 1, removed: 1, unchanged: 1 });
    fs.writeFileSync(
      path.join(root, 'specimens', '2025_01_02_alpha', 'manifest.msgpack'),
      Buffer.from([0xc1]),
    );
    report = await indexVault(root);
    expect(report.nothingIndexable).toBe(true);
    expect(report.specimens).toMatchObject({ skipped: 1, removed: 1 });
    q = await VaultQuery.open(root);
    try {
      expect(await q.rows('SELECT count(*) AS n FROM runs')).toEqual([{ n: 0 }]);
      expect(await q.rows("SELECT count(*) AS n FROM metrics WHERE metric = 'loss'")).toEqual([{ n: 0 }]);
      expect(await q.rows("SELECT view_name FROM duckdb_views() WHERE view_name LIKE 'exp_%'")).toEqual([]);
    } finally {
      q.close();
    }
    // Still broken: reported again on the next index, without anything being rewritten.
    const again = await indexVault(root);
    expect(again.warnings).toHaveLength(1);
    expect(again.specimens).toMatchObject({ skipped: 1, indexed: 0, unchanged: 0 });
  });

  it('keeps the metrics view right when its file lists span several chunks', async () => {
    const root = emptyVault();
    const db = await openMemory();
    // Sealed runs with their columns and a (here empty) stored summary: no file needs opening to index them.
    const manifest = (runId: string) =>
      encodeManifest({
        run_id: runId,
        run_timestamp: '2025-01-02T10:00:00Z',
        started: '2025-01-02T10:00:00Z',
        ended: '2025-01-02T10:00:01Z',
        status: 'succeeded',
        seeds: {},
        config: {},
        summary: {},
        artifacts: {
          metrics: {
            path: 'metrics.parquet',
            format: 'parquet',
            rows: 2,
            columns: ['step', 'loss', 'run_id'],
            column_types: { step: 'BIGINT', loss: 'DOUBLE', run_id: 'VARCHAR' },
            summary: [],
          },
        },
        files: {},
        sealed_at: '2025-01-02T10:00:01Z',
      });
    const addRun = async (id: string, runId: string, value: number) => {
      const dir = path.join(root, 'specimens', id, 'runs', runId);
      fs.mkdirSync(dir, { recursive: true });
      await db.connection.run(
        `COPY (SELECT range AS step, ${value}::DOUBLE + range AS loss, ${quoteLiteral(runId)} AS run_id FROM range(2)) ` +
          `TO ${quoteLiteral(path.join(dir, 'metrics.parquet'))} (FORMAT parquet)`,
      );
      fs.writeFileSync(path.join(dir, 'manifest.msgpack'), manifest(runId));
    };
    const ids = Array.from({ length: 300 }, (_, s) => `2025_01_02_s${String(s).padStart(3, '0')}`);
    try {
      for (const [s, id] of ids.entries()) {
        writeSpecimen(root, id);
        await addRun(id, '20250102_100000', s);
        await addRun(id, '20250102_100001', s + 0.5);
      }
      await indexVault(root);
      const stats = async () => {
        const q = await VaultQuery.open(root);
        try {
          return await q.rows(
            "SELECT count(*) AS n, sum(value) AS total, count(DISTINCT specimen_id) AS specimens FROM metrics WHERE metric = 'loss'",
          );
        } finally {
          q.close();
        }
      };
      const q = await VaultQuery.open(root);
      // 600 files: more than one chunk.
      expect(await q.rows('SELECT max(chunks) AS c, sum(files) AS f FROM metric_branches')).toEqual([
        { c: 2, f: 600 },
      ]);
      q.close();
      expect(await stats()).toEqual([{ n: 1200, total: 2 * (2 * 44850 + 300 * 0.5) + 600, specimens: 300 }]);

      await addRun(ids[7]!, '20250103_100000', 1000);
      fs.rmSync(path.join(root, 'specimens', ids[200]!, 'runs', '20250102_100001'), { recursive: true });
      fs.rmSync(path.join(root, 'specimens', ids[201]!), { recursive: true });
      const report = await indexVault(root);
      expect(report.specimens).toMatchObject({ indexed: 2, removed: 1 });
      const incremental = await stats();
      await indexVault(root, { full: true });
      expect(await stats()).toEqual(incremental);
      expect(incremental[0]?.n).toBe(1200 + 2 - 2 - 4);
    } finally {
      db.close();
    }
  });

  it('rebuilds a catalog it cannot update, saying so', async () => {
    const root = await twoSpecimens();
    fs.writeFileSync(path.join(root, 'vault.duckdb'), 'not a database');
    const report = await indexVault(root);
    expect(report.full).toBe(true);
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toMatch(/could not be updated .*rebuilding it/);
    expect(report.specimens).toMatchObject({ indexed: 2 });
    // A catalog written with another schema version is rebuilt the same way.
    const db = await openMemory();
    await db.connection.run(`ATTACH ${quoteLiteral(path.join(root, 'vault.duckdb'))} AS v`);
    await db.connection.run(`UPDATE v.catalog_info SET "value" = '0' WHERE "key" = 'schema_version'`);
    db.close();
    const again = await indexVault(root);
    expect(again.full).toBe(true);
    expect(again.warnings[0]).toMatch(/schema version 0/);
    expect((await snapshot(root)).alpha).toEqual([{ run_id: '20250102_100000', n: 10 }]);
  });

  it('uses the summary stored by sealing instead of reading the file', async () => {
    const root = emptyVault();
    writeSpecimen(root, '2025_01_02_alpha');
    const stored = [
      {
        column: 'loss',
        count: 10,
        min: -42,
        max: 42,
        mean: 0,
        first: 1,
        last: 2,
        step_of_min: 7,
        step_of_max: 8,
      },
    ];
    await writeSealedRun(root, '2025_01_02_alpha', '20250102_100000', { summary: stored });
    await writeSealedRun(root, '2025_01_02_alpha', '20250102_100001');
    await indexVault(root);
    const q = await VaultQuery.open(root);
    try {
      const rows = await q.rows(
        'SELECT run_id, metric, "min", "max", step_of_min FROM metric_summaries ORDER BY 1, 2',
      );
      expect(rows).toEqual([
        { run_id: '20250102_100000', metric: 'loss', min: -42, max: 42, step_of_min: 7 },
        // No stored summary: computed from the file (acc is 0..0.9, loss 1/(i+1)).
        { run_id: '20250102_100001', metric: 'acc', min: 0, max: 0.9, step_of_min: 0 },
        { run_id: '20250102_100001', metric: 'loss', min: 0.1, max: 1, step_of_min: 9 },
      ]);
      const [run] = await q.rows(
        "SELECT config, summary, command, git_commit, exit_code, duration_s, started FROM runs WHERE run_id = '20250102_100000'",
      );
      expect(run).toEqual({
        config: { lr: 0.01, big: 2 ** 60 },
        summary: { final_loss: 0.1, diverged: 'NaN' },
        command: 'node protocol.ts --fast',
        git_commit: 'abc123',
        exit_code: 0,
        duration_s: 90.5,
        started: '2025-01-02T10:00:00.000Z',
      });
      // The int64 survives exactly in the JSON column.
      expect(await q.rows("SELECT config->>'big' AS big FROM runs WHERE run_id = '20250102_100000'")).toEqual(
        [{ big: String(2n ** 60n) }],
      );
      expect(await q.rows('SELECT created FROM catalog')).toEqual([
        { created: '2025-01-02T02:04:05.123456Z' },
      ]);
    } finally {
      q.close();
    }
  });

  it('shows a running run whose writer has gone as incomplete, without any file changing', async () => {
    const root = emptyVault();
    writeSpecimen(root, '2025_01_02_alpha');
    const dir = path.join(root, 'specimens', '2025_01_02_alpha', 'runs', '20250102_100000');
    fs.mkdirSync(dir, { recursive: true });
    const writer = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(
        path.join(dir, 'manifest.msgpack'),
        encodeManifest({
          run_id: '20250102_100000',
          run_timestamp: '2025-01-02T10:00:00Z',
          started: '2025-01-02T10:00:00Z',
          ended: null,
          status: 'running',
          seeds: {},
          config: {},
          summary: {},
          artifacts: {},
          owner: { pid: writer.pid!, host: os.hostname() },
        }),
      );
      await writeParquet(
        path.join(dir, 'metrics.parquet'),
        'SELECT range AS step, range * 2.0 AS loss FROM range(5)',
      );
      await indexVault(root);
      const q = await VaultQuery.open(root);
      try {
        expect(await q.rows('SELECT status FROM runs')).toEqual([{ status: 'running' }]);
        expect(await q.rows('SELECT latest_status FROM catalog')).toEqual([{ latest_status: 'running' }]);
        // An unsealed run's metrics are found through the file, with run_id from the directory.
        expect(await q.rows('SELECT run_id, max(loss) AS m FROM exp_2025_01_02_alpha GROUP BY ALL')).toEqual([
          { run_id: '20250102_100000', m: 8 },
        ]);
      } finally {
        q.close();
      }
    } finally {
      writer.kill('SIGKILL');
      await new Promise((r) => writer.once('exit', r));
    }
    const report = await indexVault(root);
    expect(report.runs).toMatchObject({ indexed: 1, total: 1 });
    const q = await VaultQuery.open(root);
    try {
      expect(await q.rows('SELECT status FROM runs')).toEqual([{ status: 'incomplete' }]);
      expect(await q.rows('SELECT latest_status FROM catalog')).toEqual([{ latest_status: 'incomplete' }]);
    } finally {
      q.close();
    }
  });

  it('notices every kind of change on an incremental index, and agrees with a full rebuild each time', async () => {
    const root = await twoSpecimens();
    await indexVault(root);
    const alpha = path.join(root, 'specimens', '2025_01_02_alpha');
    /** An incremental index, then its answers against those of a rebuild from scratch. */
    const step = async (change: () => unknown) => {
      await change();
      const report = await indexVault(root);
      expect(report.full).toBe(false);
      const incremental = await snapshot(root);
      await indexVault(root, { full: true });
      expect(await snapshot(root)).toEqual(incremental);
      return { report, rows: incremental };
    };
    const rows = (s: Record<string, unknown>, table: string) => s[table] as Record<string, unknown>[];

    // A new run.
    let r = await step(() => writeSealedRun(root, '2025_01_02_alpha', '20250103_090000', { rows: 4 }));
    expect(r.report.runs).toMatchObject({ total: 3, indexed: 1 });
    expect(rows(r.rows, 'alpha')).toContainEqual({ run_id: '20250103_090000', n: 4 });

    // A new specimen.
    r = await step(async () => {
      writeSpecimen(root, '2025_01_02_gamma');
      await writeSealedRun(root, '2025_01_02_gamma', '20250102_100000', { rows: 3 });
    });
    expect(r.report.specimens).toMatchObject({ total: 3, indexed: 1 });
    expect(rows(r.rows, 'catalog').map((c) => c.specimen_id)).toContain('2025_01_02_gamma');

    // A manifest changed in place (the directory's own stamp stays), then replaced by a rename.
    r = await step(() => writeSpecimen(root, '2025_01_02_alpha', { tags: ['in', 'place'] }));
    expect(r.report.specimens).toMatchObject({ indexed: 1 });
    expect(rows(r.rows, 'catalog')[0]).toMatchObject({
      specimen_id: '2025_01_02_alpha',
      tags: ['in', 'place'],
    });
    r = await step(async () => {
      const vault = await Vault.open(root);
      await vault.updateSpecimenManifest('2025_01_02_alpha', (m) => {
        m.tags = ['renamed'];
      });
    });
    expect(rows(r.rows, 'catalog')[0]).toMatchObject({ tags: ['renamed'] });

    // A removed run.
    r = await step(() => fs.rmSync(path.join(alpha, 'runs', '20250103_090000'), { recursive: true }));
    expect(r.report.runs).toMatchObject({ total: 3, removed: 1 });
    expect(rows(r.rows, 'alpha')).toEqual([{ run_id: '20250102_100000', n: 10 }]);

    // Field notes, written in place and by a rename: nothing the catalog holds changes, no run is re-read.
    r = await step(() => fs.writeFileSync(path.join(alpha, 'field_notes.md'), '# notes\n'));
    expect(r.report.runs.indexed).toBe(0);
    r = await step(() => {
      fs.writeFileSync(path.join(alpha, 'field_notes.md.tmp'), '# notes\nmore\n');
      fs.renameSync(path.join(alpha, 'field_notes.md.tmp'), path.join(alpha, 'field_notes.md'));
    });
    expect(r.report.runs.indexed).toBe(0);
    expect(r.report.specimens).toMatchObject({ total: 3, skipped: 0 });

    // A run indexed while running, then sealed: only its own directory changes.
    const run = path.join(alpha, 'runs', '20250104_090000');
    const writer = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    try {
      r = await step(() => {
        fs.mkdirSync(run, { recursive: true });
        fs.writeFileSync(
          path.join(run, 'manifest.msgpack'),
          encodeManifest({
            run_id: '20250104_090000',
            run_timestamp: '2025-01-04T09:00:00Z',
            started: '2025-01-04T09:00:00Z',
            ended: null,
            status: 'running',
            seeds: {},
            config: {},
            summary: {},
            artifacts: {},
            owner: { pid: writer.pid!, host: os.hostname() },
          }),
        );
      });
      expect(rows(r.rows, 'runs').find((x) => x.run_id === '20250104_090000')).toMatchObject({
        status: 'running',
      });
      const runsStamp = fs.statSync(path.join(alpha, 'runs')).mtimeMs;
      r = await step(() => writeSealedRun(root, '2025_01_02_alpha', '20250104_090000', { rows: 2 }));
      expect(fs.statSync(path.join(alpha, 'runs')).mtimeMs).toBe(runsStamp);
      expect(r.report.runs).toMatchObject({ indexed: 1 });
      expect(rows(r.rows, 'runs').find((x) => x.run_id === '20250104_090000')).toMatchObject({
        status: 'succeeded',
      });
      expect(rows(r.rows, 'metrics')).toContainEqual(
        expect.objectContaining({
          specimen_id: '2025_01_02_alpha',
          run_id: '20250104_090000',
          metric: 'loss',
          n: 2,
        }),
      );
    } finally {
      writer.kill('SIGKILL');
      await new Promise((done) => writer.once('exit', done));
    }
  });

  it('indexes what SpecimenStorage writes: sealed runs, metrics and tensors', async () => {
    const dir = tempDir('sv-catalog-');
    made.push(dir);
    const vault = await Vault.init(dir);
    await vault.createSpecimen({
      specimenId: '2025_01_02_stored',
      domain: 'training',
      method: 'fine_tuning',
      tags: ['stored'],
    });
    const storage = await SpecimenStorage.open('2025_01_02_stored', { vault });
    await storage.startRun({ config: { lr: 0.1 } });
    await storage.writeMetrics({ step: [0, 1, 2, 3], loss: [4, 3, 2, 1] });
    await storage.writeTensors('weights', new Float32Array(12), { shape: [3, 4] });
    await storage.finish({ summary: { final_loss: 1 } });
    const report = await indexVault(vault.root);
    expect(report.warnings).toEqual([]);
    const q = await VaultQuery.open(vault.root);
    try {
      const artifacts = await q.rows(
        'SELECT name, kind, shape, dtype, "rows", "columns" FROM artifacts ORDER BY name',
      );
      expect(artifacts).toContainEqual({
        name: 'metrics',
        kind: 'metrics',
        shape: null,
        dtype: null,
        rows: 4,
        columns: ['step', 'loss', 'run_id'],
      });
      expect(artifacts).toContainEqual(
        expect.objectContaining({ name: 'weights', kind: 'tensor', shape: [3, 4], dtype: 'float32' }),
      );
      expect(await q.rows('SELECT status, is_latest FROM runs')).toEqual([
        { status: 'succeeded', is_latest: true },
      ]);
      expect(await q.rows('SELECT "count", "min", "last", step_of_min FROM metric_summaries')).toEqual([
        { count: 4, min: 1, last: 1, step_of_min: 3 },
      ]);
      expect(await q.rows('SELECT sum(loss) AS s FROM exp_2025_01_02_stored')).toEqual([{ s: 10 }]);
    } finally {
      q.close();
    }
  });
});

describe('views and paths', () => {
  it('gives specimen IDs that need quoting a working view', async () => {
    const root = emptyVault();
    const ids = ['2025_01_02_Mixed.Case-id', 'order', 'x.y-z_1'];
    for (const id of ids) {
      writeSpecimen(root, id);
      await writeSealedRun(root, id, '20250102_100000', { rows: 3 });
    }
    const report = await indexVault(root);
    expect(report.warnings).toEqual([]);
    const q = await VaultQuery.open(root);
    try {
      for (const id of ids) {
        const rows = await q.rows(`SELECT count(*) AS n, min(run_id) AS r FROM "exp_${id}"`);
        expect(rows).toEqual([{ n: 3, r: '20250102_100000' }]);
      }
      const across = await q.rows(
        "SELECT specimen_id FROM metrics WHERE metric = 'loss' AND step = 0 ORDER BY 1",
      );
      expect(across.map((r) => r.specimen_id)).toEqual([...ids].sort());
    } finally {
      q.close();
    }
  });

  it('gives only one of two IDs that differ in case a view, and says so', async () => {
    const root = emptyVault();
    for (const id of ['2025_01_02_ab', '2025_01_02_AB']) {
      writeSpecimen(root, id);
      await writeSealedRun(root, id, '20250102_100000', { rows: 2 });
    }
    const report = await indexVault(root);
    expect(report.specimens.indexed).toBe(2);
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toMatch(/2025_01_02_ab: view .* would clash/);
  });

  it('keeps answering after the vault directory is moved', async () => {
    const root = referenceCopy();
    await indexVault(root);
    const moved = path.join(path.dirname(root), 'moved-vault');
    fs.renameSync(root, moved);
    const q = await VaultQuery.open(moved);
    try {
      const t = await q.search(`SELECT step, loss FROM exp_${DEMO} WHERE step >= 50`);
      expect(t.numRows).toBe(50);
      expect(await q.rows("SELECT count(*) AS n FROM metrics WHERE metric = 'loss'")).toEqual([{ n: 100 }]);
    } finally {
      q.close();
    }
    // A plain DuckDB client that sets file_search_path, as documented.
    const db = await openMemory();
    try {
      await db.connection.run(`ATTACH ${quoteLiteral(path.join(moved, 'vault.duckdb'))} AS v (READ_ONLY)`);
      await db.connection.run(`SET file_search_path = ${quoteLiteral(moved)}`);
      await db.connection.run('USE v');
      const r = await db.connection.runAndReadAll(`SELECT count(*) FROM exp_${DEMO} WHERE step >= 50`);
      expect(Number(r.getRowsJS()[0]?.[0])).toBe(50);
    } finally {
      db.close();
    }
  });
});

describe('VaultQuery', () => {
  it('hands rows one by one with the same JSON-safe values as rows()', async () => {
    const root = referenceCopy();
    await indexVault(root);
    const sql = 'SELECT specimen_id, created, tags, run_count FROM catalog ORDER BY specimen_id';
    for (const sandbox of [false, true]) {
      const q = await VaultQuery.open(root, { sandbox });
      try {
        const seen: unknown[][] = [];
        let names: string[] = [];
        await q.eachRow(sql, undefined, {
          start: (columns) => {
            names = columns.map((c) => c.name);
            seen.length = 0;
          },
          row: (values) => void seen.push([...values]),
        });
        expect(names).toEqual(['specimen_id', 'created', 'tags', 'run_count']);
        const rows = await q.rows(sql);
        expect(rows.length).toBeGreaterThan(0);
        expect(seen).toEqual(rows.map((r) => names.map((n) => r[n])));
      } finally {
        q.close();
      }
    }
  });

  it('returns Arrow tables with typed columns, rows that are JSON-safe, and specimens by tag', async () => {
    const root = referenceCopy();
    await indexVault(root);
    const q = await VaultQuery.open(root);
    try {
      const t = await q.search(`SELECT step, loss, step > 10 AS late, run_id FROM exp_${DEMO} ORDER BY step`);
      expect(t.numRows).toBe(100);
      expect(t.getChild('step')?.toArray()).toBeInstanceOf(BigInt64Array);
      expect(t.getChild('loss')?.toArray()).toBeInstanceOf(Float64Array);
      expect(t.getChild('late')?.get(11)).toBe(true);
      expect(t.getChild('run_id')?.get(0)).toBe('strata');
      const file = path.join(root, 'specimens', DEMO, 'strata', 'metrics.parquet');
      const [first] = await duck(
        `SELECT loss FROM read_parquet(${quoteLiteral(file)}) ORDER BY step LIMIT 1`,
      );
      expect(t.getChild('loss')?.get(0)).toBe(first?.loss);

      const nulls = await q.search('SELECT * FROM (VALUES (1, NULL), (NULL, 2.5), (3, 4.5)) v(a, b)');
      expect(nulls.getChild('a')?.nullCount).toBe(1);
      expect(nulls.getChild('a')?.get(1)).toBeNull();
      expect(nulls.getChild('b')?.get(2)).toBe(4.5);

      const tagged = await q.findByTag('demo');
      expect(tagged.numRows).toBe(1);
      expect(tagged.getChild('specimen_id')?.get(0)).toBe(DEMO);
      expect([...(tagged.getChild('tags')?.get(0) ?? [])]).toEqual(['demo', 'example', 'synthetic']);
      expect((await q.findByTag("demo' OR true --")).numRows).toBe(0);

      const rows = await q.rows(
        "SELECT 9007199254740993::BIGINT AS big, 42::BIGINT AS small, 'NaN'::DOUBLE AS nan, DATE '2025-01-02' AS d, " +
          "TIMESTAMP '2025-01-02 03:04:05.123456' AS ts, {'a': 1} AS s, ['x', 'y'] AS l, '{\"k\": [1]}'::JSON AS j",
      );
      expect(rows).toEqual([
        {
          big: '9007199254740993',
          small: 42,
          nan: 'NaN',
          d: '2025-01-02',
          ts: '2025-01-02T03:04:05.123456Z',
          s: { a: 1 },
          l: ['x', 'y'],
          j: { k: [1] },
        },
      ]);
      expect(JSON.parse(JSON.stringify(rows))).toEqual(rows);

      expect(await q.rows('SELECT $1::INTEGER + 1 AS n, $2 AS s', [41, 'x'])).toEqual([{ n: 42, s: 'x' }]);
      expect(await q.describe(`SELECT * FROM exp_${DEMO}`)).toEqual([
        { name: 'step', type: 'BIGINT' },
        { name: 'loss', type: 'DOUBLE' },
        { name: 'accuracy', type: 'DOUBLE' },
        { name: 'entropy', type: 'DOUBLE' },
        { name: 'run_id', type: 'VARCHAR' },
      ]);
    } finally {
      q.close();
    }
  });

  it('reports DuckDB errors with their position', async () => {
    const root = referenceCopy();
    await indexVault(root);
    const q = await VaultQuery.open(root);
    try {
      const err = await q.rows('SELECT specimen_id\nFROM catalgo').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SqlError);
      const e = err as SqlError;
      expect(exitCodeOf(e)).toBe(2);
      expect(e._tag).toBe('SqlError');
      expect(e.message).toMatch(/catalgo/);
      expect(e.message).toMatch(/Did you mean "catalog"/);
      expect([e.line, e.column, e.position]).toEqual([2, 6, 24]);
      const syntax = await q.rows('SELEC 1').catch((x: unknown) => x);
      expect(isVaultError(syntax, 'SqlError')).toBe(true);
      expect((syntax as SqlError).position).toBe(0);
      // The session stays usable after an error.
      expect(await q.rows('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      q.close();
    }
    // Long lines are shortened around the error in DuckDB's message; the position is found in the original.
    const q2 = await VaultQuery.open(root);
    try {
      for (const sql of [
        `SELECT ${'1 + '.repeat(60)}nope FROM catalog`,
        `SELECT 1,\n  ${'2 + '.repeat(40)} nope\nFROM catalog`,
      ]) {
        const e = (await q2.rows(sql).catch((x: unknown) => x)) as SqlError;
        expect(e).toBeInstanceOf(SqlError);
        expect(e.position).toBe(sql.indexOf('nope'));
      }
      const eof = (await q2.rows('SELECT 1 +').catch((x: unknown) => x)) as SqlError;
      expect(eof.message).toMatch(/syntax error at end of input/);
      expect(eof.position).toBeUndefined();
    } finally {
      q2.close();
    }
    expect(locateCaret('no position here', 'SELECT 1')).toBeUndefined();
  });

  it('reopens by itself when an index swaps in a new catalog', async () => {
    const root = emptyVault();
    writeSpecimen(root, '2025_01_02_alpha');
    await writeSealedRun(root, '2025_01_02_alpha', '20250102_100000');
    await indexVault(root);
    const q = await VaultQuery.open(root);
    try {
      expect(await q.rows('SELECT count(*) AS n FROM runs')).toEqual([{ n: 1 }]);
      await writeSealedRun(root, '2025_01_02_alpha', '20250102_100001');
      await indexVault(root);
      expect(await q.rows('SELECT count(*) AS n FROM runs')).toEqual([{ n: 2 }]);
      expect(await q.rows('SELECT count(*) AS n FROM exp_2025_01_02_alpha')).toEqual([{ n: 20 }]);
    } finally {
      q.close();
    }
  });
});

describe('VaultQuery settings', () => {
  it('opens its session with the DuckDB settings given, also when it reopens after an index', async () => {
    const root = emptyVault();
    writeSpecimen(root, '2025_01_02_alpha');
    await writeSealedRun(root, '2025_01_02_alpha', '20250102_100000');
    await indexVault(root);
    const q = await VaultQuery.open(root, { settings: { threads: '1', allocator_flush_threshold: '32MiB' } });
    const setting =
      "SELECT current_setting('threads') AS t, current_setting('allocator_flush_threshold') AS f";
    try {
      expect(await q.rows(setting)).toEqual([{ t: 1, f: '32.0 MiB' }]);
      // A new specimen rewrites the catalog file: the session reopens, with the same settings.
      writeSpecimen(root, '2025_01_02_beta');
      await writeSealedRun(root, '2025_01_02_beta', '20250102_100000');
      await indexVault(root);
      expect(await q.rows('SELECT count(*) AS n FROM catalog')).toEqual([{ n: 2 }]);
      expect(await q.rows(setting)).toEqual([{ t: 1, f: '32.0 MiB' }]);
      // Results are streamed: a failure while rows are produced is still a SqlError naming the statement.
      await expect(q.rows('SELECT CAST(specimen_id AS INTEGER) AS n FROM catalog')).rejects.toBeInstanceOf(
        SqlError,
      );
      expect((await q.search('SELECT run_id FROM runs ORDER BY specimen_id')).numRows).toBe(2);
    } finally {
      q.close();
    }
  });
});

describe('catalog JSON and timestamps', () => {
  it('writes bigint exactly and non-finite numbers as text', () => {
    expect(jsonText({ n: 2n ** 63n - 1n, a: [Number.NaN, Number.POSITIVE_INFINITY, 1.5], s: 'x"y' })).toBe(
      '{"n":9223372036854775807,"a":["NaN","Infinity",1.5],"s":"x\\"y"}',
    );
    expect(jsonText({ plain: [1, 'two', null, true] })).toBe(
      JSON.stringify({ plain: [1, 'two', null, true] }),
    );
  });

  it('turns ISO-8601 into UTC DuckDB timestamps, keeping microseconds and naive times as written', () => {
    expect(toTimestamp('2025-12-19T23:15:32.839733+00:00')).toBe('2025-12-19 23:15:32.839733');
    expect(toTimestamp('2025-12-31T23:30:00-02:30')).toBe('2026-01-01 02:00:00.000000');
    expect(toTimestamp('2025-12-22T20:17:18.128873')).toBe('2025-12-22 20:17:18.128873');
    expect(toTimestamp('2025-03-01T00:00:00Z')).toBe('2025-03-01 00:00:00.000000');
    expect(toTimestamp('yesterday')).toBeNull();
    expect(toTimestamp(17)).toBeNull();
  });
});

describe('errors', () => {
  it('have tags and exit codes the CLI understands', () => {
    const e = new QueryNotAllowedError('COPY t TO x', 'COPY');
    expect([e._tag, exitCodeOf(e)]).toEqual(['QueryNotAllowedError', 2]);
    expect(e.message).toMatch(/only SELECT/);
  });
});
