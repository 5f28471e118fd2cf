/**
 * Web app benchmarks, measured in Chromium (playwright-core, /usr/bin/chromium) against the built server and
 * web app (`npm run build` first), each against a baseline measured in the same run:
 *
 * - catalog of a generated 10,000-specimen vault: navigation to the first table row on screen vs the server
 *   answering `GET /api/catalog` alone (fetched from Node; target ≤ 3×); details: DOM rows while showing
 *   10,000 (virtualisation) and the time per scroll step through the whole table;
 * - compare 20 runs × 100,000 steps of one metric: from the link being followed (hash change) to the chart
 *   drawn, timed inside the page, vs fetching the same downsampled series alone (target ≤ 3×); the payload
 *   must stay ≤ ~4,000 points per run;
 * - tensor viewer: a 512 × 512 slice of a 1 GiB float32 array (16 × 4096 × 4096, default chunks, zstd):
 *   from moving the slider to the heatmap drawn, timed inside the page, vs the library's own
 *   `readTensorLazy().read()` of the same slice (target ≤ 2×); best of 24 fresh slices on each side, with
 *   both medians in the details.
 *
 * `--quick` uses 1,000 specimens, 20 runs × 20,000 steps and a 64 MiB (4 × 2048 × 2048) array. The vault is
 * generated once into os.tmpdir() and reused by later runs.
 *
 * @example
 * npm run build && node --expose-gc --import tsx bench/run.ts --only web
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { indexVault } from '../dist/catalog/index.js';
import { encodeManifest } from '../dist/format/msgpack.js';
import { type RunningServer, startServer } from '../dist/server/index.js';
import { SpecimenStorage } from '../dist/storage/specimen-storage.js';
import { Vault } from '../dist/storage/vault.js';
import type { BenchOptions, BenchResult } from './harness.js';
import { firstPointsAt, follow, MARKS_SCRIPT, type Marks } from './page-marks.js';

const CHROMIUM = '/usr/bin/chromium';
const WEB_DIR = path.resolve(import.meta.dirname, '..', 'dist', 'web');
const GENERATOR_VERSION = 1;
const COMPARE = '2025_06_01_compare_twenty';
const TENSOR = '2025_06_02_big_tensor';
const RUNS = 20;
const SLICE = 512;
const REPEATS = 5;

export interface Sizes {
  specimens: number;
  steps: number;
  shape: [number, number, number];
}

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`web bench: ${CHROMIUM} is missing (apt-get install chromium)`);
  if (!fs.existsSync(path.join(WEB_DIR, 'index.html')))
    throw new Error('web bench: run `npm run build` first');
  const sizes: Sizes = options.quick
    ? { specimens: 1_000, steps: 20_000, shape: [4, 2048, 2048] }
    : { specimens: 10_000, steps: 100_000, shape: [16, 4096, 4096] };
  const { root, compareRuns, tensorRun } = await benchVault(sizes);
  const server = await startServer({ vaultRoot: root, port: 0, index: false });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.addInitScript(MARKS_SCRIPT);
    return [
      await catalogBench(page, server, sizes),
      await compareBench(page, server, sizes, compareRuns),
      await tensorBench(page, server, root, sizes, tensorRun),
    ];
  } finally {
    await browser.close();
    await server.close();
  }
}

export async function catalogBench(page: Page, server: RunningServer, sizes: Sizes): Promise<BenchResult> {
  const api = `${server.url}api/catalog`;
  let bytes = 0;
  let queryMs = 0;
  const fetchOnce = async () => {
    const t0 = performance.now();
    const res = await fetch(api);
    const body = await res.arrayBuffer();
    const ms = performance.now() - t0;
    bytes = body.byteLength;
    queryMs = (JSON.parse(Buffer.from(body).toString('utf8')) as { queryMs: number }).queryMs;
    return ms;
  };
  // A full page load each time, from a page of the same origin (so the browser reuses its renderer process,
  // as it does for a user following a link or reloading).
  let n = 0;
  const loadOnce = async () => {
    await page.goto(`${server.url}?from=${n}#/sql`);
    await page.getByTestId('sql-editor').waitFor();
    const t0 = performance.now();
    await page.goto(`${server.url}?load=${n++}`, { waitUntil: 'commit' });
    await page.waitForSelector('[data-testid="catalog-row"]');
    return performance.now() - t0;
  };
  await fetchOnce();
  await loadOnce();
  let baseline = Number.POSITIVE_INFINITY;
  let value = Number.POSITIVE_INFINITY;
  for (let i = 0; i < REPEATS; i++) {
    baseline = Math.min(baseline, await fetchOnce());
    value = Math.min(value, await loadOnce());
  }
  const domRows = await page.locator('[data-testid="catalog-row"]').count();
  // Scroll through the whole table in 40 steps, two frames each.
  // (A string: the bench runs through tsx, whose helpers do not exist in the page.)
  const scrollMs = (await page.evaluate(`(async () => {
    const box = document.querySelector('[data-testid="catalog"]');
    const t0 = performance.now();
    for (let k = 1; k <= 40; k++) {
      box.scrollTop = ((box.scrollHeight - box.clientHeight) * k) / 40;
      await new Promise((r) => requestAnimationFrame(() => r()));
      await new Promise((r) => requestAnimationFrame(() => r()));
    }
    return (performance.now() - t0) / 40;
  })()`)) as number;
  const ratio = value / baseline;
  return {
    name: `web.catalog.${sizes.specimens}`,
    description: `catalog page of ${sizes.specimens} specimens: navigation to the first row on screen vs GET /api/catalog alone`,
    value,
    baseline,
    unit: 'ms',
    ratio,
    target: '≤ 3.0',
    pass: ratio <= 3,
    details: {
      payloadBytes: bytes,
      serverQueryMs: queryMs,
      domRowsShown: domRows,
      msPerScrollStep: scrollMs,
    },
  };
}

async function compareBench(
  page: Page,
  server: RunningServer,
  sizes: Sizes,
  runs: string[],
): Promise<BenchResult> {
  const hash = `#/compare?${runs.map((r) => `run=${encodeURIComponent(`${COMPARE}/${r}`)}`).join('&')}`;
  // The page asks /api/compare (which brings the first charts' series, downsampled to the chart width) or
  // /api/series; the baseline fetches that chart's series alone at the same width.
  let width = 0;
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (u.pathname === '/api/compare' || u.pathname === '/api/series')
      width = Number(u.searchParams.get('width')) || width;
  });
  await page.goto(`${server.url}#/sql`);
  await page.getByTestId('sql-editor').waitFor();
  const clickOnce = async (timeout = 30_000) => {
    await page.evaluate(`location.hash = '#/sql'`);
    await page.getByTestId('sql-editor').waitFor();
    // Timed inside the page: from following the link to the chart's first draw with data.
    const t0 = await follow(page, hash);
    return (await firstPointsAt(page, timeout)) - t0;
  };
  // The first visit reads the 20 runs' metrics from disk into the server's cache.
  const coldMs = await clickOnce(300_000);
  if (!width) throw new Error('web bench: the compare page asked for no chart width');
  const seriesUrl = `${server.url}api/series?${runs.map((r) => `run=${encodeURIComponent(`${COMPARE}/${r}`)}`).join('&')}&metric=loss&width=${width}`;
  let maxPoints = 0;
  let total = 0;
  let payloadBytes = 0;
  const fetchOnce = async () => {
    const t0 = performance.now();
    const res = await fetch(seriesUrl);
    const text = await res.text();
    const body = JSON.parse(text) as { series: { steps: number[]; total: number }[] };
    const ms = performance.now() - t0;
    payloadBytes = text.length;
    maxPoints = Math.max(...body.series.map((s) => s.steps.length));
    total = body.series.reduce((a, s) => a + s.total, 0);
    if (body.series.length !== runs.length)
      throw new Error(`web bench: ${body.series.length} series for ${runs.length} runs`);
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
    name: `web.compare.${RUNS}x${sizes.steps}`,
    description: `compare ${RUNS} runs × ${sizes.steps} steps of one metric: link followed to chart drawn vs fetching the downsampled series alone`,
    value,
    baseline,
    unit: 'ms',
    ratio,
    target: '≤ 3.0 and ≤ 4,000 points per run',
    pass: ratio <= 3 && maxPoints <= 4002,
    details: {
      chartWidthPx: width,
      maxPointsPerRun: maxPoints,
      pointsInRuns: total,
      payloadBytes,
      firstVisitMs: coldMs,
    },
  };
}

async function tensorBench(
  page: Page,
  server: RunningServer,
  root: string,
  sizes: Sizes,
  runId: string,
): Promise<BenchResult> {
  const [depth, rows, cols] = sizes.shape;
  const storage = await SpecimenStorage.open(TENSOR, { vault: root });
  const handle = await storage.readTensorLazy('big', runId);
  // Slices not shown before (each a fresh request): every index along the slider, each at up to three
  // column offsets, best of them on both sides. Many samples, because a single slice on a shared two-core
  // machine can take twice its best time on either side (a full GC, another process on the other core).
  const offsets = [0, SLICE, 2 * SLICE].filter((o) => o + SLICE <= cols!);
  const samples = Array.from({ length: depth! - 1 }, (_, i) => i + 1)
    .flatMap((k) => offsets.map((o) => ({ k, o })))
    .slice(0, 24);
  const sel = ({ k, o }: { k: number; o: number }) => `${k},0:${SLICE},${o}:${o + SLICE}`;
  // Library: the same slices (a first pass warms the OS page cache for both sides).
  const libraryOnce = async ({ k, o }: { k: number; o: number }) => {
    const t0 = performance.now();
    const { data } = await handle.read([k, [0, SLICE], [o, o + SLICE]]);
    const ms = performance.now() - t0;
    if (data.length !== SLICE * SLICE) throw new Error('web bench: wrong slice size');
    return ms;
  };
  for (const sample of samples) await libraryOnce(sample);
  const hashFor = ({ k, o }: { k: number; o: number }) =>
    `#/tensor/${TENSOR}/${runId}/big?at=${k},0,0&rr=0:${SLICE}&cr=${o}:${o + SLICE}`;
  await page.goto(`${server.url}${hashFor({ k: 0, o: 0 })}`);
  await page.waitForSelector(`[data-testid="heatmap"] canvas[data-drawn="0,0:${SLICE},0:${SLICE}"]`);
  await page.waitForTimeout(200);
  const viewOnce = async (sample: { k: number; o: number }) => {
    const key = sel(sample);
    // Timed inside the page: from the slider's new position (the URL it writes) to the heatmap drawn.
    const t0 = (await page.evaluate(
      `(() => { window.__svMarks = []; const t = performance.now(); history.replaceState(null, '', ${JSON.stringify(hashFor(sample))}); dispatchEvent(new HashChangeEvent('hashchange')); return t; })()`,
    )) as number;
    await page.waitForFunction(
      (what) => (globalThis as unknown as Marks).__svMarks.some((m) => m.what === what),
      `drawn:${key}`,
    );
    const t1 = (await page.evaluate(
      `window.__svMarks.find((m) => m.what === ${JSON.stringify(`drawn:${key}`)}).t`,
    )) as number;
    return t1 - t0;
  };
  const libMs: number[] = [];
  const viewMs: number[] = [];
  for (const sample of samples) {
    libMs.push(await libraryOnce(sample));
    viewMs.push(await viewOnce(sample));
  }
  const baseline = Math.min(...libMs);
  const value = Math.min(...viewMs);
  const ratio = value / baseline;
  return {
    name: `web.tensor.slice${SLICE}`,
    description: `tensor viewer: ${SLICE}×${SLICE} slice of a ${((depth * rows * cols * 4) / 2 ** 30).toFixed(2)} GiB float32 array (${sizes.shape.join('×')}), slider moved to heatmap drawn vs readTensorLazy().read() of the same slice`,
    value,
    baseline,
    unit: 'ms',
    ratio,
    target: '≤ 2.0',
    pass: ratio <= 2,
    details: {
      chunks: handle.chunks.join('x'),
      slices: samples.length,
      medianMs: median(viewMs),
      baselineMedianMs: median(libMs),
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Generates (once) the vault: N specimens with one run each, the compare specimen and the big tensor. */
async function benchVault(sizes: Sizes): Promise<{ root: string; compareRuns: string[]; tensorRun: string }> {
  const root = path.join(
    os.tmpdir(),
    `sv-bench-web-v${GENERATOR_VERSION}-${sizes.specimens}-${sizes.steps}-${sizes.shape.join('x')}`,
  );
  const doneFile = path.join(root, '.complete.json');
  if (fs.existsSync(doneFile))
    return JSON.parse(fs.readFileSync(doneFile, 'utf8')) as {
      root: string;
      compareRuns: string[];
      tensorRun: string;
    };
  fs.rmSync(root, { recursive: true, force: true });
  const t0 = performance.now();
  const vault = await Vault.init(root, { name: 'web-bench' });
  const domains = [
    ['interpretability', 'sae_analysis'],
    ['interpretability', 'probe_training'],
    ['training', 'fine_tuning'],
    ['benchmarking', 'ablation_study'],
    ['alignment', 'fine_tuning'],
  ] as const;
  const models = ['gpt2', 'gemma-2-2b', 'pythia-160m', 'tiny-mlp', 'synthetic'];
  const statuses = ['succeeded', 'succeeded', 'succeeded', 'failed', 'interrupted'];
  for (let s = 0; s < sizes.specimens; s++) {
    const day = new Date(Date.UTC(2024, 0, 1) + s * 3_600_000);
    const date = day.toISOString().slice(0, 10).replaceAll('-', '_');
    const sid = `${date}_generated_${String(s).padStart(5, '0')}`;
    const dir = path.join(vault.specimensDir, sid);
    const runId = `${day.toISOString().slice(0, 10).replaceAll('-', '')}_120000`;
    fs.mkdirSync(path.join(dir, 'runs', runId), { recursive: true });
    const [domain, method] = domains[s % domains.length]!;
    fs.writeFileSync(
      path.join(dir, 'manifest.msgpack'),
      encodeManifest({
        specimen_id: sid,
        created: day.toISOString(),
        taxonomy: { domain, method },
        model: models[s % models.length]!,
        status: s % 17 === 0 ? 'archived' : 'active',
        tags: ['generated', `group_${s % 10}`, ...(s % 7 === 0 ? ['sweep'] : [])],
        description: `Generated specimen number ${s} for the web benchmark`,
        dependencies: {},
        artifacts: {},
      }),
    );
    fs.writeFileSync(
      path.join(dir, 'runs', runId, 'manifest.msgpack'),
      encodeManifest({
        run_id: runId,
        run_timestamp: day.toISOString(),
        started: day.toISOString(),
        ended: new Date(day.getTime() + 60_000).toISOString(),
        status: statuses[s % statuses.length]!,
        seeds: { global: s },
        config: { lr: 0.001 * ((s % 5) + 1) },
        summary: {},
        artifacts: {},
      }),
    );
  }
  await vault.createSpecimen({
    specimenId: COMPARE,
    domain: 'training',
    method: 'fine_tuning',
    model: 'tiny-mlp',
    tags: ['sweep'],
    description: `${RUNS} seeds × ${sizes.steps} steps`,
  });
  const compareRuns: string[] = [];
  const step = Int32Array.from({ length: sizes.steps }, (_, i) => i);
  for (let r = 0; r < RUNS; r++) {
    const s = await SpecimenStorage.open(COMPARE, { vault });
    await s.startRun({ seeds: { global: r }, config: { lr: 0.001 * (1 + (r % 4)), seed: r } });
    let x = r * 7919;
    const loss = Float64Array.from({ length: sizes.steps }, (_, i) => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return (
        2 * Math.exp(-i / (sizes.steps / (3 + r / 10))) + 0.05 * (x / 2147483648) + (i % 9973 === r ? 1.5 : 0)
      );
    });
    await s.writeMetrics({ step, loss });
    await s.finish();
    compareRuns.push(s.runId!);
  }
  await vault.createSpecimen({
    specimenId: TENSOR,
    domain: 'interpretability',
    method: 'sae_analysis',
    model: 'synthetic',
  });
  const t = await SpecimenStorage.open(TENSOR, { vault });
  await t.startRun({ seeds: { global: 0 } });
  const [d, h, w] = sizes.shape;
  const big = new Float32Array(d * h * w);
  for (let k = 0; k < d; k++) {
    for (let i = 0; i < h; i++) {
      const base = (k * h + i) * w;
      const row = Math.sin(i / 50 + k);
      for (let j = 0; j < w; j++)
        big[base + j] = row * Math.cos(j / 70) + ((i * 31 + j * 17 + k) % 101) / 200;
    }
  }
  await t.writeTensors('big', big, { shape: sizes.shape });
  await t.finish();
  const tensorRun = t.runId!;
  await indexVault(root);
  const out = { root, compareRuns, tensorRun };
  fs.writeFileSync(doneFile, JSON.stringify(out));
  console.log(`web bench: generated ${root} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return out;
}
