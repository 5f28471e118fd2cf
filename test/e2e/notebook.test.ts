// The lab notebook in Chromium (playwright-core): planned specimens listed apart in the catalog, field notes
// in the older `●` markup rendered as headings, and editing the notes, the hypothesis and the tags on the
// specimen page — still there after a reload, on disk, and with the sealed run untouched. Skips without
// /usr/bin/chromium except in CI (see browser.test.ts).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexVault } from '../../src/catalog/index.js';
import { runSyntheticDemo } from '../../src/demo/run-demo.js';
import { readManifestFile } from '../../src/format/msgpack.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { Vault } from '../../src/storage/vault.js';
import { buildWebIfMissing, HAVE_CHROMIUM, launchChromium } from '../support/chromium.js';
import { REPO_ROOT, tempDir } from '../support/helpers.js';

const ARTIFACTS = path.join(REPO_ROOT, 'test', 'artifacts');
const DEMO = 'example_2024_12_19_synthetic_demo';
const PLANNED = '2026_01_05_planned_probe';

/** sha256 of every file under `dir`, by relative path. */
function hashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const f = path.join(e.parentPath, e.name);
    out[path.relative(dir, f)] = createHash('sha256').update(fs.readFileSync(f)).digest('hex');
  }
  return out;
}

describe.runIf(HAVE_CHROMIUM)('lab notebook in Chromium', () => {
  let dir: string;
  let vault: Vault;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let runsBefore: Record<string, string>;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    buildWebIfMissing();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    dir = tempDir('sv-notebook-e2e-');
    vault = await Vault.init(path.join(dir, 'vault'));
    await runSyntheticDemo({ vault });
    fs.writeFileSync(
      path.join(vault.specimenDir(DEMO), 'field_notes.md'),
      '# Synthetic demo\n●SECTION|Observations\nThe loss fell smoothly.\n●LOG|2025-12-22 20:17|run:first|device:cpu\n',
    );
    await vault.createSpecimen({
      specimenId: PLANNED,
      domain: 'interpretability',
      method: 'probe_training',
      status: 'planned',
      hypothesis: 'layer 6 encodes syntax',
    });
    await indexVault(vault.root);
    runsBefore = hashes(path.join(vault.specimenDir(DEMO), 'runs'));
    server = await startServer({ vaultRoot: vault.root, port: 0, index: false });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    expect(pageErrors).toEqual([]);
  });

  it('lists the planned specimen apart, with its hypothesis', async () => {
    await page.goto(server.url);
    await page.getByTestId('catalog-row').first().waitFor();
    const planned = page.getByTestId('planned-specimens');
    await planned.waitFor();
    expect(await planned.textContent()).toContain(PLANNED);
    expect(await planned.textContent()).toContain('layer 6 encodes syntax');
    // The table below holds only the specimen that has runs.
    expect(await page.getByTestId('catalog-row').count()).toBe(1);
    expect(await page.getByTestId('catalog-row').first().textContent()).toContain(DEMO);
    expect(await page.getByTestId('catalog-count').textContent()).toBe('2 specimens, 1 planned');
    await page.screenshot({ path: path.join(ARTIFACTS, 'notebook-catalog.png'), fullPage: true });
  });

  it('renders field notes in the older markup as headings and metadata', async () => {
    await page.goto(`${server.url}#/specimen/${DEMO}`);
    const notes = page.getByTestId('field-notes');
    await notes.waitFor();
    expect(await notes.locator('h2').textContent()).toBe('Observations');
    expect(await notes.locator('h3').textContent()).toBe('Log 2025-12-22 20:17');
    expect(await notes.locator('li').allTextContents()).toEqual(['run: first', 'device: cpu']);
    expect(await notes.textContent()).not.toContain('●');
  });

  it('edits the field notes and the hypothesis, and shows them after a reload', async () => {
    await page.goto(`${server.url}#/specimen/${DEMO}`);
    await page.getByTestId('edit-notes').click();
    const editor = page.getByTestId('notes-editor');
    const original = await editor.inputValue();
    expect(original).toContain('●SECTION|Observations');
    await editor.fill(`${original}\n## From the browser\n\nEdited **in place**.\n`);
    await page.getByTestId('save-notes').click();
    await expect
      .poll(() => page.getByTestId('field-notes').locator('strong').last().textContent())
      .toBe('in place');

    await page.getByTestId('edit-notebook').click();
    await page.getByTestId('edit-hypothesis').fill('The loss falls below 0.2 within 100 steps.');
    await page.getByTestId('edit-expected_results').fill('final loss < 0.2');
    await page.getByTestId('edit-tags').fill('demo, synthetic, edited');
    await page.getByTestId('save-notebook').click();
    await page.getByTestId('lab-hypothesis').waitFor();

    await page.reload();
    await page.getByTestId('lab-hypothesis').waitFor();
    expect(await page.getByTestId('lab-hypothesis').textContent()).toBe(
      'The loss falls below 0.2 within 100 steps.',
    );
    expect(await page.getByTestId('lab-expected_results').textContent()).toBe('final loss < 0.2');
    expect(await page.getByTestId('lab-notebook').locator('.tag').allTextContents()).toEqual([
      'demo',
      'synthetic',
      'edited',
    ]);
    const notes = page.getByTestId('field-notes');
    expect(await notes.locator('h2').allTextContents()).toEqual(['Observations', 'From the browser']);
    await page.screenshot({ path: path.join(ARTIFACTS, 'notebook-specimen.png'), fullPage: true });

    const onDisk = fs.readFileSync(path.join(vault.specimenDir(DEMO), 'field_notes.md'), 'utf8');
    expect(onDisk).toContain('●SECTION|Observations');
    expect(onDisk).toContain('## From the browser\n\nEdited **in place**.');
    const m = await readManifestFile(path.join(vault.specimenDir(DEMO), 'manifest.msgpack'));
    expect(m.hypothesis).toBe('The loss falls below 0.2 within 100 steps.');
    expect(m.tags).toEqual(['demo', 'synthetic', 'edited']);
    expect(hashes(path.join(vault.specimenDir(DEMO), 'runs'))).toEqual(runsBefore);
  });

  it('adds a dated entry below the notes', async () => {
    await page.goto(`${server.url}#/specimen/${DEMO}`);
    await page.getByTestId('new-entry').fill('Checked the **entry** form.');
    await page.getByTestId('add-entry').click();
    await expect
      .poll(() => page.getByTestId('field-notes').locator('h2').last().textContent())
      .toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
    expect(await page.getByTestId('new-entry').inputValue()).toBe('');
    const onDisk = fs.readFileSync(path.join(vault.specimenDir(DEMO), 'field_notes.md'), 'utf8');
    expect(onDisk).toMatch(/\n## \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\n\nChecked the \*\*entry\*\* form\.\n$/);
  });

  it('shows a refused edit as an error and keeps the form open', async () => {
    await page.goto(`${server.url}#/specimen/${DEMO}`);
    await page.getByTestId('edit-notebook').click();
    await page.getByTestId('edit-status').selectOption('concluded');
    await page.getByTestId('edit-conclusion').fill('');
    await page.getByTestId('save-notebook').click();
    await expect.poll(() => page.getByTestId('error').textContent()).toContain('write a conclusion');
    await page.getByTestId('edit-conclusion').fill('Confirmed on the synthetic data.');
    await page.getByTestId('save-notebook').click();
    await expect
      .poll(() => page.getByTestId('lab-conclusion').textContent())
      .toBe('Confirmed on the synthetic data.');
    expect(await page.getByTestId('lab-notebook').textContent()).not.toContain('write a conclusion');
    const m = await readManifestFile(path.join(vault.specimenDir(DEMO), 'manifest.msgpack'));
    expect(m.status).toBe('concluded');
  });
});
