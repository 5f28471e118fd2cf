// End to end in Chromium: runs that kept their code (built CLI, real git repository). The run page's Code
// card lists the kept files with size and sha256, opens one with line numbers, shows git.diff as a
// coloured unified diff and lists untracked and skipped files; the compare page's code differences link
// each differing file to its unified diff between the runs. Skips without /usr/bin/chromium
// (browser.test.ts fails CI for that).
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { buildWebIfMissing, CHROMIUM, launchChromium } from '../support/chromium.js';
import { buildCodeVault, type CodeVault, CODE_SPECIMEN as S } from '../support/code-vault.js';
import { REPO_ROOT } from '../support/helpers.js';

describe.runIf(fs.existsSync(CHROMIUM))('kept code in the web app', () => {
  let v: CodeVault;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    buildWebIfMissing();
    v = await buildCodeVault();
    server = await startServer({ vaultRoot: v.dir, port: 0 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (v) fs.rmSync(v.dir, { recursive: true, force: true });
    expect(pageErrors).toEqual([]);
  });

  it('lists the kept files and shows one with line numbers, and git.diff coloured', async () => {
    const [, dirty] = v.runs;
    await page.goto(`${server.url}#/specimen/${S}/run/${dirty.runId}`);
    await expect.poll(() => page.getByTestId('code-heading').count(), { timeout: 15_000 }).toBe(1);
    const table = page.getByTestId('code-files');
    const text = (await table.textContent()) ?? '';
    expect(text).toContain('protocol.py');
    expect(text).toContain('git.diff');
    expect(text).toMatch(/\d+ B/);
    expect(text).toMatch(/[0-9a-f]{12}/);
    expect(await page.getByTestId('code-skipped').textContent()).toContain('protocol.bin');
    expect(await page.getByTestId('code-skipped').textContent()).toMatch(/binary/);
    expect(await page.getByTestId('code-untracked').textContent()).toContain('helper.py');

    await page.getByTestId('code-file').filter({ hasText: 'protocol.py' }).click();
    const lines = page.getByTestId('code-lines');
    await lines.waitFor({ timeout: 10_000 });
    const rows = lines.locator('tr');
    expect(await rows.count()).toBe(3);
    expect(await rows.nth(0).locator('.ln').textContent()).toBe('1');
    expect(await rows.nth(0).locator('.src').textContent()).toBe('lr = 0.01');
    expect(await rows.nth(2).locator('.src').textContent()).toBe("print('done')");

    await page.getByTestId('code-file').filter({ hasText: 'git.diff' }).click();
    const diff = page.getByTestId('unified-diff');
    await diff.waitFor({ timeout: 10_000 });
    expect(await diff.locator('.d-del').filter({ hasText: 'lr = 0.1' }).count()).toBe(1);
    expect(await diff.locator('.d-add').filter({ hasText: 'lr = 0.01' }).count()).toBe(1);
    // Added lines are drawn green, removed ones red.
    const bg = (cls: string) =>
      diff
        .locator(cls)
        .first()
        .evaluate(
          (el) =>
            (
              globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }
            ).getComputedStyle(el).backgroundColor,
        );
    expect(await bg('.d-add')).toBe('rgb(230, 255, 236)');
    expect(await bg('.d-del')).toBe('rgb(255, 235, 233)');
    await page.screenshot({
      path: path.join(REPO_ROOT, 'test', 'artifacts', 'code-card.png'),
      fullPage: true,
    });
  }, 60_000);

  it('links a differing code file on the compare page to its diff between the runs', async () => {
    const [clean, dirty] = v.runs;
    await page.goto(`${server.url}#/compare?run=${S}/${clean.runId}&run=${S}/${dirty.runId}`);
    const env = page.getByTestId('env-diff');
    await env.waitFor({ timeout: 15_000 });
    const link = env.locator('tr').filter({ hasText: 'code file protocol.py' }).getByTestId('code-diff-link');
    await link.click();
    const diff = page.getByTestId('code-diff').filter({ hasText: 'protocol.py' });
    await diff.waitFor({ timeout: 10_000 });
    expect(await diff.locator('.d-del').filter({ hasText: 'lr = 0.1' }).count()).toBe(1);
    expect(await diff.locator('.d-add').filter({ hasText: 'lr = 0.01' }).count()).toBe(1);
    expect(await diff.locator('.d-head').filter({ hasText: '---' }).textContent()).toBe(
      `--- ${clean.runId}/protocol.py`,
    );
    await page.screenshot({
      path: path.join(REPO_ROOT, 'test', 'artifacts', 'code-diff.png'),
      fullPage: true,
    });
  }, 60_000);
});
