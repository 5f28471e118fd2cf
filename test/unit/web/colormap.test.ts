// The colour scale shared by the slice heatmap and the small multiples: centred on 0 for diverging data
// (0 at the diverging map's middle, white), and colour codes (made on the data's range) put on that scale.
import { describe, expect, it } from 'vitest';
import {
  codeColours,
  colourIndex,
  colourScale,
  defaultColormap,
  lut,
} from '../../../web/src/components/colormap.js';

/** The RGB of entry `c` of a code table. */
const rgb = (table: Uint32Array, c: number) => Array.from(new Uint8Array(table.buffer, c * 4, 3));

describe('colour scale', () => {
  it('centres a diverging map on 0 when the values cross it, and only then', () => {
    expect(colourScale(-2, 3, 'rdbu', false)).toEqual([-3, 3]);
    expect(colourScale(1, 3, 'rdbu', false)).toEqual([1, 3]);
    expect(colourScale(-2, 3, 'viridis', false)).toEqual([-2, 3]);
    expect(colourScale(-2, 3, 'viridis', true)).toEqual([-3, 3]);
    expect(defaultColormap(-2, 3)).toBe('rdbu');
    expect(defaultColormap(0, 3)).toBe('viridis');
  });

  it('puts 0 at the middle colour of the symmetric scale', () => {
    const [lo, hi] = colourScale(-2, 3, 'rdbu', false);
    expect(colourIndex(0, lo, hi)).toBe(128);
    expect(colourIndex(3, lo, hi)).toBe(255);
    expect(colourIndex(-3, lo, hi)).toBe(0);
    expect(colourIndex(-9, lo, hi)).toBe(0);
    expect(colourIndex(1, 1, 1)).toBe(0);
  });

  it('maps colour codes made on [min, max] onto the scale: the code of 0 is white in blue–white–red', () => {
    const min = -2;
    const max = 3;
    const table = codeColours('rdbu', [min, max], colourScale(min, max, 'rdbu', false));
    // Code of value v on [min, max]: 1 + 254 (v − min)/(max − min), as the multiples route makes it.
    const code = (v: number) => Math.round(1 + (254 * (v - min)) / (max - min));
    const white = Array.from(lut('rdbu').subarray(128 * 3, 129 * 3));
    expect(rgb(table, code(0))).toEqual(white);
    expect(rgb(table, code(3))).toEqual(Array.from(lut('rdbu').subarray(255 * 3)));
    // −2 is two thirds of the way down from the middle, not the bottom colour.
    expect(rgb(table, code(-2))).toEqual(Array.from(lut('rdbu').subarray(43 * 3, 44 * 3)));
    expect(new Uint8Array(table.buffer)[3]).toBe(0); // code 0 (not finite) transparent
    // Not diverging: codes spread over the whole map, end to end.
    const plain = codeColours('viridis', [1, 3], colourScale(1, 3, 'viridis', false));
    expect(rgb(plain, 1)).toEqual(Array.from(lut('viridis').subarray(0, 3)));
    expect(rgb(plain, 255)).toEqual(Array.from(lut('viridis').subarray(255 * 3)));
  });
});
