/**
 * Hash routing: `#/path?query`. Every page keeps its state (filters, selected runs, slice indices) in
 * the query, so any view can be shared as a link. Filter edits replace the history entry; navigation pushes.
 */
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  path: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#/, '');
  const q = h.indexOf('?');
  const p = q >= 0 ? h.slice(0, q) : h;
  const path = p
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  return { path, query: new URLSearchParams(q >= 0 ? h.slice(q + 1) : '') };
}

/** `#/a/b?x=1` from path segments and query parameters. */
export function href(
  path: readonly string[],
  params: Record<string, string | number | boolean | undefined | null | readonly string[]> = {},
): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    if (Array.isArray(v)) for (const x of v) q.append(k, x);
    else q.set(k, v === true ? '1' : String(v));
  }
  const s = q.toString();
  return `#/${path.map(encodeURIComponent).join('/')}${s ? `?${s}` : ''}`;
}

/**
 * The parameters of `query` with `changes` applied (null removes one), for `href`. A parameter named in
 * `lists` keeps all its values and comes first; any other keeps its last value.
 */
export function withQuery(
  query: URLSearchParams,
  changes: Record<string, string | readonly string[] | null>,
  lists: readonly string[] = [],
): Record<string, string | readonly string[]> {
  const next: Record<string, string | readonly string[]> = {};
  for (const k of lists) next[k] = query.getAll(k);
  for (const [k, v] of query) if (!lists.includes(k)) next[k] = v;
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) delete next[k];
    else next[k] = v;
  }
  return next;
}

/** Goes to `target` (a `#/…` link); `replace` rewrites the current history entry instead. */
export function navigate(target: string, replace = false): void {
  if (target === location.hash) return;
  if (replace) {
    history.replaceState(history.state, '', target);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else location.hash = target;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
