/**
 * `specimen reproduce`: re-executes a recorded run — same protocol (or command), same seed, same config —
 * into a new run, compares the two, and records the verdict in the new run's manifest under
 * `reproduction: {of, verdict, …}`. Reproduction is proven by comparing outputs, not assumed.
 *
 * @example
 * const r = await reproduceRun({ vault, specimenId, runId: '20250102_101010', rtol: 1e-9 })
 * r.comparison.verdict   // 'identical' | 'within_tolerance' | 'differs'
 */
import { NotFoundError } from '../errors.js';
import type { PlainObject } from '../format/msgpack.js';
import { SpecimenStorage } from '../storage/specimen-storage.js';
import type { Vault } from '../storage/vault.js';
import { type CompareOptions, type Comparison, compareRuns, comparisonRecord } from './compare.js';
import { type RunProtocolOptions, type RunProtocolResult, runProtocol } from './run-protocol.js';

export interface ReproduceOptions extends CompareOptions {
  vault: Vault;
  specimenId: string;
  /** Run to reproduce; default the latest sealed run. */
  runId?: string;
  python?: string;
  echo?: RunProtocolOptions['echo'];
  onWarning?: (m: string) => void;
}

export interface ReproduceResult {
  original: string;
  run: RunProtocolResult;
  comparison: Comparison;
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
      return { reproduction: { of: originalId, ...comparisonRecord(comparison) } };
    },
  });
  if (!comparison) throw new Error('reproduce: comparison did not run');
  return { original: originalId, run, comparison };
}
