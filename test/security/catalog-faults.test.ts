// DuckDB failures outside user SQL are tagged errors with a clear message, never an abort or exit 70: a
// damaged vault.duckdb (random bytes, a damaged block, truncated) tells to run `specimen index --full`,
// which repairs it; a catalog this user may not read or write says permission denied; a catalog another
// program holds DuckDB's write lock on says so (and `specimen index` still replaces it); a metrics file a
// protocol wrote that DuckDB cannot read seals the run as failed saying so. All with real files.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultQuery } from '../../src/catalog/index.js';
import { readManifestFile } from '../../src/format/msgpack.js';
import { isVaultError } from '../../src/index.js';
import { CLI, REPO_ROOT } from '../support/helpers.js';
import { DEMO, demoVault, type TestVault } from './harness.js';

let v: TestVault;
let catalog: string;
let good: Buffer;

beforeAll(async () => {
  v = await demoVault('sv-catalog-');
  catalog = path.join(v.root, 'vault.duckdb');
  good = fs.readFileSync(catalog);
});

afterAll(() => v?.cleanup());

interface Outcome {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** The built CLI, optionally as another user (root only); resolves with how it ended. */
function cli(args: string[], as?: { uid: number; gid: number }): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, '--vault', v.root, ...args],
      { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000, ...(as ?? {}) },
      (_err, stdout, stderr) => resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr }),
    );
  });
}

/** Never a crash: no signal, no exit 70, no stack trace. */
function expectClean(r: Outcome): void {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.code, r.stderr).not.toBe(70);
  expect(r.stderr).not.toMatch(/unexpected failure|terminate called|\n\s+at /);
}

function restore(): void {
  fs.writeFileSync(catalog, good);
}

describe('a damaged catalog', () => {
  const damages: [string, (b: Buffer) => Buffer][] = [
    ['random bytes', () => Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 251))],
    [
      'a damaged block',
      (b) => Buffer.concat([b.subarray(0, 12_288), Buffer.alloc(b.length - 16_384, 0x5a), b.subarray(-4096)]),
    ],
    ['truncated', (b) => b.subarray(0, Math.floor(b.length / 2))],
    ['empty', () => Buffer.alloc(0)],
  ];

  it.each(damages)(
    '%s: query and ls say to run `specimen index --full`, which repairs it',
    async (_what, damage) => {
      fs.writeFileSync(catalog, damage(good));
      // An empty file is a new database to DuckDB: the catalog then lacks its tables, which is a clear SQL error.
      for (const args of [['query', 'SELECT count(*) AS n FROM catalog'], ['ls']]) {
        const r = await cli(args);
        expectClean(r);
        if (_what === 'empty') {
          expect([1, 2]).toContain(r.code);
          continue;
        }
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toMatch(
          /^error: catalog: cannot use .*vault\.duckdb: it is damaged or not a catalog; rebuild it with `specimen index --full`/,
        );
      }
      if (_what !== 'empty') {
        // The library: at open, or (a truncated file) at the first read of the damaged part.
        let q: VaultQuery | undefined;
        const lib = await VaultQuery.open(v.root)
          .then((opened) => {
            q = opened;
            return opened.rows('SELECT count(*) FROM catalog');
          })
          .catch((e: unknown) => e);
        q?.close();
        expect(isVaultError(lib, 'CatalogFileError'), String(lib)).toBe(true);
        expect(lib).toMatchObject({ reason: 'corrupt' });
      }
      const index = await cli(['index', '--full']);
      expect(index.code, index.stderr).toBe(0);
      const q = await cli(['query', 'SELECT count(*) AS n FROM catalog', '--format', 'json']);
      expect(q.code, q.stderr).toBe(0);
      expect(JSON.parse(q.stdout)).toEqual([{ n: 1 }]);
      good = fs.readFileSync(catalog);
    },
  );
});

// As root, another user is the way to be refused; otherwise the file's own mode is.
const isRoot = process.getuid?.() === 0;
describe('a catalog this user may not use', () => {
  it('query, ls and index say permission denied and name the file', async () => {
    const as = isRoot ? { uid: 65534, gid: 65534 } : undefined;
    const dirs = [v.dir, v.root];
    const modes = dirs.map((d) => fs.statSync(d).mode);
    try {
      if (isRoot) for (const d of dirs) fs.chmodSync(d, 0o755);
      fs.chmodSync(catalog, 0o600);
      if (!isRoot) fs.chmodSync(catalog, 0o000);
      for (const args of [['query', 'SELECT 1'], ['ls']]) {
        const r = await cli(args, as);
        expectClean(r);
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toMatch(/^error: catalog: cannot use .*vault\.duckdb: permission denied/);
      }
      const index = await cli(['index'], as);
      expectClean(index);
      expect(index.code, index.stderr).toBe(1);
      expect(index.stderr).toMatch(/^error: catalog: cannot use .*vault\.duckdb.*: permission denied/);
    } finally {
      fs.chmodSync(catalog, 0o644);
      for (const [i, d] of dirs.entries()) fs.chmodSync(d, modes[i]! & 0o7777);
    }
    restore();
  });
});

describe('a catalog another program holds open', () => {
  let holder: ChildProcess | undefined;
  afterAll(() => holder?.kill('SIGKILL'));

  it('query says it is locked and by whom; index still replaces it', async () => {
    // Another DuckDB process with the catalog open read-write holds DuckDB's lock on it.
    holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { DuckDBInstance } from '@duckdb/node-api';
         const i = await DuckDBInstance.create(${JSON.stringify(catalog)});
         await (await i.connect()).run('SELECT 1');
         console.log('holding');
         setInterval(() => {}, 1000);`,
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => holder!.stdout!.once('data', () => resolve()));
    const r = await cli(['query', 'SELECT 1']);
    expectClean(r);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /^error: catalog: cannot use .*vault\.duckdb: another program holds it open for writing/,
    );
    expect(r.stderr).toContain(`PID ${holder.pid}`);
    const lib = await VaultQuery.open(v.root).catch((e: unknown) => e);
    expect(lib).toMatchObject({ _tag: 'CatalogFileError', reason: 'locked' });
    // The index builds a new file and renames it over the old one, which the lock does not prevent.
    const index = await cli(['index', '--full']);
    expect(index.code, index.stderr).toBe(0);
    holder.kill('SIGKILL');
    const q = await cli(['query', 'SELECT count(*) AS n FROM catalog', '--format', 'json']);
    expect(q.code, q.stderr).toBe(0);
  });
});

describe('a metrics file DuckDB cannot read', () => {
  it('seals the run as failed, saying so, and the vault still verifies and indexes', async () => {
    const protocol = [
      'node',
      '-e',
      "require('fs').writeFileSync(process.env.SPECIMEN_RUN_DIR+'/metrics.parquet','PAR1 not a parquet file PAR1')",
    ];
    const r = await cli(['run', DEMO, '--', ...protocol]);
    expectClean(r);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/failed/);
    const show = await cli(['show', DEMO, '--json']);
    const runs = (JSON.parse(show.stdout) as { runs: { run_id: string; status: string }[] }).runs;
    const last = runs.at(-1)!;
    expect(last.status).toBe('failed');
    const manifest = await readManifestFile(
      path.join(v.root, 'specimens', DEMO, 'runs', last.run_id, 'manifest.msgpack'),
    );
    expect(JSON.stringify(manifest.error)).toMatch(/MetricsSchemaError.*is not a readable Parquet file/);
    const verify = await cli(['verify', DEMO]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    // Incrementally and from scratch: the unreadable file is a warning, and the rest is indexed.
    for (const args of [['index'], ['index', '--full']]) {
      const index = await cli(args);
      expectClean(index);
      expect(index.code, index.stderr).toBe(0);
      expect(index.stderr).toMatch(/cannot read .*metrics\.parquet/);
    }
    const q = await cli([
      'query',
      `SELECT status FROM runs WHERE run_id = '${last.run_id}'`,
      '--format',
      'json',
    ]);
    expect(JSON.parse(q.stdout)).toEqual([{ status: 'failed' }]);
  });
});
