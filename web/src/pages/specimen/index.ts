/**
 * The specimen page, with one run in detail.
 *
 * @example
 * <SpecimenPage route={route} />   // #/specimen/<id>  or  #/specimen/<id>/run/<run>
 */
export { SpecimenPage } from './SpecimenPage.js';
