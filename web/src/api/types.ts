/**
 * The JSON API's response shapes, as the server declares them. This is the one place web code reaches into
 * src/: `export type` is erased by the compiler (`verbatimModuleSyntax`), so nothing of the server — and no
 * Node module — can end up in the bundle through it.
 */
export type * from '../../../src/server/api-types.js';
