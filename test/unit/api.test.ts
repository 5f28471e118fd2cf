// The public API is the explicit list in src/index.ts; this snapshot makes every change to it visible.
import { expect, it } from 'vitest';
import * as api from '../../src/index.js';

it('exports exactly the documented names', () => {
  expect(Object.keys(api).sort()).toMatchSnapshot();
});
