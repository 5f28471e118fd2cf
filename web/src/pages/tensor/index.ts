/**
 * The tensor viewer page.
 *
 * @example
 * <TensorPage route={route} />   // #/tensor/<id>/<run>/<name>?at=3,0,0
 */
export { TensorPage } from './TensorPage.js';
