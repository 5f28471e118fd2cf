// Chromium for the browser tests: the system's /usr/bin/chromium (installed by .ci/run) driven by
// playwright-core, headless with the flags a sandboxed CI machine needs, and the web build it loads.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { REPO_ROOT } from './helpers.js';

export const CHROMIUM = '/usr/bin/chromium';
export const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
/** The web app's production build, served by `specimen serve`. */
export const WEB_DIR = path.join(REPO_ROOT, 'dist', 'web');

/** Builds with Vite `config` unless `output` exists already (the web app's build by default). */
export function buildWebIfMissing(
  config = 'web/vite.config.ts',
  output = path.join(WEB_DIR, 'index.html'),
): void {
  if (fs.existsSync(output)) return;
  execFileSync(
    process.execPath,
    [path.join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', config],
    { cwd: REPO_ROOT, stdio: 'inherit' },
  );
}

/** A headless Chromium: no sandbox, no GPU, no background traffic. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
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
}
