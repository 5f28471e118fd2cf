/**
 * `specimen reproduce`: re-executes a recorded run — same protocol (or command), same seed, same config —
 * into a new run, compares the two, and records the verdict in the new run's manifest under
 * `reproduction: {of, verdict, …}`. Reproduction is proven by comparing outputs, not assumed. Before
 * re-running it says how the current code (git commit, protocol files, uncommitted diff) differs from the
 * code kept with the original run.
 *
 * @example
 * const r = await reproduceRun({ vault, specimenId, runId: '20250102_101010', rtol: 1e-9 })
 * r.comparison.verdict   // 'identical' | 'within_tolerance' | 'differs'
 */
import { NotFoundError } from '../errors.js';
import type { PlainObject } from '../format/msgpack.js';
import type { RunInfo } from '../storage/describe.js';
import { SpecimenStorage } from '../storage/specimen-storage.js';
import type { Vault } from '../storage/vault.js';
import { currentCode, protocolFiles, readKeptCode } from './code-kept.js';
import { type CompareOptions, type Comparison, compareRuns, comparisonRecord } from './compare.js';
import { gitState } from './provenance.js';
import { type RunProtocolOptions, type RunProtocolResult, runProtocol } from './run-protocol.js';

export interface ReproduceOptions extends CompareOptions {
  vault: Vault;
  specimenId: string;
  /** Run to reproduce; default the latest sealed run. */
  runId?: string;
  python?: string;
  echo?: RunProtocolOptions['echo'];
  onWarning?: (m: string) => void;
  /**
   * Told, before the protocol is re-run, how the current code differs from the code recorded with the
   * original run (codeDifferences); not called when it is the same.
   */
  onCodeDiffers?: (differences: string[]) => void;
}

export interface ReproduceResult {
  original: string;
  run: RunProtocolResult;
  comparison: Comparison;
  /** How the code re-run differs from the recorded code (empty when the same). */
  codeDiffers: string[];
}

/**
 * How the specimen's current code differs from what `original` recorded: the git commit, and each kept code
 * file (protocol files, the git diff, untracked names) that changed, appeared or went. A run recorded before
 * code was kept is compared by its git commit and diff hash only.
 */
export async function codeDifferences(specimenDir: string, original: RunInfo): Promise<string[]> {
  const m = (original.manifest ?? {}) as PlainObject;
  const out: string[] = [];
  const git = m.git as PlainObject | null | undefined;
  const now = await gitState(specimenDir);
  if (git && typeof git.commit === 'string' && now && now.commit !== git.commit)
    out.push(`git commit ${String(git.commit).slice(0, 12)} → ${String(now.commit).slice(0, 12)}`);
  if (!m.code) {
    if (git && now && (git.diff_sha256 ?? null) !== (now.diff_sha256 ?? null))
      out.push('uncommitted changes differ (git diff hash)');
    return out;
  }
  const recorded = await readKeptCode(original.path);
  const current = await currentCode({ files: protocolFiles(specimenDir), gitCwd: specimenDir });
  for (const name of [...new Set([...recorded.keys(), ...current.keys()])].sort()) {
    const a = recorded.get(name);
    const b = current.get(name);
    if (a === undefined && b === null) continue;
    if (a === undefined) out.push(`${name}: not in the recorded run, present now`);
    else if (b === undefined) out.push(`${name}: recorded, absent now`);
    else if (b === null) out.push(`${name}: changed (now binary or over the size cap)`);
    else if (a !== b) out.push(`${name}: changed`);
  }
  return out;
}

/** Re-executes `runId` and compares; the verdict is in the result and in the new run's manifest. */
export async function reproduceRun(options: ReproduceOptions): Promise<ReproduceResult> {
  const storage = await SpecimenStorage.open(options.specimenId, { vault: options.vault });
  const runs = await storage.listRunInfo();
  let original = options.runId !== undefined ? await storage.getRun(options.runId) : undefined;
  original ??= [...runs].reverse().find((r) => r.sealed && r.status === 'succeeded');
  if (!original)
    throw new NotFoundError(
      `sealed run of ${options.specimenId}`,
      'latest',
      [],
      'record one with `specimen run` first',
    );
  const m = original.manifest ?? ({} as PlainObject);
  const seeds = (m.seeds ?? {}) as PlainObject;
  const seed = typeof seeds.global === 'number' ? seeds.global : typeof m.seed === 'number' ? m.seed : 0;
  const config = (m.config ?? {}) as PlainObject;
  // A run of the specimen's protocol is re-resolved (interpreter paths may have moved); an explicit command
  // is replayed as recorded.
  const command = m.protocol ? undefined : Array.isArray(m.command) ? (m.command as string[]) : undefined;
  const compare: CompareOptions = {
    ...(options.rtol !== undefined ? { rtol: options.rtol } : {}),
    ...(options.atol !== undefined ? { atol: options.atol } : {}),
    ...(options.ignore ? { ignore: options.ignore } : {}),
  };
  // Said before re-running: a verdict of "differs" is then read knowing the code changed.
  const codeDiffers = await codeDifferences(storage.path, original);
  if (codeDiffers.length > 0) options.onCodeDiffers?.(codeDiffers);
  let comparison: Comparison | undefined;
  const originalPath = original.path;
  const originalId = original.runId;
  const run = await runProtocol({
    vault: options.vault,
    specimenId: options.specimenId,
    seed,
    config,
    ...(command ? { command } : {}),
    ...(options.python
      ? { python: options.python }
      : typeof m.python === 'string'
        ? { python: m.python }
        : {}),
    ...(options.echo ? { echo: options.echo } : {}),
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    extra: { reproduction: { of: originalId } },
    beforeSeal: async (dir) => {
      comparison = await compareRuns(originalPath, dir, compare);
      return {
        reproduction: {
          of: originalId,
          ...comparisonRecord(comparison),
          ...(codeDiffers.length > 0 ? { code_differs: codeDiffers } : {}),
        },
      };
    },
  });
  if (!comparison) throw new Error('reproduce: comparison did not run');
  return { original: originalId, run, comparison, codeDiffers };
}
