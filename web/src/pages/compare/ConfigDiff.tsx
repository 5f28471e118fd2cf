/** The compare page's config table: the keys whose values differ between the runs (or all of them). */
import type { CompareResponse } from '../../api/index.js';
import { Card } from '../../components/common.js';
import { fmtValue } from '../../format.js';
import { RunHeaderCells } from './RunHeaderCells.js';
import { runNames } from './run-label.js';

/** The row of the run's seed (a name no flattened config key has: those never start with a parenthesis). */
const SEED_KEY = '(seed)';

/** `{a: {b: 1}}` → `{'a.b': 1}`. */
function flatten(v: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 0 && prefix) out[prefix] = {};
    for (const [k, x] of entries) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out[prefix] = v;
  return out;
}

export function ConfigDiff({
  data,
  refs,
  showAll,
  onToggle,
}: {
  data: CompareResponse;
  refs: string[];
  showAll: boolean;
  onToggle: () => void;
}) {
  const names = runNames(data.runs);
  // The run's seed is compared with its config: two runs that differ only by seed show it.
  const flat = data.runs.map((r): Record<string, unknown> => ({ [SEED_KEY]: r.seed, ...flatten(r.config) }));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  const differs = (k: string) =>
    new Set(flat.map((f) => (k in f ? JSON.stringify(f[k]) : '\u0000missing'))).size > 1;
  const rows = keys.filter((k) => showAll || differs(k));
  return (
    <Card
      title={`Config and seed (${keys.filter(differs).length} of ${keys.length} keys differ)`}
      actions={
        <label class="small">
          <input type="checkbox" checked={showAll} onChange={onToggle} /> show all keys
        </label>
      }
    >
      {rows.length === 0 ? (
        <p class="muted">
          {keys.length <= 1
            ? 'No config recorded; the seeds are the same.'
            : 'Every config key and the seed are the same in all runs.'}
        </p>
      ) : (
        <div class="scroll-x">
          <table class="grid" data-testid="config-diff">
            <thead>
              <tr>
                <th>Key</th>
                <RunHeaderCells runs={data.runs} refs={refs} names={names} />
              </tr>
            </thead>
            <tbody>
              {rows.map((k) => {
                const d = differs(k);
                return (
                  <tr key={k} class={d ? 'differs' : ''}>
                    <th class="mono">{k}</th>
                    {flat.map((f, i) => (
                      <td key={i} class={`mono ${d ? 'diff' : ''}`}>
                        {k in f ? fmtValue(f[k]) : <span class="muted">absent</span>}
                      </td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
