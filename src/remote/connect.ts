/**
 * Opening a vault's remote: reads `remote` from specimen-vault.json, opens the object store (loading the
 * AWS SDK only now) and checks the bucket and credentials once, so a misconfiguration is one clear error
 * before any work starts.
 *
 * @example
 * const { remote, store } = await connectRemote(vault)
 * try { await pushVault(vault, remote, store) } finally { store.close() }
 */
import type { Vault } from '../storage/vault.js';
import { type RemoteConfig, readRemoteConfig } from './config.js';
import type { ObjectStore } from './object-store.js';

/** The configured remote and an open, checked store. */
export async function connectRemote(
  vault: Vault,
  remoteConfig?: RemoteConfig,
): Promise<{ remote: RemoteConfig; store: ObjectStore }> {
  const remote = remoteConfig ?? (await readRemoteConfig(vault.root));
  const { openS3Store } = await import('./s3-store.js');
  const store = await openS3Store(remote);
  try {
    await store.check();
  } catch (err) {
    store.close();
    throw err;
  }
  return { remote, store };
}
