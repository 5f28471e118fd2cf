import fc from 'fast-check';
import { expect, it } from 'vitest';
import { sparkline } from '../../../src/cli/sparkline.js';

it('draws a falling curve from high to low bars', () => {
  expect(sparkline([3, 2, 1, 0.5, 0.4])).toBe('█▅▂▁▁');
  expect(sparkline([1, 1, 1])).toBe('▄▄▄');
  expect(sparkline([Number.NaN, Number.POSITIVE_INFINITY])).toBe('');
});

it('skips missing values instead of drawing them as zero (a metric logged every N steps)', () => {
  const every10 = Array.from({ length: 100 }, (_, i) => (i % 10 === 0 ? 5 + i / 10 : null));
  const present = every10.filter((v): v is number => v !== null);
  expect(sparkline(every10, 10)).toBe(sparkline(present, 10));
  expect(sparkline(every10, 10)).toBe('▁▁▂▃▄▅▆▇██');
  expect(sparkline([null, undefined, null])).toBe('');
  expect(sparkline([2n, null, 1n])).toBe('█▁');
});

it('never exceeds its width and uses the lowest and highest bar for the extremes (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { minLength: 2, maxLength: 500 }),
      fc.integer({ min: 2, max: 60 }),
      (xs, w) => {
        const s = sparkline(xs, w);
        expect([...s].length).toBe(Math.min(w, xs.length));
        if (Math.min(...xs) !== Math.max(...xs) && xs.length <= w) {
          expect(s).toContain('▁');
          expect(s).toContain('█');
        }
      },
    ),
  );
});
