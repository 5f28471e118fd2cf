/**
 * What `specimen push`, `pull` and `sync` share: opening the vault's remote around the work, and printing
 * a report (a summary line, or JSON) with its conflicts and refused runs on stderr.
 *
 * @example
 * return withRemote(opts.vault, (vault, remote, store) => pushVault(vault, remote, store), (r, where) => pushSummary(r, where), opts.json)
 */

import type { RemoteConflictError } from '../errors.js';
import type { RemoteConfig } from '../remote/config.js';
import type { ObjectStore } from '../remote/object-store.js';
import type { PullReport } from '../remote/pull.js';
import type { PushReport } from '../remote/push.js';
import { Vault } from '../storage/vault.js';
import { formatBytes, painter } from './output.js';

type RunProblem = { specimenId: string; runId: string; objects: readonly string[] };

interface ReportLike {
  conflicts: readonly RemoteConflictError[];
  /** Pull: remote runs whose objects do not match their manifest. */
  corrupt?: readonly RunProblem[];
  /** Push: local runs whose files changed since sealing. */
  refused?: readonly RunProblem[];
}

/** Prints conflicts and refused runs on stderr; returns the exit code they call for (1 refused, 4 conflict). */
export function reportProblems(report: ReportLike): number {
  const paint = painter(process.stderr);
  const error = paint('red', 'error:');
  for (const c of report.conflicts) process.stderr.write(`${paint('red', 'conflict:')} ${c.message}\n`);
  for (const c of report.corrupt ?? [])
    process.stderr.write(
      `${error} remote: refused run ${c.specimenId}/${c.runId}: bytes do not match its run manifest: ${c.objects.join(', ')}\n`,
    );
  for (const c of report.refused ?? [])
    process.stderr.write(
      `${error} remote: run ${c.specimenId}/${c.runId} was not pushed: the store refused bytes that do not match the sha256 sealed for them ` +
        `(the local files changed since; run \`specimen verify\`): ${c.objects.join(', ')}\n`,
    );
  if ((report.corrupt ?? []).length + (report.refused ?? []).length > 0) return 1;
  return report.conflicts.length > 0 ? 4 : 0;
}

/** One line saying what a push did. */
export function pushSummary(report: PushReport, where: string): string {
  const files = report.specimenFiles.map((f) => `${f.specimenId}/${f.file} ${f.outcome}`);
  return (
    `pushed ${report.pushed.length} run(s) (${report.objects} objects, ${formatBytes(report.bytes)}) to ${where}; ` +
    `${report.present} already there` +
    (report.skipped.length > 0 ? `; ${report.skipped.length} left local (unsealed or legacy)` : '') +
    (report.refused.length > 0 ? `; ${report.refused.length} refused` : '') +
    (files.length > 0 ? `; specimen files: ${files.join(', ')}` : '')
  );
}

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

/**
 * Opens the vault and its remote (loading the remote code and the AWS SDK only now), runs `work`, prints
 * each report it returns (summary or JSON) and returns the worst exit code; the store is always closed.
 */
export async function withRemote(
  vaultDir: string | undefined,
  json: boolean | undefined,
  work: (
    vault: Vault,
    remote: RemoteConfig,
    store: ObjectStore,
  ) => Promise<{ report: ReportLike; summary: string }[]>,
): Promise<number> {
  const vault = await Vault.open(vaultDir);
  const { connectRemote } = await import('../remote/connect.js');
  const { remote, store } = await connectRemote(vault);
  try {
    const results = await work(vault, remote, store);
    let code = 0;
    for (const { report, summary } of results) {
      if (json)
        console.log(
          JSON.stringify(
            { ...report, conflicts: report.conflicts.map((c) => ({ message: c.message, items: c.items })) },
            null,
            2,
          ),
        );
      else console.log(summary);
      code = Math.max(code, reportProblems(report));
    }
    return code;
  } finally {
    store.close();
  }
}
