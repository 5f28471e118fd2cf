/**
 * Opening the catalog for a CLI command: the vault is located as usual, and a vault that has never been
 * indexed is indexed first (quietly, warnings on stderr), so `specimen query` and `specimen ls` work on a
 * fresh vault.
 */
import fs from 'node:fs';
import { catalogPath, indexVault, VaultQuery } from '../catalog/index.js';
import { findVaultRoot } from '../format/vault-config.js';

export async function openVaultQuery(
  vault: string | undefined,
  options: { sandbox?: boolean } = {},
): Promise<{ root: string; query: VaultQuery }> {
  const root = findVaultRoot(vault === undefined ? {} : { explicit: vault });
  if (!fs.existsSync(catalogPath(root))) {
    await indexVault(root, { onWarning: (m) => process.stderr.write(`warning: ${m}\n`) });
  }
  return { root, query: await VaultQuery.open(root, { sandbox: options.sandbox ?? false }) };
}
