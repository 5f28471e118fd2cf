/** Small shared pieces: status badges, tags, loading and error boxes, key/value tables. */
import type { ComponentChildren } from 'preact';
import { isRequestError } from '../api/index.js';
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
  const tag = isRequestError(error) ? error.tag : 'Error';
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
