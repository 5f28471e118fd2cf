/**
 * Starts a worker thread from a module beside the caller. From the built package the module is `name.js`;
 * when the sources run directly (tests, `tsx`), it is `name.ts`, loaded through tsx's ESM hook.
 *
 * @example
 * const w = startWorker(import.meta.url, './codec-worker')
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startWorker(callerUrl: string, relativeBase: string, options: WorkerOptions = {}): Worker {
  const js = new URL(`${relativeBase}.js`, callerUrl);
  if (fs.existsSync(fileURLToPath(js))) return new Worker(js, options);
  const ts = new URL(`${relativeBase}.ts`, callerUrl);
  return new Worker(ts, { ...options, execArgv: [...(options.execArgv ?? []), '--import', 'tsx'] });
}
