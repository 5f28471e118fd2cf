/** Colour scales for heatmaps: 256-entry RGB lookup tables interpolated from control points. */

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
