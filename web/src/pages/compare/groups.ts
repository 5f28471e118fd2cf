/**
 * Grouping on the compare page: which config keys the runs can be grouped by, a group's label, the band
 * drawn around a group's line, and the summary figures aggregated per group the same way.
 *
 * @example
 * bandOf(line, 'stderr')   // { lower: mean - std/√n, upper: mean + std/√n }
 */
import type { CompareResponse, GroupLineEntry, Json } from '../../api/index.js';

export type Center = 'mean' | 'median';
export type BandKind = 'std' | 'stderr' | 'minmax' | 'none';

export const BANDS: readonly BandKind[] = ['std', 'stderr', 'minmax', 'none'];

/** Config keys (top level) with more than one value among the runs: the ones worth grouping by. */
export function groupableKeys(runs: CompareResponse['runs']): string[] {
  const values = new Map<string, Set<string>>();
  for (const r of runs) {
    if (!r.config || typeof r.config !== 'object' || Array.isArray(r.config)) continue;
    for (const [k, v] of Object.entries(r.config)) {
      const set = values.get(k) ?? new Set<string>();
      set.add(JSON.stringify(v));
      values.set(k, set);
    }
  }
  return [...values]
    .filter(([, s]) => s.size > 1)
    .map(([k]) => k)
    .sort();
}

/** `prime=97, lr=0.001`. */
export function groupLabel(keys: readonly string[], values: readonly Json[]): string {
  if (keys.length === 0) return 'all runs';
  return keys
    .map(
      (k, i) =>
        `${k}=${values[i] === null || values[i] === undefined ? '–' : typeof values[i] === 'string' ? values[i] : JSON.stringify(values[i])}`,
    )
    .join(', ');
}

/** The centre line of a group. */
export function centerOf(line: GroupLineEntry, center: Center): number[] {
  return center === 'median' ? line.median : line.mean;
}

/** The band around a group's line (undefined for `none`). Std and stderr are around the mean or median. */
export function bandOf(
  line: GroupLineEntry,
  kind: BandKind,
  center: Center,
): { lower: (number | null)[]; upper: (number | null)[] } | undefined {
  if (kind === 'none') return undefined;
  if (kind === 'minmax') return { lower: line.min, upper: line.max };
  const c = centerOf(line, center);
  const half = line.std.map((s, i) => (s === null ? null : kind === 'std' ? s : s / Math.sqrt(line.n[i]!)));
  return {
    lower: c.map((v, i) => (half[i] === null ? null : v - half[i]!)),
    upper: c.map((v, i) => (half[i] === null ? null : v + half[i]!)),
  };
}

/** Centre and spread of numbers, as the chart's band computes them. */
export function aggregate(
  xs: readonly number[],
  center: Center,
  kind: BandKind,
): { center: number | null; lower: number | null; upper: number | null } {
  const v = xs.filter(Number.isFinite);
  if (v.length === 0) return { center: null, lower: null, upper: null };
  const sorted = [...v].sort((a, b) => a - b);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const c = center === 'median' ? median : mean;
  if (kind === 'none') return { center: c, lower: null, upper: null };
  if (kind === 'minmax') return { center: c, lower: sorted[0]!, upper: sorted.at(-1)! };
  if (v.length < 2) return { center: c, lower: null, upper: null };
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
  const half = kind === 'std' ? std : std / Math.sqrt(v.length);
  return { center: c, lower: c - half, upper: c + half };
}
