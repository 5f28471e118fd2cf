/**
 * The views page: saved views (report-builder pages for a research question) listed, arranged, saved into
 * the vault and reopened by URL.
 *
 * @example
 * <ViewsPage route={route} />   // #/views (list and a new view), #/views/turns (the saved view "turns")
 */
export { ViewsPage } from './ViewsPage.js';
