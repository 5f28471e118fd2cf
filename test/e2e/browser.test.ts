// End to end in Chromium (driven by playwright-core): the built web app served by `startServer` over a real
// vault — the demo specimen, a generated learning-rate sweep with a 3-D tensor, and a run still in progress.
// Each test saves a screenshot to test/artifacts/. Without /usr/bin/chromium the tests skip with a warning,
// except in CI, where that is a failure.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexVault } from '../../src/catalog/index.js';
import { runSyntheticDemo } from '../../src/demo/run-demo.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { Vault } from '../../src/storage/vault.js';
import { buildWebIfMissing, CHROMIUM, HAVE_CHROMIUM, launchChromium } from '../support/chromium.js';
import { REPO_ROOT, tempDir } from '../support/helpers.js';

const ARTIFACTS = path.join(REPO_ROOT, 'test', 'artifacts');
const SWEEP = '2025_03_01_lr_sweep';
const SERIES_BLUE = [78, 121, 167]; // first colour of the palette (#4e79a7)

if (!HAVE_CHROMIUM && !process.env.CI) {
  console.warn(
    `\n!!! ${CHROMIUM} is missing: the browser end-to-end tests are SKIPPED (apt-get install chromium) !!!\n`,
  );
}

if (!HAVE_CHROMIUM && process.env.CI) {
  describe('browser (CI)', () => {
    it('has Chromium', () => {
      throw new Error(`${CHROMIUM} is missing: CI must install chromium for the browser tests (see .ci/run)`);
    });
  });
}

describe.runIf(HAVE_CHROMIUM)('web app in Chromium', () => {
  let dir: string;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let sweepRuns: string[];
  let live: SpecimenStorage;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    buildWebIfMissing();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    dir = tempDir('sv-browser-');
    const vault = await Vault.init(path.join(dir, 'vault'));
    await runSyntheticDemo({ vault });
    await runSyntheticDemo({ vault, seed: 7 });
    await vault.createSpecimen({
      specimenId: SWEEP,
      domain: 'training',
      method: 'fine_tuning',
      model: 'tiny-mlp',
      tags: ['sweep', 'lr'],
      description: 'Learning-rate sweep of a tiny MLP',
    });
    fs.writeFileSync(
      path.join(vault.specimenDir(SWEEP), 'field_notes.md'),
      '# Purpose\n\nFind the **best** learning rate.\n\n<script>window.__xss = 1</script><img src="x" onerror="window.__xss = 2">\n',
    );
    sweepRuns = [];
    for (const [k, lr] of [1e-3, 3e-3].entries()) {
      const s = await SpecimenStorage.open(SWEEP, { vault });
      await s.startRun({ seeds: { global: k + 1 }, config: { lr, layers: 2 } });
      const n = 20_000;
      const step = Int32Array.from({ length: n }, (_, i) => i);
      const loss = Float64Array.from(
        { length: n },
        (_, i) => 2 * Math.exp(-i * lr * 0.2) + 0.05 * Math.sin(i / 40) + 0.1,
      );
      await s.writeMetrics({ step, loss, acc: Float64Array.from(loss, (v) => 1 - v / 2.2) });
      const w = Float32Array.from(
        { length: 4 * 32 * 48 },
        (_, i) => Math.sin(i / 17) + (k + 1) * ((i % 48) / 48),
      );
      await s.writeTensors('weights', w, { shape: [4, 32, 48], chunks: [1, 32, 48] });
      await s.finish({ summary: { final_loss: loss[n - 1]! } });
      sweepRuns.push(s.runId!);
    }
    live = await SpecimenStorage.open(SWEEP, { vault });
    await live.startRun({ config: { lr: 0.01, layers: 2 } });
    const writer = live.metricsWriter({ flushIntervalMs: 60_000 });
    for (let i = 0; i < 40; i++) writer.log({ step: i, loss: 2 / (i + 1) });
    await writer.flush();
    await indexVault(vault.root);
    server = await startServer({ vaultRoot: vault.root, port: 0, index: false });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await live?.finish().catch(() => {});
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    expect(pageErrors).toEqual([]);
  });

  const shot = (name: string) =>
    page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  /** Pixels of a canvas close to `rgb` (a drawn series or heatmap colour). */
  const pixelsLike = (selector: string, rgb: number[] | null) =>
    page.evaluate(
      ([sel, color]) => {
        // Runs in the page (the test project has no DOM types).
        type Canvas = {
          width: number;
          height: number;
          getContext(kind: '2d'): {
            getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
          };
        };
        const doc = (globalThis as unknown as { document: { querySelector(s: string): Canvas | null } })
          .document;
        const canvas = doc.querySelector(sel as string);
        if (!canvas) return -1;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3]! < 200) continue;
          const c = color as number[] | null;
          if (
            !c ||
            (Math.abs(data[i]! - c[0]!) < 30 &&
              Math.abs(data[i + 1]! - c[1]!) < 30 &&
              Math.abs(data[i + 2]! - c[2]!) < 30)
          )
            n++;
        }
        return n;
      },
      [selector, rgb] as const,
    );

  it('loads the catalog, filters it and keeps the filters in the URL', async () => {
    await page.goto(server.url);
    await page.getByTestId('catalog-row').first().waitFor();
    expect(await page.getByTestId('catalog-row').count()).toBe(2);
    await page.getByTestId('filter-q').fill('sweep');
    await expect.poll(() => page.getByTestId('catalog-row').count()).toBe(1);
    expect(await page.getByTestId('catalog-row').first().textContent()).toContain(SWEEP);
    await page.getByTestId('filter-q').fill('');
    await page.getByTestId('filter-domain').selectOption('interpretability');
    await expect.poll(() => page.getByTestId('catalog-row').count()).toBe(1);
    expect(page.url()).toContain('domain=interpretability');
    // The URL is shareable: loading it again shows the same filtered view.
    await page.reload();
    await page.getByTestId('catalog-row').first().waitFor();
    expect(await page.getByTestId('catalog-row').count()).toBe(1);
    expect(await page.getByTestId('catalog-count').textContent()).toBe('1 of 2 specimens');
    await page.getByTestId('filter-domain').selectOption('');
    await page.locator('[data-sort-key="specimen_id"]').click();
    await expect.poll(() => page.getByTestId('catalog-row').first().textContent()).toContain(SWEEP);
    expect(page.url()).toContain('sort=specimen_id');
    await shot('catalog');
  });

  it('opens a specimen with its notes (sanitized) and draws its run charts', async () => {
    await page.goto(server.url);
    await page.getByRole('link', { name: SWEEP }).click();
    await page.getByTestId('specimen-title').waitFor();
    expect(page.url()).toContain(`#/specimen/${SWEEP}`);
    await expect.poll(() => page.locator('.markdown strong').textContent()).toBe('best');
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('.markdown script, .markdown [onerror]').count()).toBe(0);
    // Open a sealed run: a chart per numeric metric, drawn on canvas.
    await page.getByRole('link', { name: sweepRuns[0]!, exact: true }).first().click();
    await expect.poll(() => page.getByTestId('metric-chart').count()).toBe(2);
    await expect
      .poll(() => pixelsLike('[data-testid="metric-chart"] canvas', SERIES_BLUE), { timeout: 10_000 })
      .toBeGreaterThan(100);
    expect(await page.getByTestId('tensors-table').textContent()).toContain('weights');
    await shot('specimen');
  });

  it('refreshes a run in progress until it is sealed', async () => {
    await page.goto(`${server.url}#/specimen/${SWEEP}/run/${live.runId}`);
    await page.getByTestId('live').waitFor();
    await expect.poll(() => page.getByTestId('metrics-heading').textContent()).toContain('40 rows');
    const writer = live.metricsWriter();
    for (let i = 40; i < 90; i++) writer.log({ step: i, loss: 2 / (i + 1) });
    await writer.flush();
    await expect
      .poll(() => page.getByTestId('metrics-heading').textContent(), { timeout: 10_000 })
      .toContain('90 rows');
    await shot('live-run');
    await live.finish();
    await page.getByTestId('live').waitFor({ state: 'detached', timeout: 10_000 });
    expect(await page.getByTestId('run-heading').textContent()).toContain('succeeded');
  });

  it('compares two runs and pins a step by clicking a point', async () => {
    const refs = sweepRuns.map((r) => `run=${SWEEP}/${r}`).join('&');
    await page.goto(`${server.url}#/compare?${refs}`);
    await page.getByTestId('compare-chart').first().waitFor();
    expect(await page.getByTestId('compare-chart').count()).toBe(2);
    await expect
      .poll(() => pixelsLike('[data-testid="compare-chart"] canvas', SERIES_BLUE), { timeout: 10_000 })
      .toBeGreaterThan(100);
    expect(await page.getByTestId('config-diff').textContent()).toContain('lr');
    expect(await page.getByTestId('config-diff').textContent()).not.toContain('layers');
    expect(await page.getByTestId('summary-table').locator('tbody tr').count()).toBe(4);
    // Hover shows every run's value; click pins the step.
    const over = page.locator('[data-testid="compare-chart"] .u-over').first();
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(() => page.locator('.chart-tip').first().textContent()).toContain(sweepRuns[1]!);
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.getByTestId('pinned-table').waitFor();
    expect(page.url()).toMatch(/step=\d+/);
    expect(await page.getByTestId('pinned-table').locator('tbody tr').count()).toBe(2);
    // Dragging across a chart zooms: the server is asked for that step range only, at pixel resolution.
    const zoomed = page.waitForRequest((r) => r.url().includes('/api/series?') && r.url().includes('from='));
    const plot = (await over.boundingBox())!; // the pinned table moved the charts down
    await page.mouse.move(plot.x + plot.width * 0.3, plot.y + plot.height / 2);
    await page.mouse.down();
    await page.mouse.move(plot.x + plot.width * 0.5, plot.y + plot.height / 2, { steps: 5 });
    await page.mouse.up();
    const url = new URL((await zoomed).url());
    const from = Number(url.searchParams.get('from'));
    const to = Number(url.searchParams.get('to'));
    expect(to - from).toBeGreaterThan(1000);
    expect(to - from).toBeLessThan(10_000);
    await page.getByRole('button', { name: 'reset zoom' }).click();
    // Log scale and smoothing redraw the charts.
    await page.getByTestId('log-scale').check();
    expect(page.url()).toContain('log=1');
    await expect
      .poll(() => pixelsLike('[data-testid="compare-chart"] canvas', SERIES_BLUE))
      .toBeGreaterThan(100);
    await shot('compare');
  });

  it('shows a tensor slice as a heatmap, with sliders and hover', async () => {
    await page.goto(`${server.url}#/specimen/${SWEEP}/run/${sweepRuns[1]}`);
    await page.getByTestId('view-tensor').click();
    await page.getByTestId('heatmap').waitFor();
    await expect.poll(() => pixelsLike('[data-testid="heatmap"] canvas', null)).toBe(32 * 48);
    const slider = page.getByTestId('slider-0');
    await slider.fill('3');
    await expect.poll(() => page.locator('.tensor-page').textContent()).toContain('slice [3,:,:]');
    const canvas = (await page.locator('[data-testid="heatmap"] canvas').boundingBox())!;
    await page.mouse.move(canvas.x + 5, canvas.y + 5);
    await expect.poll(() => page.getByTestId('heatmap-tip').textContent()).toMatch(/^\[3, 0, 0\] = /);
    await shot('tensor');
  });

  it('runs SQL, shows rows and a chart, and shows an error with its position', async () => {
    await page.goto(`${server.url}#/sql`);
    const editor = page.getByTestId('sql-editor');
    await editor.fill(
      `SELECT step, loss FROM exp_${SWEEP} WHERE run_id = '${sweepRuns[0]}' ORDER BY step LIMIT 500`,
    );
    await editor.press('Control+Enter');
    await page.getByTestId('result-row').first().waitFor();
    expect(await page.locator('.card-head h2', { hasText: 'Result' }).textContent()).toContain('500 rows');
    expect(page.url()).toContain('#/sql?q=');
    await expect.poll(() => pixelsLike('[data-testid="sql-chart"] canvas', SERIES_BLUE)).toBeGreaterThan(50);
    await shot('sql');
    await editor.fill('SELECT specimen_id\nFROM catalogue');
    await page.getByTestId('sql-run').click();
    await page.getByTestId('sql-error').waitFor();
    const error = await page.getByTestId('sql-error').textContent();
    expect(error).toContain('catalogue');
    expect(error).toContain('line 2, column 6');
    expect(await page.getByTestId('sql-error-caret').textContent()).toContain('     ^');
    await shot('sql-error');
  });
});
