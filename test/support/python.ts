// Debian's Python with zarr, msgpack and numpy. Tests that need it skip loudly when it is absent locally,
// and fail in CI (CI=true), where .ci/run installs it.
import { execFileSync } from 'node:child_process';
import { DEBIAN_PYTHON } from './helpers.js';

let cached: boolean | undefined;

export function pythonAvailable(): boolean {
  if (cached !== undefined) return cached;
  try {
    execFileSync(DEBIAN_PYTHON, ['-c', 'import zarr, msgpack, numpy'], { stdio: 'ignore' });
    cached = true;
  } catch {
    if (process.env.CI) {
      throw new Error(
        `${DEBIAN_PYTHON} cannot import zarr, msgpack and numpy; CI must install python3-zarr python3-msgpack python3-numpy`,
      );
    }
    console.warn(
      `\n*** SKIPPING Python interop tests: ${DEBIAN_PYTHON} lacks zarr/msgpack/numpy (apt-get install python3-zarr python3-msgpack python3-numpy) ***\n`,
    );
    cached = false;
  }
  return cached;
}
