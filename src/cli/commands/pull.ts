/**
 * `specimen pull [ID…|--all] [--json]`: brings down the committed runs and specimen files the local vault
 * lacks, verifying every file against its run manifest. Exit 0 when all arrived, 1 when a run was refused
 * because an object's bytes are wrong (named on stderr), 4 on a conflict.
 */
import type { PullReport } from '../../remote/pull.js';
import { Vault } from '../../storage/vault.js';
import { UsageError } from '../exit.js';
import { formatBytes } from '../output.js';
import { reportProblems } from './push.js';

/** One line saying what a pull did. */
export function pullSummary(report: PullReport, where: string): string {
  const bytes = report.pulled.reduce((n, r) => n + r.bytes, 0);
  const files = report.specimenFiles.map((f) => `${f.specimenId}/${f.file} ${f.outcome}`);
  return (
    `pulled ${report.pulled.length} run(s) (${formatBytes(bytes)}) from ${where}; ${report.present} already here` +
    (report.corrupt.length > 0 ? `; ${report.corrupt.length} refused` : '') +
    (files.length > 0 ? `; specimen files: ${files.join(', ')}` : '')
  );
}

export default async function pull(
  ids: string[],
  opts: { all?: boolean; json?: boolean; vault?: string },
): Promise<number> {
  if (ids.length === 0 && !opts.all) throw new UsageError('pull: name the specimens to pull, or pass --all');
  if (ids.length > 0 && opts.all) throw new UsageError('pull: pass specimen IDs or --all, not both');
  const vault = await Vault.open(opts.vault);
  const { connectRemote } = await import('../../remote/connect.js');
  const { pullVault } = await import('../../remote/pull.js');
  const { remote, store } = await connectRemote(vault);
  try {
    const report = await pullVault(vault, remote, store, { specimenIds: ids });
    if (opts.json)
      console.log(
        JSON.stringify(
          { ...report, conflicts: report.conflicts.map((c) => ({ message: c.message, items: c.items })) },
          null,
          2,
        ),
      );
    else console.log(pullSummary(report, store.describe));
    return reportProblems(report);
  } finally {
    store.close();
  }
}
