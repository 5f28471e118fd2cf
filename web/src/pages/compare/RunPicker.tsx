/**
 * The compare page's run list and picker: the selected runs as chips (each removable), and a search over
 * every run of the catalog (debounced) to add more.
 */
import { useEffect, useState } from 'preact/hooks';
import { listRuns, parseRunRef, runRef } from '../../api/index.js';
import { Card, ErrorBox, StatusBadge } from '../../components/common.js';
import { colorAt, fmtDate } from '../../format.js';
import { useData } from '../../hooks.js';
import { href } from '../../router.js';

export function RunPicker({
  selected,
  onAdd,
  onRemove,
}: {
  selected: string[];
  onAdd: (ref: string) => void;
  onRemove: (ref: string) => void;
}) {
  const [text, setText] = useState('');
  const [debounced, setDebounced] = useState('');
  useEffect(() => {
    const t = setTimeout(() => setDebounced(text), 200);
    return () => clearTimeout(t);
  }, [text]);
  const [open, setOpen] = useState(selected.length === 0);
  const { data, error } = useData(`runs:${debounced}:${open}`, (signal) =>
    open ? listRuns({ q: debounced, limit: 50 }, signal) : Promise.resolve(undefined),
  );
  return (
    <Card
      title={`Runs (${selected.length})`}
      actions={
        <button type="button" onClick={() => setOpen(!open)} data-testid="toggle-picker">
          {open ? 'Hide picker' : 'Add runs…'}
        </button>
      }
    >
      <div class="chips">
        {selected.map((r, i) => {
          const { specimenId, runId } = parseRunRef(r);
          return (
            <span key={r} class="chip" data-testid="selected-run">
              <span class="swatch" style={{ background: colorAt(i) }} />
              <a class="mono" href={href(['specimen', specimenId, 'run', runId])}>
                {r}
              </a>
              <button type="button" class="chip-x" aria-label={`remove ${r}`} onClick={() => onRemove(r)}>
                ×
              </button>
            </span>
          );
        })}
      </div>
      {open ? (
        <div class="picker">
          <input
            type="search"
            placeholder="search runs by specimen, run id, model, tag…"
            value={text}
            data-testid="run-search"
            onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
          />
          <ErrorBox error={error} />
          <div class="picker-list">
            <table class="grid compact">
              <tbody>
                {(data?.runs ?? []).map((r) => {
                  const ref = runRef(r);
                  const has = selected.includes(ref);
                  return (
                    <tr key={ref}>
                      <td>
                        <button type="button" disabled={has} onClick={() => onAdd(ref)} data-testid="add-run">
                          {has ? 'added' : 'add'}
                        </button>
                      </td>
                      <td class="mono">{r.specimen_id}</td>
                      <td class="mono">{r.run_id}</td>
                      <td>
                        <StatusBadge status={r.status} />
                      </td>
                      <td class="muted small">{fmtDate(r.started)}</td>
                      <td class="muted small">{[r.domain, r.method, r.model].filter(Boolean).join(' · ')}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            {data ? (
              <div class="muted small">
                {data.truncated ? `first ${data.runs.length} of ${data.total} runs` : `${data.total} runs`}
              </div>
            ) : null}
          </div>
        </div>
      ) : null}
    </Card>
  );
}
