// The `system` section of specimen-vault.json: how often `specimen run` samples system metrics.
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

describe('system.interval_s', () => {
  it('is unset by default (the runner then samples every 5 s), a number of seconds, or null for off', async () => {
    expect((await readVaultConfig(tempDir('sv-config-'))).systemIntervalS).toBeUndefined();
    expect((await readVaultConfig(withConfig({ system: {} }))).systemIntervalS).toBeUndefined();
    expect((await readVaultConfig(withConfig({ system: { interval_s: 0.5 } }))).systemIntervalS).toBe(0.5);
    expect((await readVaultConfig(withConfig({ system: { interval_s: null } }))).systemIntervalS).toBeNull();
  });

  it('names the field and the value when it is not a positive number', async () => {
    for (const bad of [0, -1, '5']) {
      const err = await readVaultConfig(withConfig({ system: { interval_s: bad } })).catch((e: unknown) => e);
      expect(isVaultError(err, 'ConfigError')).toBe(true);
      expect((err as Error).message).toContain(
        `field "system.interval_s" must be a positive number of seconds or null (off), got ${JSON.stringify(bad)}`,
      );
    }
    const notObject = await readVaultConfig(withConfig({ system: 5 })).catch((e: unknown) => e);
    expect((notObject as Error).message).toContain('field "system" must be an object');
  });
});
