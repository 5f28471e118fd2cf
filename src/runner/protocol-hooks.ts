/**
 * Loaded with `node --import` into protocols run by `specimen run`: makes `import … from 'specimen-vault'`
 * resolve to this installation, so a protocol in any vault directory can use the library without its own
 * node_modules.
 */
import { register } from 'node:module';

register('./protocol-resolve.js', import.meta.url);
