/**
 * Tensor selections as the API spells them: one comma-separated entry per dimension, NumPy style —
 * `3` (an index; the dimension is dropped), `:` (all of it), `a:b` and `a:b:s` (a slice, bounds optional,
 * negative counting from the end). Missing trailing entries mean the whole dimension. Parsed into the
 * storage layer's `Selection`, with the result's shape computed first so an oversized read is refused
 * before any chunk is touched. `splitSelection` cuts one into chunk-aligned blocks that can be read and
 * sent one after another.
 *
 * @example
 * parseSelection('2,:,0:512:2', [8, 512, 1024])   // { selection: [2, null, [0, 512, 2]], shape: [512, 256] }
 */
import type { Selection } from '../storage/tensors/types.js';
import { HttpError } from './http.js';

type Entry = Selection[number];

const INT = /^-?\d{1,15}$/;

function bad(message: string): HttpError {
  return new HttpError(400, 'BadSelection', `sel: ${message}`);
}

function parseInt15(text: string, what: string): number {
  if (!INT.test(text)) throw bad(`${what} must be an integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Parses `text` against `shape`; returns the storage Selection and the shape of the result. */
export function parseSelection(
  text: string,
  shape: readonly number[],
): { selection: Selection; shape: number[] } {
  const parts = text.trim() === '' ? [] : text.split(',');
  if (parts.length > shape.length)
    throw bad(`${parts.length} entries for a ${shape.length}-dimensional tensor`);
  const selection: Entry[] = [];
  const out: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    const dim = shape[d]!;
    const p = (parts[d] ?? ':').trim();
    if (!p.includes(':')) {
      let i = parseInt15(p, `index of dimension ${d}`);
      if (i < 0) i += dim;
      if (i < 0 || i >= dim) throw bad(`index ${p} is out of range for dimension ${d} of size ${dim}`);
      selection.push(i);
      continue;
    }
    const bits = p.split(':');
    if (bits.length > 3) throw bad(`${JSON.stringify(p)} is not a slice`);
    const stepText = bits[2] ?? '';
    const step = stepText === '' ? 1 : parseInt15(stepText, `step of dimension ${d}`);
    if (step < 1) throw bad(`step of dimension ${d} must be positive`);
    const clamp = (v: number) => Math.min(dim, Math.max(0, v < 0 ? v + dim : v));
    const start = bits[0] === '' ? 0 : clamp(parseInt15(bits[0]!, `start of dimension ${d}`));
    const stop =
      bits[1] === '' || bits[1] === undefined ? dim : clamp(parseInt15(bits[1], `stop of dimension ${d}`));
    if (start === 0 && stop === dim && step === 1) selection.push(null);
    else selection.push(step === 1 ? [start, stop] : [start, stop, step]);
    out.push(stop > start ? Math.ceil((stop - start) / step) : 0);
  }
  return { selection, shape: out };
}

/**
 * Cuts `selection` along its outermost dimension that selects more than one element into at most
 * `maxBlocks` consecutive selections whose boundaries fall on chunk boundaries. Their results, concatenated,
 * are the result of `selection` in C order (every dimension before the cut selects one element), so each
 * block can go out while the next one is decoded. A selection inside one chunk along that dimension stays
 * whole.
 *
 * @example
 * splitSelection([3, [0, 512], [0, 512]], [16, 4096, 4096], [1, 128, 4096], 4)
 * // [[3, [0, 128, 1], [0, 512]], [3, [128, 256, 1], [0, 512]], …]
 */
export function splitSelection(
  selection: Selection,
  shape: readonly number[],
  chunks: readonly number[],
  maxBlocks: number,
): Selection[] {
  for (let d = 0; d < shape.length; d++) {
    const e = selection[d] ?? null;
    if (typeof e === 'number') continue;
    const [start, stop, step] = e === null ? [0, shape[d]!, 1] : [e[0], e[1], e[2] ?? 1];
    const count = stop > start ? Math.ceil((stop - start) / step) : 0;
    if (count <= 1) continue;
    const chunk = chunks[d]!;
    // Positions (in selected elements) where a new chunk starts along d.
    const starts: number[] = [];
    let lastChunk = -1;
    for (let j = 0; j < count; j++) {
      const c = Math.floor((start + j * step) / chunk);
      if (c !== lastChunk) {
        starts.push(j);
        lastChunk = c;
        // Beyond this many chunks the cut points are spread out anyway; skip ahead to the next chunk.
        const next = Math.ceil(((c + 1) * chunk - start) / step);
        if (next > j + 1) j = next - 1;
      }
    }
    if (starts.length <= 1 || maxBlocks <= 1) return [selection];
    // Greedy: a cut at the first chunk start at or past each 1/maxBlocks of the elements.
    const cuts: number[] = [0];
    for (const j of starts) {
      if (j > cuts[cuts.length - 1]! && j >= (cuts.length * count) / maxBlocks) cuts.push(j);
    }
    cuts.push(count);
    const blocks: Selection[] = [];
    for (let b = 0; b + 1 < cuts.length; b++) {
      const lo = start + cuts[b]! * step;
      const hi = start + (cuts[b + 1]! - 1) * step + 1;
      const block = [...selection];
      while (block.length < shape.length) block.push(null);
      block[d] = [lo, hi, step];
      blocks.push(block);
    }
    return blocks;
  }
  return [selection];
}
