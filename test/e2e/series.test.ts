// End to end in Chromium: a run with a tensor series and a metric with a known turn. The chart marks the
// turn; a click on a chart (of the run or the compare page) picks a step, and the tensor link opens the
// series at the nearest checkpoint, where the viewer's step slider shows it; a small heatmap shows the step
// and index on hover. Skips without /usr/bin/chromium (browser.test.ts fails CI for that).
import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexVault } from '../../src/catalog/index.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import type { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { CHROMIUM, launchChromium } from '../support/chromium.js';
import { addTurnRun, TURN_SPECIMEN, vaultWithTurns } from '../support/turns-vault.js';

describe.runIf(fs.existsSync(CHROMIUM))('tensor series linked to the charts', () => {
  let root: string;
  let runId: string;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const vault = await vaultWithTurns();
    root = vault.root;
    runId = await addTurnRun(vault, 1000, async (s: SpecimenStorage) => {
      const steps = [0, 500, 1000, 1500, 2000];
      // Neuron k's values are offset by 10·(k − 1)²: means order the neurons 0 and 2 above 1.
      const arrays = steps.map((st) =>
        Float32Array.from(
          { length: 3 * 8 * 8 },
          (_, i) => Math.sin(i + st) + 10 * (Math.floor(i / 64) - 1) ** 2 + (i < 64 ? 1 : 0),
        ),
      );
      await s.writeTensorSeries('acts', steps, arrays, { shape: [3, 8, 8] });
    });
    await indexVault(root);
    server = await startServer({ vaultRoot: root, port: 0, index: false });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('marks the turn, and a chart click moves the step the tensor opens at', async () => {
    await page.goto(`${server.url}#/specimen/${TURN_SPECIMEN}/run/${runId}`);
    const chart = page.getByTestId('metric-chart').filter({ hasText: 'test_loss' });
    await expect
      .poll(async () => Number((await chart.locator('.uplot').getAttribute('data-markers')) ?? NaN), {
        timeout: 15_000,
      })
      .toBeGreaterThan(900);
    const link = page.getByTestId('view-tensor');
    expect(await link.textContent()).toBe('view →');
    // Click at 60 % of the plot's width: step ≈ 1200, whose checkpoint is 1000.
    const over = chart.locator('.u-over');
    const box = (await over.boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.6, box.y + box.height / 2);
    await expect.poll(() => link.textContent()).toBe('view at step 1000 →');
    expect(await link.getAttribute('href')).toContain('at=2%2C0%2C0%2C0');
    await link.click();
    await expect
      .poll(() => page.getByTestId('tensor-step').textContent(), { timeout: 15_000 })
      .toBe('step 1000');
    await page.getByTestId('slider-0').fill('4');
    await expect.poll(() => page.getByTestId('tensor-step').textContent()).toBe('step 2000');
  }, 60_000);

  it('on the compare page, a chart click pins the step and links every run series at the nearest checkpoint', async () => {
    await page.goto(`${server.url}#/compare?run=${encodeURIComponent(`${TURN_SPECIMEN}/${runId}`)}`);
    const chart = page.getByTestId('compare-chart').filter({ hasText: 'test_loss' });
    const over = chart.locator('.u-over');
    await expect.poll(() => over.count(), { timeout: 15_000 }).toBe(1);
    const box = (await over.boundingBox())!;
    // 40 % of the plot's width: step ≈ 800, nearest checkpoint 1000 (500 is farther).
    await page.mouse.click(box.x + box.width * 0.4, box.y + box.height / 2);
    await expect.poll(() => page.url()).toMatch(/step=\d+/);
    const link = page.getByTestId('pinned-tensor');
    await expect.poll(() => link.textContent(), { timeout: 15_000 }).toBe('acts @ 1000');
    expect(await link.getAttribute('href')).toContain('at=2%2C0%2C0%2C0');
    await link.click();
    await expect
      .poll(() => page.getByTestId('tensor-step').textContent(), { timeout: 15_000 })
      .toBe('step 1000');
  }, 60_000);

  it('draws a grid of small heatmaps along a dimension, sorts it by a statistic, and opens one large', async () => {
    await page.goto(`${server.url}#/tensor/${TURN_SPECIMEN}/${runId}/acts?at=2,0,0,0`);
    await page.getByTestId('grid-dim').selectOption('1');
    const grid = page.getByTestId('sm-grid');
    await expect.poll(() => grid.getAttribute('data-drawn'), { timeout: 15_000 }).toBe('3');
    expect(await grid.getAttribute('data-order')).toBe('0,1,2');
    // One canvas for the grid, at the display's resolution: every cell's slice drawn (opaque) in its
    // cell, the gap between cells left clear.
    const pitch = Number(await grid.getAttribute('data-pitch'));
    const cellPx = Number(await grid.getAttribute('data-cell'));
    const alphaAt = (x: number, y: number) =>
      page.getByTestId('sm-atlas').evaluate(
        (c, [px, py]) =>
          (
            c as unknown as {
              getContext(k: '2d'): {
                getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
              };
            }
          )
            .getContext('2d')
            .getImageData(px!, py!, 1, 1).data[3],
        [x, y],
      );
    const centres = await Promise.all([0, 1, 2].map((j) => alphaAt(j * pitch + cellPx / 2, cellPx / 2)));
    expect(centres).toEqual([255, 255, 255]);
    expect(await alphaAt(cellPx + (pitch - cellPx) / 2, cellPx / 2)).toBe(0);
    await page.getByTestId('sm-sort').selectOption('mean');
    await expect.poll(() => grid.getAttribute('data-order')).toBe('0,2,1');
    // Hover shows the series' step, the slice's index and the element under the pointer (its exact
    // number, from the slice itself). Index 1 is now third.
    const gbox = (await grid.boundingBox())!;
    const inner = cellPx - 2;
    await page.mouse.move(gbox.x + 2 * pitch + 1 + inner * (3.5 / 8), gbox.y + 1 + inner * (5.5 / 8));
    await expect
      .poll(() => page.getByTestId('sm-hover').textContent())
      .toMatch(/^step 1000 · index 1 · \[5, 3\] = -?\d/);
    // Index 2 is second: a click there opens it large.
    await page.mouse.click(gbox.x + pitch + cellPx / 2, gbox.y + cellPx / 2);
    await expect.poll(() => page.url()).toContain('at=2%2C2%2C0%2C0');
    expect(await page.getByTestId('small-multiples').count()).toBe(0);
  }, 60_000);

  it('takes the cell size from the URL, scales slices by nearest neighbour, and fits the width by default', async () => {
    await page.goto(`${server.url}#/tensor/${TURN_SPECIMEN}/${runId}/acts?at=2,0,0,0&g=1&cell=256`);
    const grid = page.getByTestId('sm-grid');
    await expect.poll(() => grid.getAttribute('data-drawn'), { timeout: 15_000 }).toBe('3');
    expect(await grid.getAttribute('data-cell')).toBe('256');
    // A row of pixels through the middle of cell 0: 254 px for 8 elements, so at most 8 colours in at
    // most 8 runs (smoothing would blend neighbours into many more).
    const row = await page.getByTestId('sm-atlas').evaluate((c) => {
      const ctx = (
        c as unknown as {
          getContext(k: '2d'): {
            getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
          };
        }
      ).getContext('2d');
      const d = ctx.getImageData(1, 128, 254, 1).data;
      return Array.from({ length: 254 }, (_, i) => (d[i * 4]! << 16) | (d[i * 4 + 1]! << 8) | d[i * 4 + 2]!);
    });
    const runs = row.filter((v, i) => i === 0 || v !== row[i - 1]).length;
    expect(new Set(row).size).toBeGreaterThan(1);
    expect(runs).toBeLessThanOrEqual(8);
    // The control writes the size into the URL, and the grid follows.
    await page.getByTestId('sm-cell').fill('128');
    await expect.poll(() => page.url()).toContain('cell=128');
    await expect.poll(() => grid.getAttribute('data-cell')).toBe('128');
    // "fit width": the default, whole rows of cells spanning the grid's width.
    await page.getByTestId('sm-cell-fit').click();
    await expect.poll(() => page.url()).not.toContain('cell=');
    const perRow = Number(await grid.getAttribute('data-per-row'));
    const pitch = Number(await grid.getAttribute('data-pitch'));
    const width = await grid.evaluate((g) => (g as unknown as { clientWidth: number }).clientWidth);
    expect(width - (perRow * pitch - 4)).toBeGreaterThanOrEqual(0);
    expect(width - (perRow * pitch - 4)).toBeLessThan(perRow);
  }, 60_000);
});
