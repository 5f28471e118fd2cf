// The research workbench in Chromium (playwright-core): the runs explorer (sort, filter, group, URL state,
// selection into compare) over a generated prime × seed sweep. Screenshots go to test/artifacts/. Without
// /usr/bin/chromium the tests skip (browser.test.ts fails CI for that).
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { buildWebIfMissing, CHROMIUM, launchChromium } from '../support/chromium.js';
import { buildExplorerVault, GROKKING, OTHER } from '../support/explorer-vault.js';
import { REPO_ROOT, tempDir } from '../support/helpers.js';

const ARTIFACTS = path.join(REPO_ROOT, 'test', 'artifacts');

describe.runIf(fs.existsSync(CHROMIUM))('research workbench in Chromium', () => {
  let dir: string;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    buildWebIfMissing();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    dir = tempDir('sv-workbench-');
    const { root } = await buildExplorerVault(dir);
    server = await startServer({ vaultRoot: root, port: 0, index: false });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    expect(pageErrors).toEqual([]);
  });

  const shot = (name: string) =>
    page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  const rows = () => page.getByTestId('explorer-table-row');
  const hash = () =>
    page.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash);

  it('lists, sorts, filters and groups runs, with the view in the URL', async () => {
    await page.goto(server.url);
    await page.getByRole('link', { name: 'Runs' }).click();
    await rows().first().waitFor();
    await expect.poll(() => rows().count()).toBe(10);
    await expect(page.getByTestId('explorer-total').textContent()).resolves.toContain('10 runs');

    // Sort by prime, descending (two clicks), and the first row is a prime-127 run.
    await page.locator('[data-sort-key="config.prime"]').click();
    await page.locator('[data-sort-key="config.prime"]').click();
    await expect.poll(hash).toContain('sort=config.prime');
    await expect.poll(hash).toContain('dir=desc');
    await expect.poll(() => rows().first().textContent()).toContain('127');

    // A per-column filter.
    await page.getByTestId('explorer-filter').fill('config.prime<120');
    await page.getByTestId('explorer-filter').press('Enter');
    await expect.poll(() => rows().count()).toBe(6);
    await expect.poll(hash).toContain('f=config.prime%3C120');

    // Free text.
    await page.getByTestId('explorer-q').fill('probe');
    await expect.poll(() => rows().count()).toBe(0);
    await page.getByTestId('explorer-q').fill('');
    await page.getByRole('button', { name: 'remove filter config.prime<120' }).click();
    await expect.poll(() => rows().count()).toBe(10);

    // Group by prime: four groups (three primes and the run without one), with run counts.
    await page.getByTestId('explorer-group').selectOption('config.prime');
    await expect.poll(() => rows().count()).toBe(4);
    await expect.poll(hash).toContain('g=config.prime');
    const counts = await page.getByTestId('group-count').allTextContents();
    expect(counts.map(Number).sort()).toEqual([1, 3, 3, 3]);
    await shot('explorer-grouped');

    // The URL alone restores the view.
    const link = `${server.url}${await hash()}`;
    const other = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await other.goto(link);
    await other.getByTestId('explorer-table-row').first().waitFor();
    await expect.poll(() => other.getByTestId('explorer-table-row').count()).toBe(4);
    await other.close();

    // Opening a group shows its runs.
    await rows().filter({ hasText: '113' }).getByRole('button', { name: 'open' }).click();
    await expect.poll(() => rows().count()).toBe(3);
    await expect.poll(hash).toContain('f=config.prime%3D113');
    await expect.poll(hash).not.toContain('g=');
  });

  /** Opaque and translucent (a band's fill) pixels of the first compare chart's canvas. */
  const canvasPixels = () =>
    page.evaluate(() => {
      type Canvas = {
        width: number;
        height: number;
        getContext(kind: '2d'): {
          getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
        };
      };
      const doc = (globalThis as unknown as { document: { querySelector(s: string): Canvas | null } })
        .document;
      const canvas = doc.querySelector('[data-testid="compare-chart"] canvas');
      if (!canvas) return { opaque: -1, translucent: -1 };
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let opaque = 0;
      let translucent = 0;
      for (let i = 3; i < data.length; i += 4) {
        if (data[i]! >= 200) opaque++;
        else if (data[i]! > 10) translucent++;
      }
      return { opaque, translucent };
    });

  it('draws grouped runs as a mean with a band, run counts in the legend, and switches the x axis', async () => {
    await page.goto(`${server.url}#/explorer?f=specimen_id%3D${GROKKING}&sort=run_id`);
    await expect.poll(() => rows().count(), { timeout: 10_000 }).toBe(9);
    for (let i = 0; i < 9; i++) await rows().nth(i).locator('input[type="checkbox"]').check();
    await page.getByTestId('explorer-compare').click();
    await page.getByTestId('compare-chart').first().waitFor();
    await page.getByTestId('group-by').selectOption('prime');
    await expect.poll(hash).toContain('group=prime');
    await page.getByTestId('group-chart').first().waitFor();
    const legend = page.getByTestId('group-chart').first().locator('.legend-item');
    await expect
      .poll(() => legend.allTextContents())
      .toEqual(['prime=97 (3 runs)', 'prime=113 (3 runs)', 'prime=127 (3 runs)']);
    await expect
      .poll(async () => (await canvasPixels()).translucent, { timeout: 10_000 })
      .toBeGreaterThan(500);
    expect((await canvasPixels()).opaque).toBeGreaterThan(100);
    await page.getByTestId('group-summary').waitFor();
    await expect(page.getByTestId('group-summary').textContent()).resolves.toContain('prime=113');
    await shot('compare-grouped');

    // A click on a grouped chart pins that step on every chart and lists each run's values there.
    const over = page.getByTestId('group-chart').first().locator('.u-over');
    const box = (await over.boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.5, box.y + box.height / 2);
    await expect.poll(hash).toMatch(/step=\d+/);
    await expect.poll(() => page.getByTestId('pinned-table').locator('tbody tr').count()).toBe(9);

    // Min–max band, median line: the URL follows.
    await page.getByTestId('group-band').selectOption('minmax');
    await page.getByTestId('group-center').selectOption('median');
    await expect.poll(hash).toContain('band=minmax');
    await expect.poll(hash).toContain('center=median');

    // x = tokens: the series are asked for on that axis and drawn against it.
    const answered = page.waitForResponse(
      (r) => r.url().includes('/api/groups?') && r.url().includes('x=tokens'),
    );
    await page.getByTestId('x-axis').selectOption('tokens');
    const groupsBody = (await (await answered).json()) as { groups: { x: number[] }[] };
    // The first chart is eval_acc, logged every 10th step: 50 points on the tokens axis, joined as a line.
    expect(groupsBody.groups[0]!.x).toHaveLength(50);
    expect(groupsBody.groups[0]!.x.at(-1)).toBe(490 * 512);
    await expect.poll(hash).toContain('x=tokens');
    await expect
      .poll(() => page.getByTestId('group-chart').first().textContent(), { timeout: 10_000 })
      .toContain('of 50 tokens values');
    await expect.poll(async () => (await canvasPixels()).opaque).toBeGreaterThan(100);
    await shot('compare-grouped-tokens');
  });

  it('plots config against outcome; a click on a point opens its run', async () => {
    await page.goto(
      `${server.url}#/explorer?f=specimen_id%3D${GROKKING}&plot=scatter&x=config.prime&y=loss.min`,
    );
    const canvas = page.getByTestId('scatter').locator('canvas');
    await expect.poll(() => canvas.getAttribute('data-points'), { timeout: 10_000 }).toBe('9');
    await shot('explorer-scatter');
    // A pixel of a point (the palette's first blue), in CSS pixels of the canvas.
    const at = await page.evaluate(() => {
      type Canvas = {
        width: number;
        height: number;
        clientWidth: number;
        getContext(kind: '2d'): {
          getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
        };
      };
      const doc = (globalThis as unknown as { document: { querySelector(s: string): Canvas | null } })
        .document;
      const c = doc.querySelector('[data-testid="scatter"] canvas')!;
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const ratio = c.width / c.clientWidth;
      for (let i = 0; i < data.length; i += 4) {
        if (
          Math.abs(data[i]! - 78) < 40 &&
          Math.abs(data[i + 1]! - 121) < 40 &&
          Math.abs(data[i + 2]! - 167) < 40
        ) {
          const p = i / 4;
          return { x: (p % c.width) / ratio + 2, y: Math.floor(p / c.width) / ratio + 2 };
        }
      }
      return null;
    });
    expect(at).not.toBeNull();
    await canvas.click({ position: at! });
    await expect.poll(hash).toMatch(new RegExp(`^#/specimen/${GROKKING}/run/\\d`));

    // Parallel coordinates over the same runs: a line per run.
    await page.goto(`${server.url}#/explorer?f=specimen_id%3D${GROKKING}&plot=parallel`);
    await expect
      .poll(() => page.getByTestId('parallel').locator('canvas').getAttribute('data-lines'), {
        timeout: 10_000,
      })
      .toBe('9');
    await shot('explorer-parallel');
  });

  it('opens selected runs in compare', async () => {
    await page.goto(`${server.url}#/explorer?f=specimen_id%3D${GROKKING}&sort=run_id`);
    // The catalog answers queries one at a time: the previous page's chart queries may still be ahead.
    await expect.poll(() => rows().count(), { timeout: 10_000 }).toBe(9);
    const boxes = rows().locator('input[type="checkbox"]');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await page.getByTestId('explorer-compare').click();
    await expect.poll(hash).toMatch(/^#\/compare\?run=.*&run=/);
    await page.getByTestId('compare-chart').first().waitFor();
    expect(await hash()).not.toContain(OTHER);
  });
});
