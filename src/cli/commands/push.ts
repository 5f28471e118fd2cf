/**
 * `specimen push [ID…] [--json]`: uploads the sealed runs and specimen files the remote lacks. Exit 0 when
 * everything is on the remote, 4 when a conflict kept something local (named on stderr).
 */
import type { PushReport } from '../../remote/push.js';
import { Vault } from '../../storage/vault.js';
import { formatBytes, painter } from '../output.js';

/** Prints conflicts and skipped runs on stderr; returns the exit code they call for. */
export function reportProblems(report: {
  conflicts: readonly Error[];
  corrupt?: readonly { specimenId: string; runId: string; objects: readonly string[] }[];
}): number {
  const paint = painter(process.stderr);
  for (const c of report.conflicts) process.stderr.write(`${paint('red', 'conflict:')} ${c.message}\n`);
  for (const c of report.corrupt ?? [])
    process.stderr.write(
      `${paint('red', 'error:')} remote: refused run ${c.specimenId}/${c.runId}: bytes do not match its run manifest: ${c.objects.join(', ')}\n`,
    );
  if ((report.corrupt ?? []).length > 0) return 1;
  return report.conflicts.length > 0 ? 4 : 0;
}

/** One line saying what a push did. */
export function pushSummary(report: PushReport, where: string): string {
  const files = report.specimenFiles.map((f) => `${f.specimenId}/${f.file} ${f.outcome}`);
  return (
    `pushed ${report.pushed.length} run(s) (${report.objects} objects, ${formatBytes(report.bytes)}) to ${where}; ` +
    `${report.present} already there` +
    (report.skipped.length > 0 ? `; ${report.skipped.length} left local (unsealed or legacy)` : '') +
    (files.length > 0 ? `; specimen files: ${files.join(', ')}` : '')
  );
}

export default async function push(ids: string[], opts: { json?: boolean; vault?: string }): Promise<number> {
  const vault = await Vault.open(opts.vault);
  const { connectRemote } = await import('../../remote/connect.js');
  const { pushVault } = await import('../../remote/push.js');
  const { remote, store } = await connectRemote(vault);
  try {
    const report = await pushVault(vault, remote, store, { specimenIds: ids });
    if (opts.json)
      console.log(
        JSON.stringify(
          { ...report, conflicts: report.conflicts.map((c) => ({ message: c.message, items: c.items })) },
          null,
          2,
        ),
      );
    else console.log(pushSummary(report, store.describe));
    return reportProblems(report);
  } finally {
    store.close();
  }
}
