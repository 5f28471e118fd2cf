/**
 * The compare page: overlaid charts per metric, pinned values, config diff and summary of any runs.
 *
 * @example
 * <ComparePage route={route} />   // #/compare?run=S/R1&run=S/R2&step=120&log=1
 */
export { ComparePage } from './ComparePage.js';
