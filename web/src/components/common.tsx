/** Small shared pieces: status badges, tags, loading and error boxes, key/value tables, async data hook. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { RequestError } from '../api/index.js';
import { fmtValue } from '../format.js';

export function StatusBadge({ status }: { status: string | null | undefined }) {
  const s = status ?? 'unknown';
  return <span class={`badge status-${s}`}>{s}</span>;
}

export function Tag({ name, href }: { name: string; href?: string }) {
  return href ? (
    <a class="tag" href={href}>
      {name}
    </a>
  ) : (
    <span class="tag">{name}</span>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error as Error;
  const tag = error instanceof RequestError ? error.tag : 'Error';
  return (
    <div class="error-box" data-testid="error">
      <b>{tag}</b>: <span class="pre">{e.message ?? String(error)}</span>
    </div>
  );
}

export function Loading({ what }: { what?: string }) {
  return <div class="loading">Loading{what ? ` ${what}` : ''}…</div>;
}

export function Card({
  title,
  children,
  actions,
}: {
  title: ComponentChildren;
  children: ComponentChildren;
  actions?: ComponentChildren;
}) {
  return (
    <section class="card">
      <header class="card-head">
        <h2>{title}</h2>
        {actions ? <div class="card-actions">{actions}</div> : null}
      </header>
      <div class="card-body">{children}</div>
    </section>
  );
}

/** A nested value for display: arrays of plain values joined, short JSON on one line, long JSON indented. */
function compactJson(v: object): string {
  if (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object'))
    return v.length === 0 ? '[]' : v.map((x) => fmtValue(x)).join(', ');
  const one = JSON.stringify(v);
  return one.length <= 80 ? one : JSON.stringify(v, null, 1);
}

/** A two-column table of a JSON object (nested values as JSON). */
export function KeyValues({ value }: { value: unknown }) {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return <span class="muted">{fmtValue(value)}</span>;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return <span class="muted">none</span>;
  return (
    <table class="kv">
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th>{k}</th>
            <td class="pre">{typeof v === 'object' && v !== null ? compactJson(v) : fmtValue(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * Loads data with `load` whenever `key` changes, aborting the previous request. `refreshMs` reloads
 * periodically while `live` returns true for the latest data (a run still in progress).
 */
export function useData<T>(
  key: string,
  load: (signal: AbortSignal) => Promise<T>,
  options: { live?: (data: T) => boolean; refreshMs?: number } = {},
): { data: T | undefined; error: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ key: string; data: T | undefined; error: unknown; loading: boolean }>({
    key,
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  // A layout effect: the request starts right after render instead of waiting for the next frame.
  useLayoutEffect(() => {
    const ac = new AbortController();
    setState((s) =>
      s.key === key ? { ...s, loading: true } : { key, data: undefined, error: undefined, loading: true },
    );
    loadRef.current(ac.signal).then(
      (data) => {
        if (!ac.signal.aborted) setState({ key, data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (!ac.signal.aborted)
          setState((s) => ({ key, data: s.key === key ? s.data : undefined, error, loading: false }));
      },
    );
    return () => ac.abort();
  }, [key, tick]);
  const live = state.data !== undefined && options.live ? options.live(state.data) : false;
  useEffect(() => {
    if (!live || state.loading) return;
    const t = setTimeout(() => setTick((n) => n + 1), options.refreshMs ?? 2000);
    return () => clearTimeout(t);
  }, [live, state.loading, state.data]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return {
    data: state.key === key ? state.data : undefined,
    error: state.key === key ? state.error : undefined,
    loading: state.loading,
    reload,
  };
}
