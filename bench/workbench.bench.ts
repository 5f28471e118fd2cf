/**
 * Research workbench benchmarks, measured in Chromium (playwright-core, /usr/bin/chromium) against the built
 * server and web app (`npm run build` first), each against a baseline measured in the same run:
 *
 * - runs explorer over 100,000 runs (the catalog bench's generated vault: 33,334 specimens × 3 runs):
 *   from following the link to the first table row on screen, timed inside the page, vs the server
 *   answering the same `GET /api/explorer` page alone (fetched from Node; target ≤ 3×);
 * - grouped compare of 5 groups × 10 runs × 100,000 steps: from following the link to the first group
 *   chart drawn (mean with band), timed inside the page, vs fetching that chart's aggregated series
 *   (`GET /api/groups`) alone (target ≤ 3×).
 *
 * `--quick` uses 3,000 runs and 5 × 10 runs × 20,000 steps. Vaults are generated once into os.tmpdir().
 *
 * @example
 * npm run build && node --expose-gc --import tsx bench/run.ts --only workbench
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { indexVault } from '../dist/catalog/index.js';
import { type RunningServer, startServer } from '../dist/server/index.js';
import { SpecimenStorage } from '../dist/storage/specimen-storage.js';
import { Vault } from '../dist/storage/vault.js';
import { benchVault } from './catalog.bench.js';
import type { BenchOptions, BenchResult } from './harness.js';
import { firstPointsAt, follow, MARKS_SCRIPT } from './page-marks.js';

const CHROMIUM = '/usr/bin/chromium';
const WEB_DIR = path.resolve(import.meta.dirname, '..', 'dist', 'web');
const GENERATOR_VERSION = 1;
const GROUPED = '2025_07_01_grouped_sweep';
const GROUPS = 5;
const PER_GROUP = 10;
const REPEATS = 5;

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`workbench bench: ${CHROMIUM} is missing (apt-get install chromium)`);
  if (!fs.existsSync(path.join(WEB_DIR, 'index.html')))
    throw new Error('workbench bench: run `npm run build` first');
  const specimens = options.quick ? 1_000 : 33_334;
  const steps = options.quick ? 20_000 : 100_000;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.addInitScript(MARKS_SCRIPT);
    const results: BenchResult[] = [];
    const runsRoot = await benchVault(specimens);
    const t0 = performance.now();
    await indexVault(runsRoot);
    const indexMs = performance.now() - t0;
    let server = await startServer({ vaultRoot: runsRoot, port: 0, index: false });
    try {
      results.push(await explorerBench(page, server, specimens * 3, indexMs));
    } finally {
      await server.close();
    }
    const grouped = await groupedVault(steps);
    server = await startServer({ vaultRoot: grouped.root, port: 0, index: false });
    try {
      results.push(await groupedBench(page, server, grouped.runs, steps));
    } finally {
      await server.close();
    }
    return results;
  } finally {
    await browser.close();
  }
}

export async function explorerBench(
  page: Page,
  server: RunningServer,
  runs: number,
  indexMs: number,
): Promise<BenchResult> {
  // The page's first request: the first page of rows, newest first (see web/src/pages/explorer/rows.ts).
  const api = `${server.url}api/explorer?offset=0&limit=200`;
  let bytes = 0;
  let total = 0;
  let queryMs = 0;
  const fetchOnce = async () => {
    const t0 = performance.now();
    const res = await fetch(api);
    const text = await res.text();
    const ms = performance.now() - t0;
    const body = JSON.parse(text) as { total: number; queryMs: number };
    bytes = text.length;
    total = body.total;
    queryMs = body.queryMs;
    return ms;
  };
  await page.goto(`${server.url}#/sql`);
  await page.getByTestId('sql-editor').waitFor();
  const loadOnce = async () => {
    await page.evaluate(`location.hash = '#/sql'`);
    await page.getByTestId('sql-editor').waitFor();
    const t0 = await follow(page, '#/explorer');
    await page.waitForSelector('[data-testid="explorer-table-row"]', { timeout: 120_000 });
    // Timed inside the page: the first row's appearance, as a MutationObserver would see it, is close to
    // the moment the selector resolves; take the page's clock right away.
    const t1 = (await page.evaluate('performance.now()')) as number;
    return t1 - t0;
  };
  await fetchOnce();
  await loadOnce();
  let baseline = Number.POSITIVE_INFINITY;
  let value = Number.POSITIVE_INFINITY;
  for (let i = 0; i < REPEATS; i++) {
    baseline = Math.min(baseline, await fetchOnce());
    value = Math.min(value, await loadOnce());
  }
  if (total !== runs) throw new Error(`workbench bench: the explorer has ${total} runs, expected ${runs}`);
  const domRows = await page.locator('[data-testid="explorer-table-row"]').count();
  const ratio = value / baseline;
  return {
    name: `web.explorer.${runs}`,
    description: `runs explorer of ${runs} runs: link followed to the first row on screen vs GET /api/explorer alone`,
    value,
    baseline,
    unit: 'ms',
    ratio,
    target: '≤ 3.0',
    pass: ratio <= 3,
    details: { payloadBytes: bytes, serverQueryMs: queryMs, domRowsShown: domRows, indexMs },
  };
}

async function groupedBench(
  page: Page,
  server: RunningServer,
  runs: string[],
  steps: number,
): Promise<BenchResult> {
  const refs = runs.map((r) => `run=${encodeURIComponent(`${GROUPED}/${r}`)}`).join('&');
  const hash = `#/compare?${refs}&group=prime`;
  let width = 0;
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (u.pathname === '/api/groups') width = Number(u.searchParams.get('width')) || width;
  });
  await page.goto(`${server.url}#/sql`);
  await page.getByTestId('sql-editor').waitFor();
  const clickOnce = async (timeout = 60_000) => {
    await page.evaluate(`location.hash = '#/sql'`);
    await page.getByTestId('sql-editor').waitFor();
    const t0 = await follow(page, hash);
    return (await firstPointsAt(page, timeout)) - t0;
  };
  const coldMs = await clickOnce(300_000);
  if (!width) throw new Error('workbench bench: the compare page asked for no groups');
  const groupsUrl = `${server.url}api/groups?${refs}&metric=loss&group=prime&width=${width}`;
  let payloadBytes = 0;
  let points = 0;
  const fetchOnce = async () => {
    const t0 = performance.now();
    const res = await fetch(groupsUrl);
    const text = await res.text();
    const ms = performance.now() - t0;
    const body = JSON.parse(text) as { groups: { x: number[]; runs: string[] }[] };
    if (body.groups.length !== GROUPS || body.groups.some((g) => g.runs.length !== PER_GROUP))
      throw new Error('workbench bench: unexpected groups');
    payloadBytes = text.length;
    points = Math.max(...body.groups.map((g) => g.x.length));
    return ms;
  };
  await fetchOnce();
  let baseline = Number.POSITIVE_INFINITY;
  let value = Number.POSITIVE_INFINITY;
  for (let i = 0; i < REPEATS; i++) {
    baseline = Math.min(baseline, await fetchOnce());
    value = Math.min(value, await clickOnce());
  }
  const ratio = value / baseline;
  return {
    name: `web.groups.${GROUPS}x${PER_GROUP}x${steps}`,
    description: `grouped compare of ${GROUPS} groups × ${PER_GROUP} runs × ${steps} steps: link followed to the first band drawn vs GET /api/groups alone`,
    value,
    baseline,
    unit: 'ms',
    ratio,
    target: '≤ 3.0',
    pass: ratio <= 3,
    details: { chartWidthPx: width, maxPointsPerGroup: points, payloadBytes, firstVisitMs: coldMs },
  };
}

/** 5 primes × 10 seeds, each run `steps` rows of loss; generated once, indexed, reused. */
async function groupedVault(steps: number): Promise<{ root: string; runs: string[] }> {
  const root = path.join(os.tmpdir(), `sv-bench-workbench-v${GENERATOR_VERSION}-${steps}`);
  const done = path.join(root, '.complete.json');
  if (fs.existsSync(done))
    return JSON.parse(fs.readFileSync(done, 'utf8')) as { root: string; runs: string[] };
  fs.rmSync(root, { recursive: true, force: true });
  const vault = await Vault.init(root, { name: 'workbench-bench' });
  await vault.createSpecimen({
    specimenId: GROUPED,
    domain: 'training',
    method: 'ablation_study',
    model: 'tiny',
  });
  const runs: string[] = [];
  const step = Int32Array.from({ length: steps }, (_, i) => i);
  for (let g = 0; g < GROUPS; g++) {
    for (let seed = 0; seed < PER_GROUP; seed++) {
      const s = await SpecimenStorage.open(GROUPED, { vault });
      await s.startRun({ seeds: { global: seed }, config: { prime: 97 + g * 10, seed } });
      const loss = Float64Array.from(
        { length: steps },
        (_, i) =>
          2 * Math.exp(-i / (steps / (3 + g))) + 0.02 * Math.sin(i / 50 + seed) + (i % 9973 === 0 ? 1 : 0),
      );
      await s.writeMetrics({ step, loss });
      await s.finish({});
      runs.push(s.runId!);
    }
  }
  await indexVault(root);
  const out = { root, runs };
  fs.writeFileSync(done, JSON.stringify(out));
  return out;
}
