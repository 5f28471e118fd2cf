/**
 * The slices of a small-multiples grid as colour codes, fetched in chunk-aligned blocks as the grid needs
 * them (those in view first) and let go of when it no longer does, so a grid of 10,000 slices holds only
 * the blocks around its window. Every block is coded on one colour scale: a grid that is one block gets
 * it from that block's answer; a larger one asks the server for the range over every slice first.
 *
 * @example
 * const store = new SliceBlocks(tensor, spec, { n: 10_000, rows: 113, cols: 113, chunk: 1 }, () => redraw())
 * store.want([0, 1, 2, …])          // fetches the blocks holding these slices, in this order
 * store.side = 80                   // slices pooled to 80 px along their longer side
 * store.slice(7)                    // { codes, base, rows, cols } once its block is in, else undefined
 */

import { pooledShape } from '../../../../src/analysis/slice-pool.js';
import {
  type GridSpec,
  getMultiples,
  getMultiplesStats,
  type Multiples,
  type TensorRef,
} from '../../api/index.js';
import { takeMultiples } from './prefetch.js';

/** Elements per block (and per request): 8 MB of codes. */
export const BLOCK_ELEMENTS = 8 * 1024 * 1024;
/** Codes kept beyond those the window needs, in bytes. */
const KEEP_BYTES = 4 * BLOCK_ELEMENTS;

/** Slices per block for slices of `plane` elements and chunks of `chunk` along the grid (as the server cuts). */
export function blockSlices(plane: number, chunk: number): number {
  const fit = Math.max(1, Math.floor(BLOCK_ELEMENTS / Math.max(1, plane)));
  return fit >= chunk ? Math.floor(fit / chunk) * chunk : fit;
}

export class SliceBlocks {
  /** Slices per block. */
  readonly per: number;
  readonly plane: number;
  /** The colour scale (null: no finite value), undefined until known. */
  range: [number, number] | null | undefined;
  error: unknown;
  /**
   * The side (device pixels) slices are wanted at, 0 for full size: the server mean-pools longer slices to
   * it. A held block at least that large is kept; a smaller one is drawn until its replacement comes.
   */
  side = 0;
  readonly #blocks = new Map<number, { codes: Uint8Array; rows: number; cols: number }>();
  readonly #pending = new Set<number>();
  readonly #ctl = new AbortController();
  #rangeAsked: Promise<void> | undefined;
  #wanted: number[] = [];

  constructor(
    readonly tensor: TensorRef,
    readonly spec: GridSpec,
    readonly shape: { n: number; rows: number; cols: number; chunk: number },
    /** Called when a block (or the scale) arrives, or a request fails. */
    readonly onChange: () => void,
  ) {
    this.plane = shape.rows * shape.cols;
    this.per = blockSlices(this.plane, shape.chunk);
    // The first block may be on its way already (prefetch.ts), asked before the shape was known: usable
    // as it is when it is the whole grid (its scale is then the grid's).
    const early = takeMultiples(tensor, spec, 0);
    if (early && this.per >= shape.n) {
      this.#pending.add(0);
      early.then(
        (page) => this.#took(0, page),
        () => {
          this.#pending.delete(0);
          this.want(this.#wanted);
        },
      );
    }
  }

  /** How many blocks are held. */
  get held(): number {
    return this.#blocks.size;
  }

  /** The codes of slice `index` (at `base` in `codes`), or undefined while its block is not in. */
  slice(index: number): { codes: Uint8Array; base: number; rows: number; cols: number } | undefined {
    const b = Math.floor(index / this.per);
    const block = this.#blocks.get(b);
    return block ? { ...block, base: (index - b * this.per) * block.rows * block.cols } : undefined;
  }

  /** Whether block `b` is held at the wanted side or larger. */
  #sharp(b: number): boolean {
    const block = this.#blocks.get(b);
    if (!block) return false;
    const [h, w] = pooledShape(this.shape.rows, this.shape.cols, this.side);
    return block.rows >= h && block.cols >= w;
  }

  /**
   * Makes sure the blocks holding `indices` come, first needed first; blocks not among them are let go of
   * once more than KEEP_BYTES of them are held.
   */
  want(indices: readonly number[]): void {
    this.#wanted = [...indices];
    const order: number[] = [];
    const seen = new Set<number>();
    for (const i of indices) {
      const b = Math.floor(i / this.per);
      if (!seen.has(b)) {
        seen.add(b);
        order.push(b);
      }
    }
    let spare = 0;
    for (const [b, { codes }] of this.#blocks) {
      if (seen.has(b)) continue;
      spare += codes.byteLength;
      if (spare > KEEP_BYTES) this.#blocks.delete(b);
    }
    const missing = order.filter((b) => !this.#sharp(b) && !this.#pending.has(b));
    if (missing.length === 0) return;
    const single = this.per >= this.shape.n;
    if (!single && this.range === undefined) {
      // A scale for every block: the range over all slices, then the blocks.
      this.#rangeAsked ??= getMultiplesStats(this.tensor, this.spec, 'index', this.#ctl.signal).then(
        (s) => {
          this.range = s.min !== null && s.max !== null ? [s.min, s.max] : null;
          this.want(this.#wanted);
        },
        (err: unknown) => this.#fail(err),
      );
      return;
    }
    for (const b of missing) {
      this.#pending.add(b);
      const from = b * this.per;
      const to = Math.min(this.shape.n, from + this.per);
      const range = this.range ?? undefined;
      getMultiples(
        this.tensor,
        this.spec,
        from,
        to,
        { codes: true, px: this.side, ...(range ? { range } : {}) },
        this.#ctl.signal,
      )
        .then((page) => this.#took(b, page))
        .catch((err: unknown) => this.#fail(err));
    }
  }

  /** Stops every request (the grid went away or changed). */
  close(): void {
    this.#ctl.abort();
  }

  #took(b: number, page: Multiples): void {
    this.#pending.delete(b);
    if (this.#ctl.signal.aborted) return;
    const from = b * this.per;
    const to = Math.min(this.shape.n, from + this.per);
    if (
      page.from !== from ||
      page.to !== to ||
      page.rows > this.shape.rows ||
      page.cols > this.shape.cols ||
      !(page.data instanceof Uint8Array)
    ) {
      this.#fail(new Error(`small multiples: the server sent other slices than ${from}:${to}`));
      return;
    }
    if (this.range === undefined) this.range = page.range ?? null;
    this.#blocks.set(b, { codes: page.data, rows: page.rows, cols: page.cols });
    this.onChange();
    // Asked at another side than is now wanted (the cell was resized meanwhile): ask again.
    if (!this.#sharp(b)) this.want(this.#wanted);
  }

  #fail(err: unknown): void {
    if (this.#ctl.signal.aborted) return;
    this.error = err;
    this.onChange();
  }
}
