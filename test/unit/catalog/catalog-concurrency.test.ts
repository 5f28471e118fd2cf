import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CatalogBusyError, indexVault, VaultQuery } from '../../../src/catalog/index.js';
import { exitCodeOf } from '../../../src/cli/exit.js';
import { openMemory, quoteLiteral } from '../../../src/duckdb/node-api.js';
import { encodeManifest } from '../../../src/format/msgpack.js';
import { REPO_ROOT, tempDir } from '../../support/helpers.js';

const made: string[] = [];
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A vault of `n` specimens with one sealed run each (enough work for an index to take a while). */
async function vaultWith(n: number): Promise<string> {
  const root = tempDir('sv-catalog-conc-');
  made.push(root);
  const db = await openMemory();
  try {
    for (let s = 0; s < n; s++) {
      const id = `2025_01_02_s${String(s).padStart(3, '0')}`;
      await addRun(root, id, '20250102_100000', db.connection);
    }
  } finally {
    db.close();
  }
  return root;
}

async function addRun(
  root: string,
  id: string,
  runId: string,
  con?: Awaited<ReturnType<typeof openMemory>>['connection'],
): Promise<void> {
  const dir = path.join(root, 'specimens', id);
  const runDir = path.join(dir, 'runs', runId);
  fs.mkdirSync(runDir, { recursive: true });
  if (!fs.existsSync(path.join(dir, 'manifest.msgpack')))
    fs.writeFileSync(
      path.join(dir, 'manifest.msgpack'),
      encodeManifest({
        specimen_id: id,
        created: '2025-01-02T00:00:00Z',
        taxonomy: { domain: 'training', method: 'fine_tuning' },
        status: 'active',
        tags: [],
      }),
    );
  const own = con ? undefined : await openMemory();
  const c = con ?? own!.connection;
  try {
    await c.run(
      `COPY (SELECT range AS step, range * 0.5 AS loss, ${quoteLiteral(runId)} AS run_id FROM range(20)) ` +
        `TO ${quoteLiteral(path.join(runDir, 'metrics.parquet'))} (FORMAT parquet)`,
    );
  } finally {
    own?.close();
  }
  fs.writeFileSync(
    path.join(runDir, 'manifest.msgpack'),
    encodeManifest({
      run_id: runId,
      run_timestamp: '2025-01-02T10:00:00Z',
      started: '2025-01-02T10:00:00Z',
      ended: '2025-01-02T10:00:01Z',
      status: 'succeeded',
      seeds: {},
      config: {},
      summary: {},
      artifacts: {},
    }),
  );
}

/** Runs a module snippet with the library's sources (through tsx) in a new Node process. */
function script(code: string, args: string[] = []): ChildProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', code, '--', ...args],
    {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  return child;
}

function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

function nextLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const at = buf.indexOf('\n');
      if (at >= 0) {
        child.stdout?.off('data', onData);
        resolve(buf.slice(0, at));
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before writing a line`)));
  });
}

const INDEX_CHILD = `
import { indexVault } from './src/catalog/index.ts';
const report = await indexVault(process.argv[process.argv.length - 1]);
process.stdout.write(JSON.stringify({ runs: report.runs.total, full: report.full }) + '\\n');
`;

/** A reader in another process: opens the catalog read-only, answers a query per line on stdin. */
const READER_CHILD = `
import { DuckDBInstance } from '@duckdb/node-api';
import readline from 'node:readline';
const root = process.argv[process.argv.length - 1];
const db = await DuckDBInstance.create(root + '/vault.duckdb', { access_mode: 'READ_ONLY', file_search_path: root });
const con = await db.connect();
const count = async () => {
  const r = await con.runAndReadAll("SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(*) FROM metrics WHERE metric = 'loss') AS points");
  return r.getRowObjectsJson()[0];
};
process.stdout.write(JSON.stringify(await count()) + '\\n');
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (line === 'quit') break;
  process.stdout.write(JSON.stringify(await count()) + '\\n');
}
con.closeSync();
db.closeSync();
process.exit(0);
`;

describe('catalog concurrency', () => {
  it('two indexers in two processes both finish and leave a sound catalog', async () => {
    const root = await vaultWith(60);
    const [a, b] = await Promise.all([
      finished(script(INDEX_CHILD, [root])),
      finished(script(INDEX_CHILD, [root])),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(a.stdout).runs).toBe(60);
    expect(JSON.parse(b.stdout).runs).toBe(60);
    // One of them built the catalog, the other found it up to date or rebuilt it; either way it is whole.
    const q = await VaultQuery.open(root);
    try {
      expect(await q.rows('SELECT count(*) AS n FROM runs')).toEqual([{ n: 60 }]);
      expect(await q.rows("SELECT count(*) AS n FROM metrics WHERE metric = 'loss'")).toEqual([{ n: 1200 }]);
      expect(await q.rows('SELECT count(*) AS n FROM exp_2025_01_02_s059')).toEqual([{ n: 20 }]);
    } finally {
      q.close();
    }
    expect(fs.readdirSync(root).sort()).toEqual(['specimens', 'vault.duckdb', 'vault.duckdb.d']);
  });

  it('two indexers in one process take turns', async () => {
    const root = await vaultWith(5);
    const reports = await Promise.all([indexVault(root), indexVault(root, { full: true }), indexVault(root)]);
    expect(reports.map((r) => r.runs.total)).toEqual([5, 5, 5]);
    expect(fs.existsSync(path.join(root, 'vault.duckdb.lock'))).toBe(false);
  });

  it('fails with CatalogBusyError naming a live holder, and takes over a dead one', async () => {
    const root = await vaultWith(2);
    const lock = path.join(root, 'vault.duckdb.lock');
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    children.push(holder);
    fs.writeFileSync(
      lock,
      JSON.stringify({ pid: holder.pid, host: os.hostname(), since: '2025-01-02T00:00:00Z' }),
    );
    const t0 = performance.now();
    const err = await indexVault(root, { lockTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(err).toBeInstanceOf(CatalogBusyError);
    const busy = err as CatalogBusyError;
    expect(exitCodeOf(busy)).toBe(1);
    expect(busy.holder).toMatchObject({ pid: holder.pid, host: os.hostname() });
    expect(busy.message).toContain(`process ${holder.pid} on ${os.hostname()}`);
    expect(fs.existsSync(path.join(root, 'vault.duckdb'))).toBe(false);

    // The holder dies without releasing: its lock is stale and the next indexer takes it over.
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    const report = await indexVault(root, { lockTimeoutMs: 300 });
    expect(report.runs.total).toBe(2);
    expect(fs.existsSync(lock)).toBe(false);
  });

  it('waits for a live holder that finishes in time', async () => {
    const root = await vaultWith(2);
    const lock = path.join(root, 'vault.duckdb.lock');
    fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, host: os.hostname() }));
    setTimeout(() => fs.rmSync(lock), 200);
    const report = await indexVault(root, { lockTimeoutMs: 10_000 });
    expect(report.runs.total).toBe(2);
  });

  it('respects a lock from another host', async () => {
    const root = await vaultWith(1);
    fs.writeFileSync(
      path.join(root, 'vault.duckdb.lock'),
      JSON.stringify({ pid: 1, host: 'elsewhere.example' }),
    );
    const err = await indexVault(root, { lockTimeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CatalogBusyError);
    expect((err as CatalogBusyError).message).toContain('process 1 on elsewhere.example');
  });

  it('indexes while another process holds the catalog open read-only', async () => {
    const root = await vaultWith(3);
    await indexVault(root);
    const reader = script(READER_CHILD, [root]);
    const done = finished(reader);
    expect(JSON.parse(await nextLine(reader))).toEqual({ runs: '3', points: '60' });
    const opened = fs.readFileSync(path.join(root, 'vault.duckdb'));

    await addRun(root, '2025_01_02_s001', '20250103_100000');
    const incremental = await indexVault(root);
    expect(incremental.runs).toMatchObject({ total: 4, indexed: 1 });
    // An update that only adds runs goes through the delta beside the file, which the reader sees at once…
    expect(fs.readFileSync(path.join(root, 'vault.duckdb')).equals(opened)).toBe(true);
    reader.stdin?.write('again\n');
    expect(JSON.parse(await nextLine(reader))).toEqual({ runs: '4', points: '80' });
    // …and a rewrite of the file keeps the generation the reader's file reads, so it goes on without errors.
    const full = await indexVault(root, { full: true });
    expect(full.runs.total).toBe(4);
    expect(fs.readFileSync(path.join(root, 'vault.duckdb')).equals(opened)).toBe(false);
    reader.stdin?.write('again\n');
    expect(JSON.parse(await nextLine(reader))).toEqual({ runs: '4', points: '80' });
    reader.stdin?.write('quit\n');
    const exit = await done;
    expect(exit.code, exit.stderr).toBe(0);
    // …and a reader that opens now sees the new catalog.
    const q = await VaultQuery.open(root);
    try {
      expect(await q.rows("SELECT count(*) AS n FROM metrics WHERE metric = 'loss'")).toEqual([{ n: 80 }]);
    } finally {
      q.close();
    }
  });

  it('clears build files left by an indexer that died', async () => {
    const root = await vaultWith(1);
    await indexVault(root);
    const leftover = path.join(root, 'vault.duckdb.build-999999-deadbeef');
    fs.writeFileSync(leftover, 'half a database');
    fs.mkdirSync(`${leftover}.rows`);
    await indexVault(root, { full: true });
    expect(fs.readdirSync(root).sort()).toEqual(['specimens', 'vault.duckdb', 'vault.duckdb.d']);
  });

  it('leaves the old catalog in place when an index fails', async () => {
    const root = await vaultWith(2);
    fs.writeFileSync(path.join(root, 'specimen-vault.json'), '{"format_version": 1}');
    await indexVault(root);
    const before = fs.readFileSync(path.join(root, 'vault.duckdb'));
    // specimens/ replaced by a file: listing it fails after the build copy was made.
    const specimens = path.join(root, 'specimens');
    fs.renameSync(specimens, `${specimens}.away`);
    fs.writeFileSync(specimens, 'not a directory');
    await expect(indexVault(root)).rejects.toThrow(/ENOTDIR/);
    expect(fs.readFileSync(path.join(root, 'vault.duckdb')).equals(before)).toBe(true);
    expect(fs.readdirSync(root).sort()).toEqual([
      'specimen-vault.json',
      'specimens',
      'specimens.away',
      'vault.duckdb',
      'vault.duckdb.d',
    ]);
  });
});
