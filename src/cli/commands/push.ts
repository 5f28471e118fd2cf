/**
 * `specimen push [ID…] [--json]`: uploads the sealed runs and specimen files the remote lacks. Exit 0 when
 * everything is on the remote, 4 when a conflict kept something local (named on stderr).
 */
import { pushSummary, withRemote } from '../remote-report.js';

export default async function push(ids: string[], opts: { json?: boolean; vault?: string }): Promise<number> {
  const { pushVault } = await import('../../remote/push.js');
  return withRemote(opts.vault, opts.json, async (vault, remote, store) => {
    const report = await pushVault(vault, remote, store, { specimenIds: ids });
    return [{ report, summary: pushSummary(report, store.describe) }];
  });
}
