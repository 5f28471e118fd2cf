/**
 * Pushing a run as soon as it is sealed (`specimen run --push`, or `remote.pushOnSeal` in the config). A
 * host without network keeps working: unreachable endpoints are retried with exponential back-off, and
 * when they stay unreachable the run simply stays local, with a warning, for a later `specimen push`.
 *
 * @example
 * const outcome = await pushSealedRun(vault, '2025_01_02_x', runId, { onWarning: console.warn })
 * // 'pushed' | 'already-there' | 'kept-local'
 */

import { isVaultError } from '../errors.js';
import type { Vault } from '../storage/vault.js';
import { readRemoteConfig } from './config.js';
import { withBackoff } from './pool.js';

/** True when the vault's config asks for every sealed run to be pushed (read without loading zod). */
export function pushOnSealConfigured(vault: Vault): boolean {
  const remote = vault.config.raw.remote as { pushOnSeal?: unknown } | undefined;
  return remote?.pushOnSeal === true;
}

/** Pushes one sealed run (and its specimen's files); never throws for remote trouble, it warns instead. */
export async function pushSealedRun(
  vault: Vault,
  specimenId: string,
  runId: string,
  options: { onWarning: (message: string) => void; attempts?: number; baseMs?: number },
): Promise<'pushed' | 'already-there' | 'kept-local'> {
  try {
    const remote = await readRemoteConfig(vault.root);
    const { connectRemote } = await import('./connect.js');
    const { pushVault } = await import('./push.js');
    const report = await withBackoff(
      async () => {
        const { store } = await connectRemote(vault, remote);
        try {
          return await pushVault(vault, remote, store, { specimenIds: [specimenId], runIds: [runId] });
        } finally {
          store.close();
        }
      },
      {
        attempts: options.attempts ?? remote.pushRetries,
        baseMs: options.baseMs ?? 1_000,
        retryable: (err) => isVaultError(err, 'RemoteUnreachableError'),
        onRetry: (err, waitMs) =>
          options.onWarning(`${(err as Error).message}; retrying in ${(waitMs / 1000).toFixed(1)} s`),
      },
    );
    for (const c of report.conflicts) options.onWarning(c.message);
    for (const r of report.refused)
      options.onWarning(
        `the store refused files of run ${r.runId} that changed since sealing: ${r.objects.join(', ')}`,
      );
    if (report.pushed.some((p) => p.runId === runId)) return 'pushed';
    if (report.conflicts.length === 0 && report.present > 0) return 'already-there';
    options.onWarning(
      `run ${runId} of ${specimenId} was not pushed; it stays local — run \`specimen push\` later`,
    );
    return 'kept-local';
  } catch (err) {
    if (
      !isVaultError(
        err,
        'RemoteConfigError',
        'RemoteAuthError',
        'RemoteBucketError',
        'RemoteUnreachableError',
        'RemoteIntegrityError',
        'RemoteConflictError',
      )
    )
      throw err;
    options.onWarning(
      `${err.message}\nrun ${runId} of ${specimenId} stays local; push it later with \`specimen push\``,
    );
    return 'kept-local';
  }
}
