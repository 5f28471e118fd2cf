import { describe, expect, it } from 'vitest';
import { isVaultError } from '../../../src/errors.js';
import { assertViewName, validateView } from '../../../src/format/view.js';

describe('saved view schema', () => {
  it('fills defaults and keeps items in order', () => {
    const v = validateView({
      version: 1,
      title: 'Q',
      items: [
        { kind: 'chart', metrics: ['loss'] },
        { kind: 'tensor', run: '2025_01_02_x/20250102_101010', tensor: 'w' },
        { kind: 'table', runs: ['2025_01_02_x'] },
        { kind: 'text', markdown: '# Why' },
      ],
    });
    expect(v.runs).toEqual([]);
    expect(v.items[0]).toEqual({ kind: 'chart', metrics: ['loss'], x: 'step', group_by: [], log: false });
    expect(v.items[1]).toMatchObject({ kind: 'tensor', index: [] });
    expect(v.items.map((i) => i.kind)).toEqual(['chart', 'tensor', 'table', 'text']);
  });

  it('names the field, the rule and the value it refuses', () => {
    const fails = (input: unknown) => {
      try {
        validateView(input, 'q');
      } catch (err) {
        expect(isVaultError(err, 'ManifestError')).toBe(true);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(fails({ version: 1, title: 'Q', items: [{ kind: 'chart', metrics: 'loss' }] })).toMatch(
      /^view: field "items\.0/,
    );
    expect(fails({ version: 2, title: 'Q', items: [] })).toContain('"version"');
    expect(fails({ version: 1, title: 'Q', items: [], extra: 1 })).toContain('view "q"');
    expect(fails({ version: 1, title: '', items: [] })).toContain('"title"');
  });

  it('accepts only safe view names', () => {
    for (const ok of ['turns', 'lr-sweep_2', '0abc']) expect(() => assertViewName(ok)).not.toThrow();
    for (const bad of ['', '../x', 'a/b', 'Turns', '-x', 'a b', 'x'.repeat(65), 'a.json'])
      expect(() => assertViewName(bad), bad).toThrow(/view/);
  });
});
