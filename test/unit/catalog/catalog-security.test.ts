import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportParquet } from '../../../src/catalog/export.js';
import {
  closeUserQuerySessions,
  indexVault,
  QueryNotAllowedError,
  runUserQuery,
  SqlError,
  VaultQuery,
} from '../../../src/catalog/index.js';
import { isVaultError } from '../../../src/errors.js';
import { copyTree, REFERENCE_VAULT, tempDir } from '../../support/helpers.js';

const DEMO = 'example_2024_12_19_synthetic_demo';
let root = '';
let outside = '';

beforeAll(async () => {
  const dir = tempDir('sv-catalog-sec-');
  root = path.join(dir, 'vault');
  copyTree(REFERENCE_VAULT, root);
  // A file next to the vault, outside it: reachable by path, never by a user query.
  outside = path.join(dir, 'secret.csv');
  fs.writeFileSync(outside, 'secret\nhunter2\n');
  await indexVault(root);
});

afterAll(async () => {
  await closeUserQuerySessions();
  fs.rmSync(path.dirname(root), { recursive: true, force: true });
});

async function refused(sql: string): Promise<SqlError | QueryNotAllowedError> {
  const err = await runUserQuery(root, sql, { readOnly: true }).catch((e: unknown) => e);
  expect(
    isVaultError(err, 'SqlError', 'QueryNotAllowedError'),
    `${sql} should fail, got ${String(err)}`,
  ).toBe(true);
  return err as SqlError | QueryNotAllowedError;
}

describe('runUserQuery', () => {
  it('answers SELECTs over the catalog and the Parquet-backed views', async () => {
    const r = await runUserQuery(root, `SELECT step, loss, accuracy FROM exp_${DEMO} WHERE step >= 50`, {
      readOnly: true,
    });
    expect(r.rows).toHaveLength(50);
    expect(r.columns.map((c) => c.name)).toEqual(['step', 'loss', 'accuracy']);
    const m = await runUserQuery(root, "SELECT count(*) AS n FROM metrics WHERE metric = 'loss'", {
      readOnly: true,
    });
    expect(m.rows).toEqual([{ n: 100 }]);
    const p = await runUserQuery(root, 'SELECT specimen_id FROM catalog WHERE array_contains(tags, $1)', {
      readOnly: true,
      params: ['demo'],
    });
    expect(p.rows).toEqual([{ specimen_id: DEMO }]);
    const capped = await runUserQuery(root, 'SELECT * FROM range(10)', { readOnly: true, maxRows: 3 });
    expect(capped.rows).toHaveLength(3);
    expect(capped.truncated).toBe(true);
    // DESCRIBE and SHOW are SELECT statements to DuckDB, and harmless.
    const d = await runUserQuery(root, `DESCRIBE exp_${DEMO}`, { readOnly: true });
    expect(d.rows.map((x) => x.column_name)).toEqual(['step', 'loss', 'accuracy', 'entropy', 'run_id']);
    // Files inside the vault stay readable by absolute path.
    const inside = path.join(root, 'specimens', DEMO, 'strata', 'metrics.parquet');
    const own = await runUserQuery(root, `SELECT count(*) AS n FROM read_parquet('${inside}')`, {
      readOnly: true,
    });
    expect(own.rows).toEqual([{ n: 100 }]);
  });

  it('cannot read files outside the vault', async () => {
    for (const sql of [
      "SELECT * FROM read_csv('/etc/passwd')",
      "SELECT * FROM read_text('/etc/passwd')",
      "SELECT * FROM read_blob('/etc/passwd')",
      `SELECT * FROM read_csv('${outside}')`,
      `SELECT * FROM read_text('${root}/../secret.csv')`,
      "SELECT * FROM read_text('../secret.csv')",
      "SELECT * FROM glob('/etc/*')",
      `SELECT * FROM glob('${path.dirname(root)}/*')`,
      "SELECT * FROM read_parquet('/etc/*.parquet')",
      "SELECT * FROM query('SELECT * FROM read_text(''/etc/passwd'')')",
    ]) {
      const err = await refused(sql);
      expect(err.message).not.toMatch(/root:|hunter2/);
    }
    const passwd = await refused("SELECT * FROM read_text('/etc/passwd')");
    expect(passwd).toBeInstanceOf(SqlError);
    expect(passwd.message).toMatch(/Permission Error/);
  });

  it('runs nothing but a single SELECT', async () => {
    const cases: [string, string][] = [
      [`COPY catalog TO '${path.dirname(root)}/out.csv'`, 'COPY'],
      [`ATTACH '${path.dirname(root)}/other.duckdb' AS o`, 'ATTACH'],
      ['INSTALL httpfs', 'LOAD'],
      ['LOAD httpfs', 'LOAD'],
      ['SET enable_external_access = true', 'SET'],
      ['SET lock_configuration = false', 'SET'],
      ['RESET allowed_directories', 'SET'],
      ["SET VARIABLE sv_root = '/'", 'SET'],
      ['CREATE TABLE t AS SELECT 1', 'CREATE'],
      ['DROP VIEW metrics', 'DROP'],
      ['DELETE FROM catalog', 'DELETE'],
      ["UPDATE catalog SET status = 'x'", 'UPDATE'],
      ['PRAGMA enable_profiling', 'PRAGMA'],
      ['CALL pragma_version()', 'CALL'],
      ["EXPORT DATABASE '/tmp/x'", 'EXPORT'],
    ];
    for (const [sql, type] of cases) {
      const err = await refused(sql);
      if (err instanceof QueryNotAllowedError) expect(err.statementType).toBe(type);
      else expect(err.message).toMatch(/Permission|read-only|disabled/i);
    }
    const syntax = await refused('SELEC 1');
    expect(syntax).toBeInstanceOf(SqlError);
    expect(syntax.message).toMatch(/^sql: Parser Error: syntax error at or near "SELEC"/);
    expect((syntax as SqlError).position).toBe(0);
    const multi = await refused('SELECT 1; SELECT 2');
    expect(multi).toBeInstanceOf(QueryNotAllowedError);
    expect((multi as QueryNotAllowedError).statementType).toBe('MULTI');
    expect(fs.existsSync(path.join(path.dirname(root), 'out.csv'))).toBe(false);
    expect(fs.existsSync(path.join(path.dirname(root), 'other.duckdb'))).toBe(false);
  });

  it('keeps its settings locked against SELECT-shaped tricks', async () => {
    const r = await runUserQuery(
      root,
      "SELECT current_setting('enable_external_access') AS ext, current_setting('lock_configuration') AS locked",
      { readOnly: true },
    );
    expect(r.rows).toEqual([{ ext: false, locked: true }]);
    await refused("SELECT * FROM query('SET enable_external_access = true')");
  });

  it('gives a sandboxed VaultQuery the same rules for every method', async () => {
    const q = await VaultQuery.open(root, { sandbox: true });
    try {
      expect((await q.search(`SELECT * FROM exp_${DEMO}`)).numRows).toBe(100);
      await expect(q.rows("SELECT * FROM read_text('/etc/passwd')")).rejects.toBeInstanceOf(SqlError);
      await expect(q.rows('DELETE FROM catalog')).rejects.toBeInstanceOf(QueryNotAllowedError);
      expect(await q.rows('SELECT count(*) AS n FROM catalog')).toEqual([{ n: 2 }]);
    } finally {
      q.close();
    }
  });

  it('keeps a session between queries that follows a new index', async () => {
    const count = "SELECT count(*) AS n FROM runs WHERE specimen_id = 'example_2024_12_19_synthetic_demo'";
    const [a, b] = await Promise.all([
      runUserQuery(root, count, { readOnly: true }),
      runUserQuery(root, `SELECT count(*) AS n FROM exp_${DEMO}`, { readOnly: true }),
    ]);
    expect(a.rows).toEqual([{ n: 1 }]);
    expect(b.rows).toEqual([{ n: 100 }]);
    // A second copy of the demo's metrics as a new run: the next query sees it without any reopening by hand.
    const runDir = path.join(root, 'specimens', DEMO, 'runs', '20250101_000000');
    fs.mkdirSync(runDir, { recursive: true });
    fs.copyFileSync(
      path.join(root, 'specimens', DEMO, 'strata', 'metrics.parquet'),
      path.join(runDir, 'metrics.parquet'),
    );
    await indexVault(root);
    try {
      expect((await runUserQuery(root, count, { readOnly: true })).rows).toEqual([{ n: 2 }]);
      expect(
        (await runUserQuery(root, `SELECT count(*) AS n FROM exp_${DEMO}`, { readOnly: true })).rows,
      ).toEqual([{ n: 200 }]);
    } finally {
      fs.rmSync(path.join(root, 'specimens', DEMO, 'runs'), { recursive: true });
      await indexVault(root);
    }
    expect((await runUserQuery(root, count, { readOnly: true })).rows).toEqual([{ n: 1 }]);
  });

  it('exports a SELECT as Parquet under the same rules', async () => {
    const out = path.join(path.dirname(root), 'export.parquet');
    await exportParquet(root, `SELECT step, loss FROM exp_${DEMO} WHERE step < 10 -- the first ten`, out);
    const back = await runUserQuery(
      root,
      `SELECT count(*) AS n, max(step) AS m FROM read_parquet('${out}')`,
      {
        readOnly: true,
      },
    ).catch((e: unknown) => e);
    // The export lies outside the vault, so a user query cannot read it back; DuckDB itself can.
    expect(back).toBeInstanceOf(SqlError);
    const { openMemory } = await import('../../../src/duckdb/node-api.js');
    const db = await openMemory();
    try {
      const r = await db.connection.runAndReadAll(
        `SELECT count(*)::INTEGER AS n FROM read_parquet('${out}')`,
      );
      expect(r.getRowObjectsJS()).toEqual([{ n: 10 }]);
    } finally {
      db.close();
    }
    const leaked = path.join(path.dirname(root), 'leak.parquet');
    await expect(
      exportParquet(root, "SELECT * FROM read_text('/etc/passwd')", leaked),
    ).rejects.toBeInstanceOf(SqlError);
    const copy = await exportParquet(root, `COPY catalog TO '${leaked}'`, leaked).catch((e: unknown) => e);
    expect(isVaultError(copy, 'SqlError', 'QueryNotAllowedError')).toBe(true);
    await expect(
      exportParquet(root, `SELECT 1) TO '${leaked}' (FORMAT csv); --`, leaked),
    ).rejects.toBeInstanceOf(SqlError);
    expect(fs.existsSync(leaked)).toBe(false);
    expect(fs.readdirSync(path.dirname(root)).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  });

  it('insists on read-only', async () => {
    await expect(runUserQuery(root, 'SELECT 1', { readOnly: false as true })).rejects.toThrow(/read-only/);
  });
});
