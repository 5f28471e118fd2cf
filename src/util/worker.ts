/**
 * Starts a worker thread from a module beside the caller. From the built package the module is `name.js`.
 * When the sources run directly (tests, `tsx`) it is `name.ts`; Node 20 does not apply `--import tsx` from a
 * worker's execArgv to the worker's entry module, so a small bootstrap registers tsx inside the thread and
 * then imports the entry.
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
  // Resolved here, not in the thread: an eval'd worker resolves bare specifiers against the working directory.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => tsx.register()).then(() => import(${JSON.stringify(ts.href)}))
    .catch((err) => { setImmediate(() => { throw err; }); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
