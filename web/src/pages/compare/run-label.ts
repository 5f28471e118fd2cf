/** How the compare page names a run in legends and tables: the reference, the specimen ID shortened. */

/** `<specimen>/<run>` with a specimen ID longer than 28 characters cut to 26 and an ellipsis. */
export function shortLabel(ref: string): string {
  const [spec, run] = ref.split('/');
  const s = spec ?? '';
  return `${s.length > 28 ? `${s.slice(0, 26)}…` : s}/${run ?? ''}`;
}
