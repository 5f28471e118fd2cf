// The research API in process against a generated prime × seed sweep: the explorer's rows checked against
// the catalog's own tables, its filters, sorting and grouping, and its refusal of unknown columns.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexVault, VaultQuery } from '../../src/catalog/index.js';
import { openMemory } from '../../src/duckdb/node-api.js';
import type { ExplorerResponse, GroupsResponse } from '../../src/server/api-types.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { Vault } from '../../src/storage/vault.js';
import { buildExplorerVault, GROKKING, OTHER, PRIMES, SEEDS, STEPS } from '../support/explorer-vault.js';
import { tempDir } from '../support/helpers.js';

let dir: string;
let root: string;
let runs: Map<string, { prime: number; seed: number }>;
let server: RunningServer;
let q: VaultQuery;

beforeAll(async () => {
  dir = tempDir('sv-explorer-');
  ({ root, runs } = await buildExplorerVault(dir));
  server = await startServer({ vaultRoot: root, port: 0, index: false });
  q = await VaultQuery.open(root);
});

afterAll(async () => {
  q?.close();
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function get<T>(target: string): Promise<{ status: number; body: T }> {
  const res = await fetch(new URL(target, server.url));
  return { status: res.status, body: (await res.json()) as T };
}

function explorer(
  params: Record<string, string | string[]> = {},
): Promise<{ status: number; body: ExplorerResponse }> {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) u.append(k, x);
  return get<ExplorerResponse>(`/api/explorer?${u}`);
}

function col(body: ExplorerResponse, key: string): number {
  const i = body.columns.findIndex((c) => c.key === key);
  expect(i, key).toBeGreaterThanOrEqual(0);
  return i;
}

describe('GET /api/explorer', () => {
  it('lists every run with config keys and metric summaries equal to the catalog', async () => {
    const { status, body } = await explorer({ limit: '1000' });
    expect(status).toBe(200);
    expect(body.total).toBe(PRIMES.length * SEEDS.length + 1);
    expect(body.rows).toHaveLength(body.total);
    expect(body.columns.slice(0, 2).map((c) => c.key)).toEqual(['specimen_id', 'run_id']);
    expect(body.columns.find((c) => c.key === 'config.prime')?.kind).toBe('number');
    expect(body.columns.find((c) => c.key === 'config.optimizer')?.kind).toBe('text');
    expect(body.metrics).toEqual(expect.arrayContaining(['loss', 'tokens', 'eval_acc']));
    const catalog = await q.rows(
      `SELECT r.specimen_id, r.run_id, r.status, r.duration_s, json_extract(r.config, '$.prime')::DOUBLE AS prime,
              s."last", s."min", s."max", s.step_of_min
       FROM runs r LEFT JOIN metric_summaries s ON s.specimen_id = r.specimen_id AND s.run_id = r.run_id AND s.metric = 'loss'`,
    );
    expect(catalog).toHaveLength(body.total);
    for (const c of catalog) {
      const row = body.rows.find((r) => r[0] === c.specimen_id && r[1] === c.run_id);
      expect(row, `${c.specimen_id}/${c.run_id}`).toBeDefined();
      expect(row![col(body, 'status')]).toBe(c.status);
      expect(row![col(body, 'duration_s')]).toBe(c.duration_s);
      expect(row![col(body, 'config.prime')]).toBe(c.prime);
      expect(row![col(body, 'loss.final')]).toBe(c.last);
      expect(row![col(body, 'loss.min')]).toBe(c.min);
      expect(row![col(body, 'loss.max')]).toBe(c.max);
      expect(row![col(body, 'loss.step_of_min')]).toBe(c.step_of_min);
    }
  });

  it('sorts, filters and pages', async () => {
    const { body } = await explorer({ sort: 'loss.min', dir: 'asc', limit: '3', offset: '2' });
    const all = (await explorer({ sort: 'loss.min', dir: 'asc', limit: '100' })).body;
    const mins = all.rows.map((r) => r[col(all, 'loss.min')] as number);
    expect(mins).toEqual([...mins].sort((a, b) => a - b));
    expect(body.rows).toEqual(all.rows.slice(2, 5));
    expect(body.total).toBe(all.total);

    const f = (await explorer({ filter: ['config.prime>=113', 'config.seed!=2'], limit: '100' })).body;
    expect(f.total).toBe(4);
    for (const r of f.rows) {
      expect(r[col(f, 'config.prime')]).toBeGreaterThanOrEqual(113);
      expect(r[col(f, 'config.seed')]).not.toBe(2);
    }
    const text = (await explorer({ q: 'PROBE' })).body;
    expect(text.rows.map((r) => r[0])).toEqual([OTHER]);
    const contains = (await explorer({ filter: 'specimen_id~prime' })).body;
    expect(contains.total).toBe(9);
  });

  it('groups by config keys with run counts and means', async () => {
    const { body } = await explorer({ group: 'config.prime', sort: 'config.prime', dir: 'desc' });
    expect(body.runs).toBe(10);
    const prime = col(body, 'config.prime');
    // Three primes and the other specimen's run (no prime: a NULL group).
    expect(body.rows.map((r) => r[prime])).toEqual([127, 113, 97, null]);
    expect(body.counts).toEqual([3, 3, 3, 1]);
    const mean = await q.rows(
      `SELECT avg(s."min") AS m FROM runs r JOIN metric_summaries s USING (specimen_id, run_id)
       WHERE s.metric = 'loss' AND json_extract(r.config, '$.prime')::INT = 113`,
    );
    expect(body.rows[1]![col(body, 'loss.min')]).toBeCloseTo(Number(mean[0]!.m), 12);
    // A shared text value survives grouping; differing ones become null.
    expect(body.rows[0]![col(body, 'specimen_id')]).toBe(GROKKING);
    expect(body.rows[0]![col(body, 'run_id')]).toBeNull();
  });

  it('refuses unknown columns and malformed parameters', async () => {
    const bad: Record<string, string>[] = [
      { sort: 'nope' },
      { group: 'config.nope' },
      { filter: 'config.prime>abc' },
      { filter: 'noop' },
      { filter: 'c0); DROP TABLE runs; --=1' },
      { dir: 'up' },
      { limit: '0' },
    ];
    for (const params of bad) {
      const { status, body } = await explorer(params);
      expect(status, JSON.stringify(params)).toBe(400);
      expect(JSON.stringify(body)).not.toContain(root);
    }
    const post = await fetch(new URL('/api/explorer', server.url), { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
  });
});

function groups(
  params: Record<string, string | string[]>,
): Promise<{ status: number; body: GroupsResponse }> {
  const u = new URLSearchParams();
  for (const r of runs.keys()) u.append('run', r);
  for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) u.append(k, x);
  return get<GroupsResponse>(`/api/groups?${u}`);
}

/** Per prime and step, the loss statistics straight from the runs' Parquet files, by DuckDB. */
async function reference(x = 'step'): Promise<Map<string, Record<string, number | null>>> {
  const files = [...runs.keys()].map((ref) => {
    const [s, r] = ref.split('/');
    return `'${root}/specimens/${s}/runs/${r}/metrics.parquet'`;
  });
  const primes = [...runs.entries()].map(([ref, v]) => `('${ref.split('/')[1]}', ${v.prime})`).join(', ');
  const db = await openMemory();
  try {
    const reader = await db.connection.runAndReadAll(
      `WITH p(run_id, prime) AS (VALUES ${primes})
       SELECT prime, ${x}::DOUBLE AS x, avg(loss) AS mean, median(loss) AS median, stddev_samp(loss) AS std,
              min(loss) AS mn, max(loss) AS mx, count(*)::INT AS n
       FROM read_parquet([${files.join(', ')}]) JOIN p USING (run_id) GROUP BY ALL`,
    );
    const out = new Map<string, Record<string, number | null>>();
    for (const row of reader.getRowObjectsJS())
      out.set(`${row.prime}/${row.x}`, row as unknown as Record<string, number | null>);
    return out;
  } finally {
    db.close();
  }
}

describe('GET /api/groups', () => {
  it('aggregates each group value for value like DuckDB over the same Parquet', async () => {
    const { status, body } = await groups({ metric: 'loss', group: 'prime', width: '2000' });
    expect(status).toBe(200);
    expect(body.downsampled).toBe(false);
    expect(body.groups.map((g) => g.key)).toEqual(PRIMES.map((p) => [p]));
    expect(body.groups.map((g) => g.runs.length)).toEqual([3, 3, 3]);
    const ref = await reference();
    for (const g of body.groups) {
      expect(g.x).toHaveLength(STEPS);
      g.x.forEach((x, i) => {
        const r = ref.get(`${g.key[0]}/${x}`)!;
        expect(g.mean[i]).toBeCloseTo(r.mean!, 12);
        expect(g.median[i]).toBeCloseTo(r.median!, 12);
        expect(g.std[i]).toBeCloseTo(r.std!, 12);
        expect(g.min[i]).toBe(r.mn);
        expect(g.max[i]).toBe(r.mx);
        expect(g.n[i]).toBe(3);
      });
    }
  });

  it('keeps the spikes of the group mean when downsampling', async () => {
    const { body } = await groups({ metric: 'loss', group: 'prime', width: '16' });
    expect(body.downsampled).toBe(true);
    const ref = await reference();
    for (const g of body.groups) {
      expect(g.x.length).toBeLessThanOrEqual(32);
      const means = [...ref.entries()].filter(([k]) => k.startsWith(`${g.key[0]}/`)).map(([, r]) => r.mean!);
      expect(Math.max(...g.mean)).toBeCloseTo(Math.max(...means), 12);
      expect(Math.min(...g.mean)).toBeCloseTo(Math.min(...means), 12);
    }
  });

  it('uses another logged column as x, relative or not, and one group without keys', async () => {
    const { body } = await groups({ metric: 'eval_acc', x: 'tokens', width: '2000' });
    expect(body.groups).toHaveLength(1);
    expect(body.groups[0]!.runs).toHaveLength(9);
    // eval_acc is logged every 10th step: 50 points, at tokens = step × 512.
    expect(body.groups[0]!.x).toEqual(Array.from({ length: STEPS / 10 }, (_, i) => i * 10 * 512));
    const rel = await groups({ metric: 'loss', x: 'tokens', relative: '1', group: 'seed', width: '2000' });
    expect(rel.body.groups.map((g) => g.key)).toEqual(SEEDS.map((s) => [s]));
    expect(rel.body.groups[0]!.x[0]).toBe(0);
  });

  it("reads only the selected runs' metrics files", async () => {
    // Another specimen's run also logs loss; with its metrics file gone, a read of every file with that
    // metric (the metrics view) fails, one of the selected runs' files only does not.
    const [other] = fs.readdirSync(path.join(root, 'specimens', OTHER, 'runs'));
    const file = path.join(root, 'specimens', OTHER, 'runs', other!, 'metrics.parquet');
    const aside = `${file}.aside`;
    fs.chmodSync(path.dirname(file), 0o755);
    fs.renameSync(file, aside);
    try {
      await expect(q.rows("SELECT count(*) AS n FROM metrics WHERE metric = 'loss'")).rejects.toThrow();
      const { status, body } = await groups({ metric: 'loss', group: 'prime', width: '2000' });
      expect(status).toBe(200);
      expect(body.groups.map((g) => g.runs.length)).toEqual([3, 3, 3]);
      expect(body.groups[0]!.x).toHaveLength(STEPS);
    } finally {
      fs.renameSync(aside, file);
    }
  });

  it('refuses bad parameters', async () => {
    for (const params of [
      { metric: '' },
      { metric: 'loss', center: 'mode' },
      { metric: 'loss', group: 'a"b' },
      { metric: 'loss', x: '../x' },
      { metric: 'loss', width: '5' },
    ] as Record<string, string>[]) {
      const { status } = await groups(params);
      expect(status, JSON.stringify(params)).toBe(400);
    }
  });
});

// Last in the file: it adds a run to the vault.
describe('the explorer after an index', () => {
  it('keeps its columns until the catalog changes, then finds the new ones', async () => {
    const before = await explorer({ limit: '1' });
    const again = await explorer({ limit: '1' });
    expect(again.body.columns).toEqual(before.body.columns);
    expect(before.body.columns.some((c) => c.key === 'config.dropout')).toBe(false);
    const generation = await q.generation();
    const vault = await Vault.open(root);
    const s = await SpecimenStorage.open(OTHER, { vault });
    await s.startRun({ config: { width: 32, dropout: 0.1 } });
    await s.writeMetrics({ step: Int32Array.from([0, 1]), loss: Float64Array.from([1, 0.5]) });
    await s.finish({});
    await indexVault(root);
    expect(await q.generation()).not.toBe(generation);
    const after = await explorer({ limit: '1' });
    expect(after.body.total).toBe(before.body.total + 1);
    expect(after.body.columns.find((c) => c.key === 'config.dropout')?.kind).toBe('number');
  });
});
