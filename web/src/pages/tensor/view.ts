/**
 * What the tensor viewer asks for: axis ranges from the URL, selections in the slice route's NumPy syntax
 * (with a stride for long axes), and the tensor's identity in data keys.
 *
 * @example
 * axisSel(4096, 1024) // { text: '0:4096:4', step: 4, start: 0 }
 */
import type { TensorRef } from '../../api/index.js';

/** Longest axis drawn at full resolution. */
export const MAX_AXIS = 1024;
/** Longest 1-D tensor drawn at full resolution. */
export const MAX_LINE = 100_000;

/** Parses a `start:stop` range of an axis of length `n` (the whole axis when absent or malformed). */
export function parseRange(text: string | null, n: number): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(text ?? '');
  if (!m) return [0, n];
  const a = Math.min(n - 1, Number(m[1]));
  const b = Math.min(n, Number(m[2]));
  return b > a ? [a, b] : [0, n];
}

/** Selection text of an axis range, with a stride when it is longer than `max`. */
export function axisSel(
  n: number,
  max: number,
  range: [number, number] = [0, n],
): { text: string; step: number; start: number } {
  const [a, b] = range;
  const step = b - a <= max ? 1 : Math.ceil((b - a) / max);
  if (a === 0 && b === n && step === 1) return { text: ':', step, start: 0 };
  return { text: step === 1 ? `${a}:${b}` : `${a}:${b}:${step}`, step, start: a };
}

/** `d` when it is a dimension of an `nd`-D tensor, else the last dimension. */
export function clampDim(d: number, nd: number): number {
  return Number.isInteger(d) && d >= 0 && d < nd ? d : Math.max(0, nd - 1);
}

/** The tensor's identity, for data keys. */
export function tensorKey(t: TensorRef): string {
  return `${t.specimenId}/${t.runId}/${t.name}`;
}
