/**
 * The SQL console page.
 *
 * @example
 * <SqlPage route={route} />   // #/sql?q=SELECT…
 */
export { SqlPage } from './SqlPage.js';
