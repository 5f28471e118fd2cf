// End to end in Chromium: small multiples of 6,000 slices. The grid is virtualised — its canvas covers
// only the rows around the view, within the canvas budget, and only the blocks of slices around them are
// held — and still reaches the last slice: scrolled to the end it is drawn (in the top colour, as the
// largest slice), and a click there opens it large. A small grid keeps its sort in the URL across a reload,
// and values either side of 0 get blue–white–red with 0 white. Skips without /usr/bin/chromium.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { Vault } from '../../src/storage/vault.js';
import { lut } from '../../web/src/components/colormap.js';
import { CHROMIUM, launchChromium } from '../support/chromium.js';

const ID = '2025_06_04_many_multiples';
const N = 6000;
const SIDE = 40;
const SIGNED = 6;

describe.runIf(fs.existsSync(CHROMIUM))('thousands of small multiples', () => {
  let dir: string;
  let runId: string;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sv-many-multiples-'));
    const vault = await Vault.init(dir);
    await vault.createSpecimen({ specimenId: ID, domain: 'training', method: 'fine_tuning' });
    const storage = await SpecimenStorage.open(ID, { vault });
    await storage.startRun({});
    // Slice k holds k everywhere but one element: the last slice is the largest (the top colour).
    const plane = SIDE * SIDE;
    const data = new Float32Array(N * plane);
    for (let k = 0; k < N; k++) data.fill(k, k * plane, (k + 1) * plane);
    for (let k = 0; k < N; k++) data[k * plane] = k + 0.5;
    // 9.6 M elements: more than one block of the viewer (8 M), so it pages too.
    await storage.writeTensors('acts', data, { shape: [N, SIDE, SIDE], chunks: [100, SIDE, SIDE] });
    // Six 8 × 8 slices, slice k holding k − 2 everywhere: means −2…3, a range that crosses 0.
    const signed = new Float32Array(SIGNED * 64);
    for (let k = 0; k < SIGNED; k++) signed.fill(k - 2, k * 64, (k + 1) * 64);
    await storage.writeTensors('signed', signed, { shape: [SIGNED, 8, 8], chunks: [SIGNED, 8, 8] });
    await storage.finish();
    runId = storage.runId!;
    server = await startServer({ vaultRoot: dir, port: 0, index: false });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('draws only a window of rows, reaches the last slice on scroll, and opens it large', async () => {
    await page.goto(`${server.url}#/tensor/${ID}/${runId}/acts?g=0&r=1&c=2`);
    const grid = page.getByTestId('sm-grid');
    await expect
      .poll(async () => Number(await grid.getAttribute('data-drawn')), { timeout: 60_000 })
      .toBeGreaterThan(0);
    const num = async (name: string) => Number(await grid.getAttribute(name));
    const perRow = await num('data-per-row');
    const pitch = await num('data-pitch');
    const cell = await num('data-cell');
    expect(await num('data-lines')).toBe(Math.ceil(N / perRow));
    const canvasSize = () =>
      page.getByTestId('sm-atlas').evaluate((c) => {
        const e = c as unknown as { width: number; height: number };
        return e.width * e.height;
      });
    // A window, not the whole grid: the canvas stays within its budget (8 M device pixels).
    expect(await grid.getAttribute('data-window')).toMatch(/^0,\d+$/);
    expect(Number((await grid.getAttribute('data-window'))!.split(',')[1])).toBeLessThan(N);
    expect(await canvasSize()).toBeLessThanOrEqual(8 * 1024 * 1024);

    await page.getByTestId('sm-scroll').evaluate((s) => {
      const el = s as unknown as { scrollTop: number; scrollHeight: number };
      el.scrollTop = el.scrollHeight;
    });
    await expect
      .poll(() => grid.getAttribute('data-window'), { timeout: 30_000 })
      .toMatch(new RegExp(`,${N}$`));
    // The last slice's cell, in the canvas that now starts at the window's first row.
    const lastLine = Math.floor((N - 1) / perRow);
    const pixel = async () => {
      const j0 = Number((await grid.getAttribute('data-window'))!.split(',')[0]);
      const x = ((N - 1) % perRow) * pitch + cell / 2;
      const y = (lastLine - j0 / perRow) * pitch + cell / 2;
      return page.getByTestId('sm-atlas').evaluate(
        (c, [px, py]) => {
          const ctx = (
            c as unknown as {
              getContext(k: '2d'): {
                getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
              };
            }
          ).getContext('2d');
          return Array.from(ctx.getImageData(px!, py!, 1, 1).data);
        },
        [x, y],
      );
    };
    // viridis' top colour, opaque.
    await expect.poll(pixel, { timeout: 30_000 }).toEqual([253, 231, 37, 255]);
    expect(await canvasSize()).toBeLessThanOrEqual(8 * 1024 * 1024);
    // Memory stays flat: at most the two blocks of the grid are held, the window's and one spare.
    expect(await num('data-blocks')).toBeLessThanOrEqual(2);

    // The scroller whole in the viewport, then a click on the last cell.
    await page.evaluate('window.scrollTo(0, document.body.scrollHeight)');
    const box = (await grid.boundingBox())!;
    await page.mouse.click(
      box.x + ((N - 1) % perRow) * pitch + cell / 2,
      box.y + lastLine * pitch + cell / 2,
    );
    await expect.poll(() => page.url()).toContain(`at=${N - 1}%2C0%2C0`);
    expect(await page.getByTestId('small-multiples').count()).toBe(0);
  }, 180_000);

  it('keeps the sort (statistic and direction) in the URL, and centres a grid across 0 on white', async () => {
    const grid = page.getByTestId('sm-grid');
    await page.goto(`${server.url}#/tensor/${ID}/${runId}/signed?g=0&r=1&c=2&sort=-mean`);
    await expect.poll(() => grid.getAttribute('data-order'), { timeout: 30_000 }).toBe('0,1,2,3,4,5');
    expect(await page.getByTestId('sm-sort').inputValue()).toBe('mean');
    await page.reload();
    await expect.poll(() => grid.getAttribute('data-order'), { timeout: 30_000 }).toBe('0,1,2,3,4,5');
    await page.getByTestId('sm-sort-dir').click();
    await expect.poll(() => page.url()).toMatch(/sort=mean(&|$)/);
    await expect.poll(() => grid.getAttribute('data-order'), { timeout: 30_000 }).toBe('5,4,3,2,1,0');
    await page.getByTestId('sm-sort').selectOption('index');
    await expect.poll(() => page.url()).not.toContain('sort=');
    expect(await grid.getAttribute('data-order')).toBe('0,1,2,3,4,5');

    // Values −2…3 cross 0: blue–white–red centred on 0, so slice 2 (all 0) is the middle colour, white,
    // and slice 5 (3, the largest magnitude) the top one; slice 0 (−2) is not the bottom colour.
    await expect.poll(() => grid.getAttribute('data-drawn'), { timeout: 30_000 }).toBe(String(SIGNED));
    expect(await grid.getAttribute('data-colormap')).toBe('rdbu');
    const pitch = Number(await grid.getAttribute('data-pitch'));
    const cell = Number(await grid.getAttribute('data-cell'));
    const at = (k: number) =>
      page.getByTestId('sm-atlas').evaluate(
        (c, [px, py]) => {
          const ctx = (
            c as unknown as {
              getContext(k: '2d'): {
                getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
              };
            }
          ).getContext('2d');
          return Array.from(ctx.getImageData(px!, py!, 1, 1).data.subarray(0, 3));
        },
        [k * pitch + cell / 2, cell / 2],
      );
    const map = lut('rdbu');
    const entry = (i: number) => Array.from(map.subarray(i * 3, i * 3 + 3));
    const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) <= 4);
    expect(near(await at(2), entry(128)), `slice 2: ${await at(2)}`).toBe(true);
    expect(await at(5)).toEqual(entry(255));
    expect(near(await at(0), entry(43)), `slice 0: ${await at(0)}`).toBe(true);
  }, 60_000);
});
