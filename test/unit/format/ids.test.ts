import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isVaultError } from '../../../src/errors.js';
import {
  assertNewSpecimenId,
  assertSafeName,
  closest,
  compareRunIds,
  runIdBase,
} from '../../../src/format/ids.js';
import { within } from '../../../src/format/paths.js';

describe('specimen IDs', () => {
  it('accepts the documented form', () => {
    expect(() => assertNewSpecimenId('2025_12_22_vn_comprehensive_experiments')).not.toThrow();
  });

  it.each([
    ['example_2024_12_19_synthetic_demo', 'YYYY_MM_DD'],
    ['2025_13_01_x', 'calendar date'],
    ['2025_01_02_', 'YYYY_MM_DD'],
    ['2025_01_02_a-b', 'YYYY_MM_DD'],
    ['../2025_01_02_x', 'path separators'],
    ['2025_01_02_x\0', 'NUL'],
    ['', 'empty'],
    ['/etc/passwd', 'path separators'],
  ])('rejects %j naming the rule', (id, why) => {
    try {
      assertNewSpecimenId(id);
      expect.unreachable();
    } catch (err) {
      expect(isVaultError(err, 'InvalidIdError')).toBe(true);
      expect((err as Error).message).toContain(why);
    }
  });

  it('never accepts a name that leaves its directory (property)', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        let ok = true;
        try {
          assertSafeName('tensor', s);
        } catch {
          ok = false;
        }
        if (ok) {
          expect(s).not.toMatch(/[/\\\0]/);
          expect(s.includes('..')).toBe(false);
          expect(() => within('/vault/x', s)).not.toThrow();
        }
      }),
    );
  });
});

describe('run IDs', () => {
  it('formats UTC seconds', () => {
    expect(runIdBase(new Date('2025-12-22T20:17:18.999Z'))).toBe('20251222_201718');
  });
  it('sorts suffixes numerically after the bare id', () => {
    const ids = ['20251222_201718_010', '20251222_201718_002', '20251222_201718', '20251222_201717'];
    expect([...ids].sort(compareRunIds)).toEqual([
      '20251222_201717',
      '20251222_201718',
      '20251222_201718_002',
      '20251222_201718_010',
    ]);
    expect([...ids].sort()).toEqual([...ids].sort(compareRunIds));
  });
  it('puts the bare id before every suffix, _001 included, and orders every pair', () => {
    const ids = ['20251222_201718_001', '20251222_201718', 'strata', '20251222_201718_01', 'legacy'];
    expect([...ids].sort(compareRunIds)).toEqual([
      'legacy',
      'strata',
      '20251222_201718',
      '20251222_201718_001',
      '20251222_201718_01',
    ]);
    for (const a of ids) for (const b of ids) if (a !== b) expect(compareRunIds(a, b)).not.toBe(0);
  });
});

describe('paths', () => {
  it('refuses escapes', () => {
    expect(() => within('/vault', '..', 'etc')).toThrow(/outside/);
    expect(() => within('/vault', '/etc/passwd')).toThrow(/outside/);
    expect(within('/vault', 'specimens', 'a')).toBe('/vault/specimens/a');
  });
  it('suggests close names', () => {
    expect(closest('2025_01_02_grokk', ['2025_01_02_grokking', '2024_01_01_other'])).toEqual([
      '2025_01_02_grokking',
    ]);
  });
});
