/** `specimen verify --remote [ID…] [--json]`: re-hashes every committed run on the remote; exit 1 naming each bad object. */
import { connectRemote } from '../../remote/connect.js';
import { verifyRemote } from '../../remote/verify.js';
import type { Vault } from '../../storage/vault.js';
import { painter } from '../output.js';

export default async function verifyRemoteCommand(
  vault: Vault,
  ids: string[],
  opts: { json?: boolean },
): Promise<number> {
  const { remote, store } = await connectRemote(vault);
  try {
    const report = await verifyRemote(remote, store, ids);
    if (opts.json) {
      console.log(JSON.stringify(report, null, 2));
      return report.ok ? 0 : 1;
    }
    const paint = painter();
    let verified = 0;
    let uncommitted = 0;
    for (const r of report.runs) {
      if (r.result === 'verified') verified++;
      else if (r.result === 'uncommitted') uncommitted++;
      else {
        console.log(`${paint('red', 'CORRUPT')} ${r.specimenId}/${r.runId}`);
        for (const o of r.objects) console.log(`  wrong or missing  ${o}`);
      }
    }
    const corrupt = report.runs.length - verified - uncommitted;
    console.log(
      `${paint(report.ok ? 'green' : 'red', report.ok ? 'ok' : 'FAILED')}: ${verified} remote run(s) verified, ${corrupt} corrupt, ` +
        `${uncommitted} uncommitted (an interrupted push; invisible to readers, completed by the next push) on ${store.describe}`,
    );
    return report.ok ? 0 : 1;
  } finally {
    store.close();
  }
}
