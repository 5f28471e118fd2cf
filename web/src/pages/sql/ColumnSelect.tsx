/** A picker of one result column, for an axis of the SQL console's chart. */

export function ColumnSelect({
  label,
  columns,
  value,
  testId,
  onChange,
  none = false,
}: {
  label: string;
  columns: readonly { name: string }[];
  value: string;
  testId: string;
  onChange: (name: string) => void;
  /** Offer "none" (the empty value) first: no column. */
  none?: boolean;
}) {
  return (
    <label>
      {label}
      <select
        value={value}
        data-testid={testId}
        onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        {none ? <option value="">none</option> : null}
        {columns.map((c) => (
          <option key={c.name} value={c.name}>
            {c.name}
          </option>
        ))}
      </select>
    </label>
  );
}
