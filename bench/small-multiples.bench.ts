/**
 * Small multiples in Chromium (playwright-core, /usr/bin/chromium) against the built server and web app
 * (`npm run build` first): 512 slices of 113 × 113 (a float32 (512, 113, 113) array, one slice per chunk,
 * zstd) laid out as a grid, from following the link to all 512 drawn (into the grid's one canvas), vs the
 * library's own `readTensorLazy().readAll()` of the same data in Node (target ≤ 3×). Best of 5 on each
 * side, medians in the details. `--quick` uses 128 slices.
 *
 * Timed inside the page (bench/page-marks.ts): from the hash change to the grid marking all slices drawn,
 * so neither the automation protocol's polling nor its first script in a new page counts. The browser's
 * HTTP cache is off, so every visit makes the server read and decode the chunks again, as the library does.
 *
 * @example
 * npm run build && node --expose-gc --import tsx bench/run.ts --only small-multiples
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { type RunningServer, startServer } from '../dist/server/index.js';
import { SpecimenStorage } from '../dist/storage/specimen-storage.js';
import { Vault } from '../dist/storage/vault.js';
import type { BenchOptions, BenchResult } from './harness.js';
import { follow, MARKS_SCRIPT, type Marks } from './page-marks.js';

const CHROMIUM = '/usr/bin/chromium';
const ID = '2025_06_03_small_multiples';
const SIDE = 113;
const REPEATS = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const n = options.quick ? 128 : 512;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sv-bench-sm-'));
  let server: RunningServer | undefined;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  try {
    const vault = await Vault.init(dir);
    await vault.createSpecimen({ specimenId: ID, domain: 'training', method: 'fine_tuning' });
    const storage = await SpecimenStorage.open(ID, { vault });
    await storage.startRun({});
    // Periodic activations, like a grokked network's neurons (each its own frequency).
    const data = new Float32Array(n * SIDE * SIDE);
    for (let k = 0; k < n; k++)
      for (let a = 0; a < SIDE; a++)
        for (let b = 0; b < SIDE; b++)
          data[(k * SIDE + a) * SIDE + b] = Math.cos((2 * Math.PI * (1 + (k % 56)) * (a + b)) / SIDE) ** 2;
    await storage.writeTensors('acts', data, { shape: [n, SIDE, SIDE], chunks: [1, SIDE, SIDE] });
    await storage.finish();
    const runId = storage.runId!;

    const lib: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const t0 = performance.now();
      const t = await storage.readTensorLazy('acts');
      await t.readAll();
      lib.push(performance.now() - t0);
    }

    server = await startServer({ vaultRoot: dir, port: 0, index: false });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.addInitScript(MARKS_SCRIPT);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const ui: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      // A fresh page each time (nothing of the tensor cached in the app), ready before the clock starts.
      await page.goto(`${server.url}?r=${i}#/sql`);
      await page.getByTestId('sql-editor').waitFor();
      const t0 = await follow(page, `#/tensor/${ID}/${runId}/acts?g=0&r=1&c=2`);
      const what = `drawn:${n}`;
      await page.waitForFunction(
        (w) => (globalThis as unknown as Marks).__svMarks.some((m) => m.what === w),
        what,
        { timeout: 120_000 },
      );
      const t1 = (await page.evaluate(
        `window.__svMarks.find((m) => m.what === ${JSON.stringify(what)}).t`,
      )) as number;
      ui.push(t1 - t0);
    }
    const value = Math.min(...ui);
    const baseline = Math.min(...lib);
    const ratio = value / baseline;
    return [
      {
        name: `web.small-multiples.${n}x${SIDE}x${SIDE}`,
        description: `link followed → ${n} small heatmaps drawn vs readTensorLazy().readAll() of the same array`,
        value,
        baseline,
        unit: 'ms',
        ratio,
        target: '≤ 3.0',
        pass: ratio <= 3,
        details: { ui_median_ms: median(ui), library_median_ms: median(lib), slices: n },
      },
    ];
  } finally {
    await browser.close();
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
