/**
 * `specimen sync [ID…]`: pull, then push — afterwards both sides hold every run, and concurrent edits of
 * field notes are merged on both. Exit codes as for pull and push (the worse of the two).
 */
import { Vault } from '../../storage/vault.js';
import { pullSummary } from './pull.js';
import { pushSummary, reportProblems } from './push.js';

export default async function sync(ids: string[], opts: { vault?: string }): Promise<number> {
  const vault = await Vault.open(opts.vault);
  const { connectRemote } = await import('../../remote/connect.js');
  const { pullVault } = await import('../../remote/pull.js');
  const { pushVault } = await import('../../remote/push.js');
  const { remote, store } = await connectRemote(vault);
  try {
    const pulled = await pullVault(vault, remote, store, { specimenIds: ids });
    console.log(pullSummary(pulled, store.describe));
    const pushed = await pushVault(vault, remote, store, { specimenIds: ids });
    console.log(pushSummary(pushed, store.describe));
    return Math.max(reportProblems(pulled), reportProblems(pushed));
  } finally {
    store.close();
  }
}
