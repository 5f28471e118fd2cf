/**
 * Merging a specimen file that two hosts changed since they last agreed (`base`). Nothing is dropped
 * silently: field notes are append-merged (both sides' additions kept; overlapping edits keep both texts
 * under a marker), msgpack maps are merged key by key, and a key both sides set differently is a conflict
 * that the caller reports.
 *
 * @example
 * mergeNotes(base, ours, theirs, 'host-a')      // theirs + our additions
 * mergeMaps(base, ours, theirs)                 // { merged } or { conflicts: ['status'] }
 */
import { isDeepStrictEqual } from 'node:util';
import type { PlainObject } from '../format/msgpack.js';

/** Merge of two texts that both grew from `base`. `host` labels our block when the edits overlap. */
export function mergeNotes(base: string | undefined, ours: string, theirs: string, host: string): string {
  if (ours === theirs || theirs.startsWith(ours)) return theirs;
  if (ours.startsWith(theirs)) return ours;
  const b = base ?? '';
  if (b !== '' && ours.startsWith(b) && theirs.startsWith(b)) {
    // The usual case: each side appended observations. Theirs first (already on the remote), then ours.
    return joinBlocks(theirs, ours.slice(b.length));
  }
  // Overlapping edits: keep their text whole and add every line of ours that theirs lacks, marked so a
  // person can tidy it up. Deleting a line on one side brings it back rather than losing the other edit.
  const have = countLines(theirs);
  const extra: string[] = [];
  for (const line of ours.split('\n')) {
    const n = have.get(line) ?? 0;
    if (n > 0) have.set(line, n - 1);
    else extra.push(line);
  }
  while (extra.length > 0 && extra.at(-1) === '') extra.pop();
  if (extra.length === 0) return theirs;
  return joinBlocks(
    theirs,
    `\n<!-- specimen sync: lines from ${host} that overlapped a concurrent edit; both kept -->\n${extra.join('\n')}\n`,
  );
}

function joinBlocks(first: string, added: string): string {
  if (added === '') return first;
  const sep = first.endsWith('\n') || added.startsWith('\n') ? '' : '\n';
  return `${first}${sep}${added}`;
}

function countLines(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) m.set(line, (m.get(line) ?? 0) + 1);
  return m;
}

/** Result of a key-by-key merge. */
export type MapMerge = { merged: PlainObject; conflicts: [] } | { merged?: undefined; conflicts: string[] };

/**
 * Three-way merge of two maps: a key changed on one side takes that side's value; a key changed on both to
 * the same value is fine; two string lists (tags) changed on both become their union; anything else
 * changed on both sides is a conflict.
 */
export function mergeMaps(base: PlainObject | undefined, ours: PlainObject, theirs: PlainObject): MapMerge {
  const b = base ?? {};
  const merged: PlainObject = {};
  const conflicts: string[] = [];
  const keys = new Set([...Object.keys(theirs), ...Object.keys(ours)]);
  for (const k of keys) {
    const o = ours[k];
    const t = theirs[k];
    const bv = b[k];
    let value: unknown;
    if (isDeepStrictEqual(o, t)) value = o;
    else if (base !== undefined && isDeepStrictEqual(o, bv)) value = t;
    else if (base !== undefined && isDeepStrictEqual(t, bv)) value = o;
    else if (isStringList(o) && isStringList(t)) value = [...new Set([...t, ...o])];
    else {
      conflicts.push(k);
      continue;
    }
    if (value !== undefined) merged[k] = value as PlainObject[string];
  }
  return conflicts.length > 0 ? { conflicts } : { merged, conflicts: [] };
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}
