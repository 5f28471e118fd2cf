/**
 * `specimen diff <SPECIMEN/RUN_A> <SPECIMEN/RUN_B> [--json]`: what differs between two runs (of one
 * specimen or of two) — config, seed, code (git commit, uncommitted changes, command), environment (host,
 * runtimes) and dependencies, package by package (runner/run-diff.ts). Only differing keys are printed,
 * then a unified diff of each code file kept in the runs (`runs/<id>/code/`) that differs.
 *
 * @example
 * specimen diff 2026_01_02_probe/20260102_101010 2026_01_02_probe/20260103_090000
 */
import { UsageError } from '../../errors.js';
import { assertRunId, assertSpecimenId } from '../../format/ids.js';
import { readKeptCode } from '../../runner/code-kept.js';
import { diffKeptCode, diffRuns } from '../../runner/run-diff.js';
import { findRunDir } from '../../storage/describe.js';
import { SpecimenStorage } from '../../storage/specimen-storage.js';
import { Vault } from '../../storage/vault.js';
import { painter } from '../output.js';
import { makeTable } from '../table.js';

function parseRef(text: string): { specimenId: string; runId: string } {
  const slash = text.lastIndexOf('/');
  if (slash <= 0 || slash === text.length - 1)
    throw new UsageError(
      `diff: a run is <specimen_id>/<run_id> (e.g. 2026_01_02_probe/20260102_101010), got ${JSON.stringify(text)}`,
    );
  const specimenId = text.slice(0, slash);
  const runId = text.slice(slash + 1);
  assertSpecimenId(specimenId);
  assertRunId(runId);
  return { specimenId, runId };
}

function show(v: unknown): string {
  if (v === undefined) return '–';
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return String(v);
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x));
}

export default async function diff(
  a: string,
  b: string,
  opts: { json?: boolean; vault?: string },
): Promise<number> {
  const ra = parseRef(a);
  const rb = parseRef(b);
  const vault = await Vault.open(opts.vault);
  const runOf = async (r: { specimenId: string; runId: string }) =>
    (await SpecimenStorage.open(r.specimenId, { vault })).getRun(r.runId);
  const [runA, runB] = await Promise.all([runOf(ra), runOf(rb)]);
  const d = diffRuns(runA, runB);
  const codeOf = async (r: { specimenId: string; runId: string }) =>
    readKeptCode((await findRunDir(r.specimenId, vault.specimenDir(r.specimenId), r.runId)).dir);
  const [codeA, codeB] = await Promise.all([codeOf(ra), codeOf(rb)]);
  const codeFiles = diffKeptCode(codeA, codeB, { a, b });
  if (opts.json) {
    console.log(
      JSON.stringify({ ...d, code_files: codeFiles }, (_k, x) => (typeof x === 'bigint' ? String(x) : x), 2),
    );
    return 0;
  }
  const paint = painter();
  console.log(`${paint('bold', 'A')} ${a}\n${paint('bold', 'B')} ${b}`);
  if (d.same) {
    console.log('no differences in config, seed, code, environment or dependencies');
    return 0;
  }
  for (const s of d.sections) {
    console.log(
      `\n${paint('bold', s.name)}: ${s.changes.length === 0 ? 'same' : `${s.changes.length} differ`}`,
    );
    if (s.changes.length === 0) continue;
    const t = makeTable(['key', 'A', 'B']);
    for (const c of s.changes) t.push([c.key, show(c.a), show(c.b)]);
    console.log(t.toString());
  }
  // The kept code itself (runs/<id>/code/), as unified diffs.
  for (const f of codeFiles) console.log(`\n${paint('bold', `code ${f.file}`)}:\n${f.patch.trimEnd()}`);
  return 0;
}
