/**
 * The catalog, fetched once and shared: main.tsx starts the request before anything renders when the
 * catalog is the first page, and the page takes the same promise.
 *
 * @example
 * const catalog = await loadCatalog()      // the shared request
 * const fresh = await loadCatalog(true)    // after a re-index
 */
import { type CatalogResponse, getCatalog } from '../../api/index.js';

let pending: Promise<CatalogResponse> | undefined;

/** The catalog; `fresh` asks the server again. A failed request is forgotten, so the next call retries. */
export function loadCatalog(fresh = false): Promise<CatalogResponse> {
  if (fresh || !pending) {
    pending = getCatalog();
    pending.catch(() => {
      pending = undefined;
    });
  }
  return pending;
}
