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

/**
 * After a command changed a specimen's manifest: brings an existing catalog up to date (incrementally), so
 * `ls` and `query` show the change at once. A vault without a catalog is left alone (it is built on first
 * use), and a catalog that cannot be updated now (another index holds it) only earns a hint.
 */
export async function refreshCatalog(root: string): Promise<void> {
  if (!fs.existsSync(catalogPath(root))) return;
  try {
    await indexVault(root, { onWarning: () => {} });
  } catch (err) {
    process.stderr.write(
      `warning: the catalog was not updated (${(err as Error).message}); run \`specimen index\`\n`,
    );
  }
}
