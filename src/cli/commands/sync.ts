/**
 * `specimen sync [ID…] [--json]`: pull, then push — afterwards both sides hold every run, and concurrent
 * edits of field notes are merged on both. Exit codes as for pull and push (the worse of the two).
 */
import { pullSummary, pushSummary, withRemote } from '../remote-report.js';

export default async function sync(ids: string[], opts: { json?: boolean; vault?: string }): Promise<number> {
  const { pullVault } = await import('../../remote/pull.js');
  const { pushVault } = await import('../../remote/push.js');
  return withRemote(opts.vault, opts.json, async (vault, remote, store) => {
    const pulled = await pullVault(vault, remote, store, { specimenIds: ids, skipMissing: true });
    const pushed = await pushVault(vault, remote, store, { specimenIds: ids });
    return [
      { report: pulled, summary: pullSummary(pulled, store.describe) },
      { report: pushed, summary: pushSummary(pushed, store.describe) },
    ];
  });
}
