/**
 * Keeps the catalog current while the server runs: every `intervalMs` it asks whether an incremental
 * index would change anything (catalog/build/changes.ts: stats only), and when so — after `debounceMs`, so
 * a burst of writes (a sweep creating runs, a run being sealed) becomes one index — runs the server's
 * incremental index. The server's `reindex` shares one run between callers and the index lock serializes
 * it with other processes, so two indexes never run at once. A check that stays positive after its index
 * (a specimen that cannot be indexed) backs off, up to a minute.
 *
 * @example
 * const watch = new CatalogWatcher(ctx, { intervalMs: 500 })
 * watch.start()
 * watch.version()   // changes whenever the catalog did: the web page reloads then
 * watch.stop()
 */
import type { CatalogChanges } from '../catalog/build/changes.js';
import type { ServerContext } from './context.js';

/** Options of CatalogWatcher. */
export interface CatalogWatchOptions {
  /** Between two checks, ms (default 500). */
  intervalMs?: number;
  /** Wait after a change is seen before indexing, ms (default 200). */
  debounceMs?: number;
  /** Called with each index's warnings and failures (once per distinct message). */
  onWarning?: (message: string) => void;
}

const MAX_BACKOFF_MS = 60_000;

export class CatalogWatcher {
  private readonly changes: CatalogChanges;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private backoffMs = 0;
  private readonly warned = new Set<string>();
  private readonly intervalMs: number;
  private readonly debounceMs: number;

  constructor(
    private readonly ctx: ServerContext,
    private readonly options: CatalogWatchOptions = {},
  ) {
    this.changes = ctx.changes;
    this.intervalMs = Math.max(50, options.intervalMs ?? 500);
    this.debounceMs = Math.max(0, options.debounceMs ?? 200);
  }

  /** Starts checking (idempotent). */
  start(): void {
    if (this.timer) return;
    this.schedule(this.intervalMs);
  }

  /** Stops checking; an index already running finishes. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The catalog's current version (see CatalogChanges.version). */
  version(): string {
    return this.changes.version();
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => void this.tick(), ms);
    // The server's open socket keeps the process alive, not this timer.
    this.timer.unref();
  }

  private warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.options.onWarning?.(message);
  }

  private async tick(): Promise<void> {
    if (this.busy || !this.timer) return;
    this.busy = true;
    let next = this.intervalMs;
    try {
      if (this.changes.pending()) {
        await new Promise((r) => setTimeout(r, this.debounceMs));
        if (!this.timer) return;
        const report = await this.ctx.reindex();
        for (const w of report.warnings) this.warn(w);
        if (this.changes.pending()) {
          this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(this.intervalMs, this.backoffMs * 2));
          next = this.backoffMs;
        } else this.backoffMs = 0;
      }
    } catch (err) {
      this.warn(`catalog not updated: ${(err as Error).message}`);
      this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(this.intervalMs, this.backoffMs * 2));
      next = this.backoffMs;
    } finally {
      this.busy = false;
      if (this.timer) this.schedule(next);
    }
  }
}
