/**
 * Tensors as Zarr arrays: `writeZarr` stores a flat typed array (or plain array) under a shape, `openTensor`
 * opens any Zarr v2/v3 array lazily and reads hyper-slabs of it.
 *
 * @example
 * import { openTensor, writeZarr } from './storage/tensors/index.js'
 * await writeZarr('/vault/specimens/S/runs/R/activations.zarr', acts, { shape: [100, 512] })
 * const t = await openTensor('/vault/specimens/S/runs/R/activations.zarr')
 * const { data } = await t.read([0, [0, 16]]) // first 16 values of row 0
 */
export { openTensor } from './read.js';
export {
  type Compressor,
  DTYPES,
  type Dtype,
  type OpenTensorOptions,
  type Selection,
  type TensorData,
  type TensorHandle,
  type TensorInfo,
  type TypedArrayOut,
  type WriteTensorOptions,
} from './types.js';
export { writeZarr } from './write.js';
