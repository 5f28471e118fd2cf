/** The start and stop of the rows or columns shown, as `start:stop` (null: the whole axis again). */

export function RangeInput({
  label,
  testId,
  range,
  n,
  onChange,
}: {
  label: string;
  /** Prefix of the two inputs' test IDs: `<testId>-start`, `<testId>-stop`. */
  testId: string;
  range: [number, number];
  /** Length of the axis. */
  n: number;
  onChange: (range: string | null) => void;
}) {
  return (
    <label>
      {label}
      <input
        type="number"
        min="0"
        max={String(n - 1)}
        value={String(range[0])}
        data-testid={`${testId}-start`}
        onChange={(e) => onChange(`${Number((e.currentTarget as HTMLInputElement).value) || 0}:${range[1]}`)}
      />
      to
      <input
        type="number"
        min="1"
        max={String(n)}
        value={String(range[1])}
        data-testid={`${testId}-stop`}
        onChange={(e) => onChange(`${range[0]}:${Number((e.currentTarget as HTMLInputElement).value) || n}`)}
      />
      {range[0] !== 0 || range[1] !== n ? (
        <button type="button" class="link" onClick={() => onChange(null)}>
          all
        </button>
      ) : null}
    </label>
  );
}
