/**
 * `specimen pull [ID…|--all] [--json]`: brings down the committed runs and specimen files the local vault
 * lacks, verifying every file against its run manifest. Exit 0 when all arrived, 1 when a run was refused
 * because an object's bytes are wrong (named on stderr), 4 on a conflict.
 */
import { UsageError } from '../exit.js';
import { pullSummary, withRemote } from '../remote-report.js';

export default async function pull(
  ids: string[],
  opts: { all?: boolean; json?: boolean; vault?: string },
): Promise<number> {
  if (ids.length === 0 && !opts.all) throw new UsageError('pull: name the specimens to pull, or pass --all');
  if (ids.length > 0 && opts.all) throw new UsageError('pull: pass specimen IDs or --all, not both');
  const { pullVault } = await import('../../remote/pull.js');
  return withRemote(opts.vault, opts.json, async (vault, remote, store) => {
    const report = await pullVault(vault, remote, store, { specimenIds: ids });
    return [{ report, summary: pullSummary(report, store.describe) }];
  });
}
