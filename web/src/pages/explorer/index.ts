/**
 * The runs explorer: every run of every specimen in one table, with scatter and parallel-coordinates views.
 *
 * @example
 * <ExplorerPage route={route} />   // #/explorer?f=config.lr%3E0.001&g=config.prime&sort=loss.min
 */
export { ExplorerPage } from './ExplorerPage.js';
