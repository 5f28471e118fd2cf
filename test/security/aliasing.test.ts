// Hard links and other aliases: a user query reads a file only when its real path is inside the vault and it
// has one link, checked before the query binds and again after it ran (a file swapped in between fails the
// query), for files the query names and for the metrics files behind the views it names.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../../src/catalog/connection.js';
import { closeUserQuerySessions, indexVault, runUserQuery } from '../../src/catalog/index.js';
import { inspectUserSelect, recheckFiles } from '../../src/catalog/sandbox/inspect.js';
import { isVaultError } from '../../src/errors.js';
import { DEMO, demoVault, SECRET, type TestVault } from './harness.js';

let v: TestVault;
let specimenDir: string;
let runDir: string;

beforeAll(async () => {
  v = await demoVault('sv-alias-');
  specimenDir = path.join(v.root, 'specimens', DEMO);
  runDir = path.join(specimenDir, 'runs', v.runId);
  fs.linkSync(path.join(v.outside, 'secret.csv'), path.join(specimenDir, 'hardlink.csv'));
  fs.writeFileSync(path.join(specimenDir, 'own.csv'), 'a\n1\n');
  fs.linkSync(path.join(specimenDir, 'own.csv'), path.join(specimenDir, 'own-twin.csv'));
  fs.writeFileSync(path.join(specimenDir, 'plain.csv'), 'a\n2\n');
  fs.symlinkSync(v.outside, path.join(v.root, 'linkdir'));
  fs.mkdirSync(path.join(v.root, 'nested'));
  fs.symlinkSync(v.outside, path.join(v.root, 'nested', 'deeper'));
});

afterAll(async () => {
  await closeUserQuerySessions();
  v?.cleanup();
});

async function outcome(sql: string): Promise<{ ok: boolean; message: string; tag?: string }> {
  try {
    const r = await runUserQuery(v.root, sql, { readOnly: true });
    return { ok: true, message: JSON.stringify(r.rows) };
  } catch (err) {
    return { ok: false, message: (err as Error).message, ...(isVaultError(err) ? { tag: err._tag } : {}) };
  }
}

describe('aliases of files outside the vault', () => {
  const cases: [string, () => string, RegExp][] = [
    [
      'a hard link to a file outside',
      () => `SELECT * FROM read_csv('${specimenDir}/hardlink.csv')`,
      /2 hard links/,
    ],
    [
      'a hard link as a replacement scan',
      () => `SELECT * FROM '${specimenDir}/hardlink.csv'`,
      /2 hard links/,
    ],
    [
      'a hard link read as text',
      () => `SELECT * FROM read_text('${specimenDir}/hardlink.csv')`,
      /2 hard links/,
    ],
    [
      'a hard link read as a blob',
      () => `SELECT * FROM read_blob('${specimenDir}/hardlink.csv')`,
      /2 hard links/,
    ],
    [
      'a hard link in a list',
      () => `SELECT * FROM read_csv(['${specimenDir}/plain.csv', '${specimenDir}/hardlink.csv'])`,
      /2 hard links/,
    ],
    [
      'a hard link between two files inside',
      () => `SELECT * FROM read_csv('${specimenDir}/own-twin.csv')`,
      /2 hard links/,
    ],
    [
      'a symlinked parent directory',
      () => `SELECT * FROM read_text('${v.root}/linkdir/secret.txt')`,
      /resolves outside the vault/,
    ],
    [
      'a symlinked grandparent',
      () => `SELECT * FROM read_csv('${v.root}/nested/deeper/secret.csv')`,
      /resolves outside the vault/,
    ],
    [
      '.. through a symlinked directory',
      () => `SELECT * FROM read_text('${v.root}/linkdir/../outside/secret.txt')`,
      /Permission Error/,
    ],
    [
      'a pattern that would reach a hard link',
      () => `SELECT * FROM read_csv('${specimenDir}/*.csv')`,
      /file patterns are not allowed/,
    ],
    [
      'a path built at run time',
      () => `SELECT * FROM read_csv(concat('${specimenDir}', '/hardlink.csv'))`,
      /literal file paths/,
    ],
    ['a path given as a parameter', () => 'SELECT * FROM read_csv($1)', /literal file paths/],
  ];
  it.each(cases)('refuses %s', async (_name, sql, why) => {
    const r = await outcome(sql());
    expect(r.ok, r.message).toBe(false);
    expect(r.message).toMatch(why);
    expect(r.message).not.toContain(SECRET);
  });

  it('still reads an ordinary file inside the vault', async () => {
    expect((await outcome(`SELECT * FROM read_csv('${specimenDir}/plain.csv')`)).message).toBe('[{"a":2}]');
  });

  it('refuses a view whose metrics file became a hard link to a file outside after indexing', async () => {
    const metrics = path.join(runDir, 'metrics.parquet');
    const backup = path.join(v.dir, 'metrics.backup');
    fs.copyFileSync(metrics, backup);
    fs.copyFileSync(metrics, path.join(v.outside, 'other.parquet'));
    fs.rmSync(metrics);
    fs.linkSync(path.join(v.outside, 'other.parquet'), metrics);
    try {
      for (const sql of ['SELECT count(*) FROM metrics', `SELECT count(*) FROM exp_${DEMO}`]) {
        const r = await outcome(sql);
        expect(r.ok, sql).toBe(false);
        expect(r.message).toMatch(/2 hard links/);
      }
      // Tables that read no metrics file still answer.
      expect((await outcome('SELECT count(*) AS n FROM catalog')).message).toBe('[{"n":1}]');
    } finally {
      fs.rmSync(metrics);
      fs.copyFileSync(backup, metrics);
    }
    expect((await outcome(`SELECT count(*) AS n FROM exp_${DEMO}`)).message).toBe('[{"n":100}]');
  });

  it('fails a query whose file was replaced between the check and the read', async () => {
    const file = path.join(specimenDir, 'swap.csv');
    fs.writeFileSync(file, 'a\n1\n');
    const db = await openCatalog(v.root, { readOnly: true, sandbox: true });
    try {
      const sql = `SELECT * FROM read_csv('${file}')`;
      const inspection = await inspectUserSelect(db.connection, sql, {
        root: v.root,
        realRoot: fs.realpathSync(v.root),
      });
      expect(inspection?.files).toHaveLength(1);
      // Swapped for a hard link to the secret, then the read would happen.
      fs.rmSync(file);
      fs.linkSync(path.join(v.outside, 'secret.csv'), file);
      expect(() => recheckFiles(inspection!.files, sql)).toThrow(/changed while the query read it/);
      // Swapped for another file of one link: still not the file that was checked.
      fs.rmSync(file);
      fs.writeFileSync(file, 'a\n3\n');
      expect(() => recheckFiles(inspection!.files, sql)).toThrow(/changed while the query read it/);
    } finally {
      db.close();
    }
  });

  it('reindexes a vault holding such links without reading through them', async () => {
    const report = await indexVault(v.root);
    expect(report.specimens.total).toBe(1);
  });
});
