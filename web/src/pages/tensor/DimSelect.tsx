/** A dimension picker of the tensor viewer (which dimension runs down the rows, or across the columns). */

export function DimSelect({
  label,
  shape,
  value,
  except,
  testId,
  onChange,
}: {
  label: string;
  shape: readonly number[];
  value: number;
  /** A dimension not offered (the one the other picker holds). */
  except?: number;
  testId: string;
  /** The picked dimension, as the URL spells it. */
  onChange: (dim: string) => void;
}) {
  return (
    <label>
      {label}
      <select
        value={String(value)}
        data-testid={testId}
        onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        {shape.map((n, d) =>
          d === except ? null : (
            <option key={d} value={String(d)}>
              dim {d} ({n})
            </option>
          ),
        )}
      </select>
    </label>
  );
}
