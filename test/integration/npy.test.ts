// .npy files written by numpy (Debian's python3-numpy) decode to the same values, in C order.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { readNpy } from '../../src/runner/npy.js';
import { runPython, tempDir } from '../support/helpers.js';
import { pythonAvailable } from '../support/python.js';

it.runIf(pythonAvailable())('reads every stored dtype, both byte orders and Fortran order', async () => {
  const dir = tempDir();
  await runPython(
    `import numpy as np, sys, os
d = sys.argv[1]
a = np.arange(24).reshape(2, 3, 4)
for name, dt in [('f2','<f2'),('f4','<f4'),('f8','>f8'),('i1','i1'),('i2','>i2'),('i4','<i4'),('i8','>i8'),('u1','u1'),('u2','<u2'),('u4','>u4'),('u8','<u8')]:
    np.save(os.path.join(d, name + '.npy'), a.astype(dt))
np.save(os.path.join(d, 'b1.npy'), (a % 3 == 0))
np.save(os.path.join(d, 'fortran.npy'), np.asfortranarray(a.astype('<f8')))`,
    [dir],
  );
  const expected = Array.from({ length: 24 }, (_, i) => i);
  for (const f of fs.readdirSync(dir)) {
    const arr = readNpy(fs.readFileSync(path.join(dir, f)), f);
    expect(arr.shape, f).toEqual([2, 3, 4]);
    const values = Array.from(arr.data as ArrayLike<number | bigint>, Number);
    if (f === 'b1.npy') expect(values).toEqual(expected.map((i) => (i % 3 === 0 ? 1 : 0)));
    else if (f === 'f2.npy') expect(arr.dtype).toBe('float16');
    else expect(values, f).toEqual(expected);
  }
  expect(() => readNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 'x.npy')).toThrow(
    /x\.npy is not a \.npy file/,
  );
});
