/**
 * One filter menu of the catalog: the facet's values with their counts, and the URL's value kept as an
 * option even when no specimen has it (so a shared link still shows what it filters by).
 */

export function FacetSelect({
  name,
  label,
  values,
  value,
  onChange,
}: {
  name: 'tag' | 'domain' | 'method' | 'status';
  label: string;
  /** Distinct values with counts (undefined while the catalog loads). */
  values: readonly [string, number][] | undefined;
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <label class="filter">
      <span>{label}</span>
      <select
        data-testid={`filter-${name}`}
        value={value}
        onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        <option value="">any</option>
        {(values ?? []).map(([v, n]) => (
          <option key={v} value={v}>
            {v} ({n})
          </option>
        ))}
        {value && !(values ?? []).some(([v]) => v === value) ? <option value={value}>{value}</option> : null}
      </select>
    </label>
  );
}
