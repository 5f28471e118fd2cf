/**
 * The catalog page, and the shared catalog request main.tsx starts early.
 *
 * @example
 * <CatalogPage route={route} />   // #/?tag=sweep&sort=created
 */
export { CatalogPage } from './CatalogPage.js';
export { loadCatalog } from './load.js';
