// The views page in Chromium against a real server: arrange a view (a chart of the grokking runs and a text
// block), save it into the vault, and reopen it by its URL in a new page, where the chart is drawn again
// from the saved file.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexVault } from '../../src/catalog/index.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { buildWebIfMissing, HAVE_CHROMIUM, launchChromium } from '../support/chromium.js';
import { REPORT_SPECIMEN, reportVault } from '../support/report-vault.js';

describe.runIf(HAVE_CHROMIUM)('views page in Chromium', () => {
  let root: string;
  let server: RunningServer;
  let browser: Browser;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    buildWebIfMissing();
    root = (await reportVault()).vault.root;
    await indexVault(root);
    server = await startServer({ vaultRoot: root, port: 0, index: false });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
    expect(pageErrors).toEqual([]);
  });

  it('saves an arranged view and reopens it by URL', async () => {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${server.url}#/views`);
    await page.getByTestId('view-editor').waitFor();
    await page.getByTestId('view-name').fill('grok-turns');
    await page.getByTestId('view-title').fill('When does the test loss turn?');
    await page.getByTestId('view-runs').fill(REPORT_SPECIMEN);
    await page.getByTestId('add-text').click();
    await page.getByTestId('item-markdown').fill('Does the turn move with **turn_at**?');
    await page.getByTestId('add-chart').click();
    await page.getByTestId('item-metrics').fill('test_loss');
    // The preview draws the chart from the live API before anything is saved.
    await expect
      .poll(() => page.locator('[data-testid="view-chart"] .uplot').getAttribute('data-points'))
      .toBe('2002');
    await page.getByTestId('view-save').click();
    await page.getByTestId('view-status').waitFor();
    expect(await page.getByTestId('view-status').textContent()).toContain('views/grok-turns.json');
    await expect.poll(() => page.url()).toContain('#/views/grok-turns');
    const onDisk = JSON.parse(fs.readFileSync(path.join(root, 'views', 'grok-turns.json'), 'utf8'));
    expect(onDisk).toEqual({
      version: 1,
      title: 'When does the test loss turn?',
      runs: [REPORT_SPECIMEN],
      items: [
        { kind: 'text', markdown: 'Does the turn move with **turn_at**?' },
        { kind: 'chart', metrics: ['test_loss'], x: 'step', group_by: [], log: false },
      ],
    });
    await page.close();

    // A new page opened on the view's URL shows the saved view.
    const again = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    again.on('pageerror', (e) => pageErrors.push(e.message));
    await again.goto(`${server.url}#/views/grok-turns`);
    await again.getByTestId('view-editor').waitFor();
    expect(await again.getByTestId('view-title').inputValue()).toBe('When does the test loss turn?');
    expect(await again.getByTestId('view-item').count()).toBe(2);
    await expect
      .poll(() => again.locator('[data-kind="text"] .markdown strong').textContent())
      .toBe('turn_at');
    await again.locator('[data-testid="view-chart"] .uplot[data-points="2002"]').waitFor({ timeout: 30_000 });
    expect(await again.getByTestId('view-list').textContent()).toContain('grok-turns');
    await again.close();
  });
});
