/**
 * Starts the metrics flush worker. A small bootstrap runs first in the new thread: it marks the shared
 * control block when the thread exits, even if the worker module fails to load, so a log() blocked on
 * back-pressure wakes up instead of waiting forever. From sources (tests, tsx) the bootstrap registers
 * tsx in the thread itself: Node 20 does not apply `--import tsx` from a worker's execArgv to the worker's
 * entry module.
 *
 * @example
 * const worker = startFlushWorker({ workerData, transferList: [port] })
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { CTL_DEAD, CTL_INFLIGHT } from './flush-protocol.js';

/** Starts flush-worker (.js when built, .ts through tsx from sources); workerData must hold `ctl`. */
export function startFlushWorker(options: WorkerOptions): Worker {
  const js = new URL('./flush-worker.js', import.meta.url);
  const fromSources = !fs.existsSync(fileURLToPath(js));
  const entry = fromSources ? new URL('./flush-worker.ts', import.meta.url) : js;
  const load = fromSources
    ? `import('tsx/esm/api').then((tsx) => tsx.register()).then(() => import(${JSON.stringify(entry.href)}))`
    : `import(${JSON.stringify(entry.href)})`;
  const bootstrap = `
    const { workerData } = require('node:worker_threads');
    const ctl = new Int32Array(workerData.ctl);
    process.on('exit', () => { Atomics.store(ctl, ${CTL_DEAD}, 1); Atomics.notify(ctl, ${CTL_INFLIGHT}); });
    ${load}.catch((err) => { setImmediate(() => { throw err; }); });
  `;
  return new Worker(bootstrap, { ...options, eval: true });
}
