/**
 * Identifier rules. New specimen IDs look like `2025_12_22_vn_experiments`; existing directories with other
 * names (the Python implementation's `example_2024_12_19_synthetic_demo`) are still read, so reading only
 * requires a *safe* name while creating requires the full rule. Run IDs sort by time: `20251222_201718`,
 * with a `_001`, `_002`… suffix when several runs start in the same second, so plain string order is time order.
 *
 * @example
 * assertNewSpecimenId('2025_01_02_grokking_sweep') // ok
 * assertSafeName('tensor', '../etc')                // throws InvalidNameError
 */
import { InvalidIdError, InvalidNameError } from '../errors.js';

/** Pattern every newly created specimen ID must match. */
export const SPECIMEN_ID_PATTERN = /^\d{4}_\d{2}_\d{2}_[A-Za-z0-9_]+$/;
/** Pattern of run IDs: UTC `YYYYMMDD_HHMMSS` plus an optional collision suffix. */
export const RUN_ID_PATTERN = /^\d{8}_\d{6}(?:_\d{3,})?$/;
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MAX_NAME_LENGTH = 200;

function unsafeReason(value: string): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  if (value.length > MAX_NAME_LENGTH) return `must be at most ${MAX_NAME_LENGTH} characters`;
  if (value.includes('\0')) return 'must not contain NUL';
  if (value.includes('/') || value.includes('\\')) return 'must not contain path separators';
  if (value === '.' || value === '..' || value.includes('..')) return 'must not contain ".."';
  if (!SAFE_NAME.test(value))
    return 'may contain only letters, digits, "_", "-" and "." and must start with a letter or digit';
  return undefined;
}

/** Throws unless `value` is a name that is safe to use as one path component. */
export function assertSafeName(kind: string, value: string): void {
  const reason = unsafeReason(value);
  if (reason) throw new InvalidNameError(kind, String(value), reason);
}

/** Throws unless `value` is a valid ID for a *new* specimen. */
export function assertNewSpecimenId(value: string): void {
  const reason = unsafeReason(value);
  if (reason) throw new InvalidIdError('specimen', String(value), reason);
  if (!SPECIMEN_ID_PATTERN.test(value))
    throw new InvalidIdError(
      'specimen',
      value,
      'new specimen IDs must look like YYYY_MM_DD_descriptor (letters, digits and "_"), e.g. 2025_01_02_grokking_sweep',
    );
  const [y, m, d] = value.split('_').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d)
    throw new InvalidIdError('specimen', value, `${value.slice(0, 10)} is not a calendar date`);
}

/** Throws unless `value` names an existing specimen safely (any safe directory name). */
export function assertSpecimenId(value: string): void {
  const reason = unsafeReason(value);
  if (reason) throw new InvalidIdError('specimen', String(value), reason);
}

/** Throws unless `value` is a well-formed run ID (or a safe legacy run name such as `strata`). */
export function assertRunId(value: string): void {
  const reason = unsafeReason(value);
  if (reason) throw new InvalidIdError('run', String(value), reason);
}

/** The run ID for a run started at `date` (UTC, second resolution), before collision suffixes. */
export function runIdBase(date: Date): string {
  const iso = date.toISOString(); // 2025-12-22T20:17:18.128Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

/**
 * Sort key for run IDs: base timestamp, then numeric suffix, so `…_2` < `…_10`. Legacy names sort first.
 */
export function compareRunIds(a: string, b: string): number {
  const pa = splitRunId(a);
  const pb = splitRunId(b);
  if (pa.base !== pb.base) return pa.base < pb.base ? -1 : 1;
  if (pa.seq !== pb.seq) return pa.seq - pb.seq;
  // Same key from different spellings (`_01` and `_001`, or two legacy names): plain order keeps the sort total.
  return a < b ? -1 : a > b ? 1 : 0;
}

function splitRunId(id: string): { base: string; seq: number } {
  const m = /^(\d{8}_\d{6})(?:_(\d+))?$/.exec(id);
  if (!m) return { base: '', seq: 0 };
  // The bare ID is the first run of its second; any suffix, `_001` included, comes after it.
  return { base: m[1]!, seq: m[2] ? Number(m[2]) : 0 };
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** Up to `limit` candidates closest to `value` (substring matches first, then by edit distance). */
export function closest(value: string, candidates: readonly string[], limit = 3): string[] {
  const scored = candidates.map((c) => {
    const sub = c.includes(value) || value.includes(c);
    return { c, d: sub ? -1 : editDistance(value, c) };
  });
  const cutoff = Math.max(2, Math.floor(value.length / 3));
  return scored
    .filter((s) => s.d <= cutoff)
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, limit)
    .map((s) => s.c);
}
