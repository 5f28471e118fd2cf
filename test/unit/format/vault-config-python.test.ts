// The `python` section of specimen-vault.json: the Zarr format of tensors in runs written from Python.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isVaultError } from '../../../src/errors.js';
import { readVaultConfig } from '../../../src/format/vault-config.js';
import { tempDir } from '../../support/helpers.js';

function withConfig(config: unknown): string {
  const dir = tempDir('sv-config-');
  fs.writeFileSync(path.join(dir, 'specimen-vault.json'), JSON.stringify(config));
  return dir;
}

describe('python.zarr_format', () => {
  it('defaults to 2, which every zarr-python reads', async () => {
    expect((await readVaultConfig(tempDir('sv-config-'))).pythonZarrFormat).toBe(2);
    expect((await readVaultConfig(withConfig({ format_version: 1 }))).pythonZarrFormat).toBe(2);
  });

  it('takes 3 when the vault asks', async () => {
    expect((await readVaultConfig(withConfig({ python: { zarr_format: 3 } }))).pythonZarrFormat).toBe(3);
  });

  it('names the field and the value when it is neither 2 nor 3', async () => {
    const err = await readVaultConfig(withConfig({ python: { zarr_format: '3' } })).catch((e: unknown) => e);
    expect(isVaultError(err, 'ConfigError')).toBe(true);
    expect((err as Error).message).toContain('field "python.zarr_format" must be 2 or 3, got "3"');
    const notObject = await readVaultConfig(withConfig({ python: 2 })).catch((e: unknown) => e);
    expect((notObject as Error).message).toContain('field "python" must be an object');
  });
});
