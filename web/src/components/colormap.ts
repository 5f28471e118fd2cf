/**
 * Colour scales for heatmaps: 256-entry RGB lookup tables interpolated from control points, and where a
 * scale starts and ends (symmetric around 0 for diverging data), shared by the slice heatmap and the
 * small multiples.
 */

export type ColormapName = 'viridis' | 'magma' | 'rdbu' | 'gray';

const STOPS: Record<ColormapName, [number, number, number][]> = {
  viridis: [
    [68, 1, 84],
    [72, 40, 120],
    [62, 74, 137],
    [49, 104, 142],
    [38, 130, 142],
    [31, 158, 137],
    [53, 183, 121],
    [109, 205, 89],
    [180, 222, 44],
    [253, 231, 37],
  ],
  magma: [
    [0, 0, 4],
    [28, 16, 68],
    [79, 18, 123],
    [129, 37, 129],
    [181, 54, 122],
    [229, 80, 100],
    [251, 135, 97],
    [254, 194, 135],
    [252, 253, 191],
  ],
  // Diverging, blue (low) through white to red (high).
  rdbu: [
    [5, 48, 97],
    [33, 102, 172],
    [67, 147, 195],
    [146, 197, 222],
    [209, 229, 240],
    [247, 247, 247],
    [253, 219, 199],
    [244, 165, 130],
    [214, 96, 77],
    [178, 24, 43],
    [103, 0, 31],
  ],
  gray: [
    [0, 0, 0],
    [255, 255, 255],
  ],
};

const cache = new Map<ColormapName, Uint8Array>();

/** 256 × RGB lookup table of a colour scale. */
export function lut(name: ColormapName): Uint8Array {
  let t = cache.get(name);
  if (t) return t;
  const stops = STOPS[name];
  t = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const pos = (i / 255) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(pos));
    const f = pos - k;
    const a = stops[k]!;
    const b = stops[k + 1]!;
    for (let c = 0; c < 3; c++) t[i * 3 + c] = Math.round(a[c]! + (b[c]! - a[c]!) * f);
  }
  cache.set(name, t);
  return t;
}

/** CSS linear-gradient of a colour scale, for legends. */
export function cssGradient(name: ColormapName): string {
  const t = lut(name);
  const parts: string[] = [];
  for (let i = 0; i <= 16; i++) {
    const k = Math.min(255, Math.round((i / 16) * 255));
    parts.push(`rgb(${t[k * 3]},${t[k * 3 + 1]},${t[k * 3 + 2]}) ${(i / 16) * 100}%`);
  }
  return `linear-gradient(to right, ${parts.join(', ')})`;
}

/** Colour maps with a neutral middle colour, meant for values either side of 0. */
const DIVERGING = new Set<ColormapName>(['rdbu']);

/** Whether values on [min, max] lie both sides of 0. */
export function crossesZero(min: number, max: number): boolean {
  return min < 0 && max > 0;
}

/**
 * The map to colour values on [min, max] with when none is chosen: the diverging one (0 white, negative
 * blue, positive red) when they cross 0, else viridis.
 */
export function defaultColormap(min: number, max: number): ColormapName {
  return crossesZero(min, max) ? 'rdbu' : 'viridis';
}

/**
 * The values at the two ends of the colour scale for data on [min, max]: symmetric around 0 (0 at the
 * middle colour) when asked, or when a diverging map colours data that crosses 0 (its middle colour means
 * 0, so it must sit at 0); else [min, max].
 */
export function colourScale(
  min: number,
  max: number,
  colormap: ColormapName,
  symmetric: boolean,
): [number, number] {
  if (!symmetric && !(DIVERGING.has(colormap) && crossesZero(min, max))) return [min, max];
  const m = Math.max(Math.abs(min), Math.abs(max));
  return [-m, m];
}

/** The colour table entry (0–255) of `v` on the scale [lo, hi], clamped at both ends (0 when lo = hi). */
export function colourIndex(v: number, lo: number, hi: number): number {
  const t = hi > lo ? ((v - lo) * 255) / (hi - lo) : 0;
  return t <= 0 ? 0 : t >= 255 ? 255 : Math.round(t);
}

/**
 * The colour of each colour code as an RGBA word in the platform's byte order (ImageData's memory read
 * as words), for codes made on [min, max] (1–255 from min to max, as the multiples route sends them) and
 * drawn on the scale [lo, hi]: code 0 (not finite) transparent.
 */
export function codeColours(
  colormap: ColormapName,
  [min, max]: readonly [number, number],
  [lo, hi]: readonly [number, number],
): Uint32Array {
  const table = lut(colormap);
  const rgba = new Uint32Array(256);
  const bytes = new Uint8Array(rgba.buffer);
  for (let c = 1; c < 256; c++) {
    const t = colourIndex(min + ((c - 1) * (max - min)) / 254, lo, hi);
    bytes[c * 4] = table[t * 3]!;
    bytes[c * 4 + 1] = table[t * 3 + 1]!;
    bytes[c * 4 + 2] = table[t * 3 + 2]!;
    bytes[c * 4 + 3] = 255;
  }
  return rgba;
}
