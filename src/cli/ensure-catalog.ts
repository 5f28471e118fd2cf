/**
 * For commands that query the catalog in another process (`specimen query`): the vault's root, with its
 * catalog built first when it has none. The indexer, and with it the catalog's modules, load only then, so
 * the command starts without them.
 *
 * @example
 * const root = await ensureCatalog(opts.vault)
 */
import fs from 'node:fs';
import path from 'node:path';
import { CATALOG_FILE } from '../format/layout.js';
import { findVaultRoot } from '../format/vault-config.js';

export async function ensureCatalog(vault: string | undefined): Promise<string> {
  const root = findVaultRoot(vault === undefined ? {} : { explicit: vault });
  if (!fs.existsSync(path.join(root, CATALOG_FILE))) {
    const { indexVault } = await import('../catalog/index.js');
    await indexVault(root, { onWarning: (m) => process.stderr.write(`warning: ${m}\n`) });
  }
  return root;
}
