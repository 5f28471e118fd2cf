/** `specimen init [DIR]`: creates a vault, or reports that one is already there. */
import path from 'node:path';
import { initVault } from '../../format/vault-config.js';

export default async function init(dir: string, _opts: { vault?: string }): Promise<number> {
  const { root, created } = await initVault(path.resolve(dir));
  console.log(created ? `created vault at ${root}` : `vault already exists at ${root} (left unchanged)`);
  return 0;
}
