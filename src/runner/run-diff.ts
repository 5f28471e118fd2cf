/**
 * What differs between two runs, from their manifests: config (flattened to dotted keys), seeds, code (git
 * commit, branch, uncommitted changes and their diff's hash, command, protocol config), environment (host,
 * runtime versions, language) and dependencies (Node packages and `pip freeze`, package by package). Each
 * section lists only the keys whose values differ, with both values (undefined where a run lacks the key).
 * The code section also lists each kept code file (`runs/<id>/code/`) whose hash differs; diffKeptCode
 * gives their unified diffs.
 *
 * @example
 * const d = diffRuns(runA, runB)   // RunInfo of each
 * d.sections.find((s) => s.name === 'dependencies')?.changes   // [{ key: 'python:numpy', a: '1.26.4', b: '2.0.1' }]
 */
import { createTwoFilesPatch } from 'diff';
import { CODE_DIR } from '../format/layout.js';
import type { PlainObject, PlainValue } from '../format/msgpack.js';
import type { RunInfo } from '../storage/describe.js';

/** One key whose value differs. */
export interface RunDiffChange {
  key: string;
  a: PlainValue | undefined;
  b: PlainValue | undefined;
}

/** The sections of a run diff, in this order. */
export const RUN_DIFF_SECTIONS = ['config', 'seed', 'code', 'environment', 'dependencies'] as const;

export interface RunDiff {
  a: { specimen_id: string; run_id: string };
  b: { specimen_id: string; run_id: string };
  sections: { name: (typeof RUN_DIFF_SECTIONS)[number]; changes: RunDiffChange[] }[];
  /** True when no section has a change. */
  same: boolean;
}

function isObject(v: PlainValue | undefined): v is PlainObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** `{a: {b: 1}}` → `{'a.b': 1}`; arrays and other values are leaves. */
function flatten(
  v: PlainValue | undefined,
  prefix: string,
  out: Map<string, PlainValue>,
): Map<string, PlainValue> {
  if (isObject(v)) {
    const entries = Object.entries(v);
    if (entries.length === 0 && prefix) out.set(prefix, {});
    for (const [k, x] of entries) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix && v !== undefined) out.set(prefix, v);
  return out;
}

function same(a: PlainValue | undefined, b: PlainValue | undefined): boolean {
  return stable(a) === stable(b);
}

function stable(v: PlainValue | undefined): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('hex')}`;
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (isObject(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable(v[k])}`)
      .join(',')}}`;
  if (typeof v === 'number' && Number.isNaN(v)) return 'NaN';
  return JSON.stringify(v);
}

/** The differing keys of two flat maps, sorted. */
function changes(a: Map<string, PlainValue>, b: Map<string, PlainValue>): RunDiffChange[] {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.filter((k) => !same(a.get(k), b.get(k))).map((k) => ({ key: k, a: a.get(k), b: b.get(k) }));
}

function field(m: PlainObject, key: string): PlainValue | undefined {
  return m[key];
}

/** `name==version` lines (pip freeze) as name → version; other lines keep themselves as both. */
function pipPackages(lines: PlainValue | undefined, out: Map<string, PlainValue>): void {
  if (!Array.isArray(lines)) return;
  for (const line of lines) {
    if (typeof line !== 'string') continue;
    const at = line.indexOf('==');
    if (at > 0) out.set(`python:${line.slice(0, at).toLowerCase()}`, line.slice(at + 2));
    else out.set(`python:${line}`, line);
  }
}

function dependencies(m: PlainObject): Map<string, PlainValue> {
  const out = new Map<string, PlainValue>();
  const deps = field(m, 'dependencies');
  if (!isObject(deps)) return out;
  const node = deps.node;
  if (isObject(node)) {
    // Resolved versions package by package, and the fingerprints of package.json and the lockfile.
    if (isObject(node.resolved)) for (const [k, v] of Object.entries(node.resolved)) out.set(`node:${k}`, v);
    for (const k of ['package_json_sha256', 'lockfile', 'lockfile_sha256'])
      if (node[k] !== undefined) out.set(`node ${k}`, node[k]!);
  }
  const py = deps.python;
  if (isObject(py)) {
    pipPackages(py.pip_freeze, out);
    if (py.executable !== undefined) out.set('python executable', py.executable);
  }
  return out;
}

function code(m: PlainObject, run: RunInfo): Map<string, PlainValue> {
  const out = new Map<string, PlainValue>();
  const git = field(m, 'git');
  if (isObject(git))
    for (const k of ['commit', 'branch', 'dirty', 'diff_sha256']) if (k in git) out.set(`git.${k}`, git[k]!);
  if (run.command !== null) out.set('command', run.command);
  flatten(field(m, 'protocol_config'), 'protocol_config', out);
  flatten(field(m, 'protocol'), 'protocol', out);
  // The code files kept in the run (code-kept.ts), compared by the hash sealing recorded.
  const files = field(m, 'files');
  if (isObject(files))
    for (const [rel, entry] of Object.entries(files))
      if (rel.startsWith(`${CODE_DIR}/`) && isObject(entry))
        out.set(`code file ${rel.slice(CODE_DIR.length + 1)}`, entry.sha256 ?? null);
  return out;
}

function environment(m: PlainObject): Map<string, PlainValue> {
  const out = new Map<string, PlainValue>();
  flatten(field(m, 'host'), 'host', out);
  flatten(field(m, 'runtime'), 'runtime', out);
  const language = field(m, 'language');
  if (language !== undefined) out.set('language', language);
  return out;
}

/** A run's facts by section, each flattened to keys (what diffRuns compares). */
export function runFacts(run: RunInfo): Record<(typeof RUN_DIFF_SECTIONS)[number], Map<string, PlainValue>> {
  const m = (run.manifest ?? {}) as PlainObject;
  return {
    config: flatten(run.config, '', new Map()),
    seed: flatten(run.seeds, '', new Map()),
    code: code(m, run),
    environment: environment(m),
    dependencies: dependencies(m),
  };
}

/** Whether two values are the same for a diff (deep, bigint- and NaN-aware). */
export function sameValue(a: PlainValue | undefined, b: PlainValue | undefined): boolean {
  return same(a, b);
}

/** See the module comment. */
export function diffRuns(a: RunInfo, b: RunInfo): RunDiff {
  const fa = runFacts(a);
  const fb = runFacts(b);
  const sections: RunDiff['sections'] = RUN_DIFF_SECTIONS.map((name) => ({
    name,
    changes: changes(fa[name], fb[name]),
  }));
  return {
    a: { specimen_id: a.specimenId, run_id: a.runId },
    b: { specimen_id: b.specimenId, run_id: b.runId },
    sections,
    same: sections.every((s) => s.changes.length === 0),
  };
}

/** A kept code file that differs between two runs, with its unified diff (A → B). */
export interface CodeFileDiff {
  file: string;
  patch: string;
}

/**
 * Unified diffs of the code files kept in two runs (name → text each, from readKeptCode): one per file that
 * differs or is kept in only one of them, in name order.
 */
export function diffKeptCode(
  a: Map<string, string>,
  b: Map<string, string>,
  labels: { a: string; b: string } = { a: 'A', b: 'B' },
): CodeFileDiff[] {
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  return names
    .filter((n) => a.get(n) !== b.get(n))
    .map((n) => ({
      file: n,
      patch: createTwoFilesPatch(
        a.has(n) ? `${labels.a}/${n}` : '/dev/null',
        b.has(n) ? `${labels.b}/${n}` : '/dev/null',
        a.get(n) ?? '',
        b.get(n) ?? '',
        undefined,
        undefined,
        { context: 3 },
      ),
    }));
}
