/** `specimen verify [ID…] [--json]`: recomputes the hashes of sealed runs; exit 1 listing every difference. */

import { Vault } from '../../storage/vault.js';
import { verifyVault } from '../../storage/verify.js';
import { painter } from '../output.js';

export default async function verify(
  ids: string[],
  opts: { json?: boolean; remote?: boolean; vault?: string },
): Promise<number> {
  const vault = await Vault.open(opts.vault);
  if (opts.remote) return (await import('./verify-remote.js')).default(vault, ids, opts);
  const report = await verifyVault(vault, ids);
  if (opts.json) {
    console.log(JSON.stringify(report, null, 2));
    return report.ok ? 0 : 1;
  }
  const paint = painter();
  let verified = 0;
  let unsealed = 0;
  let remote = 0;
  let damaged = 0;
  for (const r of report.runs) {
    if (r.result === 'verified') verified++;
    else if (r.result === 'unsealed') unsealed++;
    else if (r.result === 'remote') remote++;
    else if (r.result === 'damaged') {
      damaged++;
      console.log(`${paint('red', 'DAMAGED')} ${r.specimenId}/${r.runId}: ${r.damage?.reason ?? ''}`);
      console.log(`  what to do: ${(r.damage?.what_to_do ?? '').replace('<run_id>', r.runId)}`);
    } else {
      console.log(`${paint('red', 'MODIFIED')} ${r.specimenId}/${r.runId}`);
      for (const f of r.changed) console.log(`  changed  ${f}`);
      for (const f of r.missing) console.log(`  missing  ${f}`);
      for (const f of r.extra) console.log(`  extra    ${f}`);
    }
  }
  const modified = report.runs.length - verified - unsealed - remote - damaged;
  console.log(
    `${paint(report.ok ? 'green' : 'red', report.ok ? 'ok' : 'FAILED')}: ${verified} sealed run(s) verified, ${modified} modified, ${unsealed} unsealed (nothing recorded to check)` +
      (damaged > 0 ? `, ${damaged} damaged by an OS crash (listed in the specimen's damaged.json)` : '') +
      (remote > 0 ? `, ${remote} remote-only (check with --remote)` : ''),
  );
  return report.ok ? 0 : 1;
}
