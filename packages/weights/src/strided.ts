/**
 * Gathering a strided view (PyTorch tensor views, Fortran-order NPY) into a contiguous row-major array.
 */

/**
 * True when `strides` are the row-major strides of `shape` (dimensions of size 1 may have any stride).
 * shape, strides: [rank].
 */
export function isRowMajor(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && strides[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

/**
 * Largest flat index a view touches: offset + sum((shape[d] - 1) * strides[d]), or -1 when the
 * view is empty. Strides must be non-negative.
 */
export function maxViewIndex(offset: number, shape: readonly number[], strides: readonly number[]): number {
  let max = offset;
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 0) return -1;
    max += (shape[d] - 1) * strides[d];
  }
  return max;
}

/**
 * Copies the view of `src` with the given shape, non-negative strides and offset into a new
 * contiguous row-major array: out[i0, ..., ik] = src[offset + sum(i_d * strides[d])].
 * The caller must have checked maxViewIndex(...) < src.length. shape, strides: [rank].
 */
export function gatherStrided<T extends Float32Array | Int32Array>(src: T, shape: readonly number[], strides: readonly number[], offset: number): T {
  const numel = shape.reduce((a, b) => a * b, 1);
  const out = new (src.constructor as new (n: number) => T)(numel);
  if (numel === 0) return out;
  const rank = shape.length;
  if (rank === 0) {
    out[0] = src[offset];
    return out;
  }
  const last = rank - 1;
  const innerSize = shape[last];
  const innerStride = strides[last];
  const index = new Array<number>(rank).fill(0); // position in the outer dims (last one unused)
  let base = offset;
  for (let o = 0; o < numel; o += innerSize) {
    for (let i = 0, s = base; i < innerSize; i++, s += innerStride) out[o + i] = src[s];
    base = advanceOuterIndex(index, shape, strides, base, last);
  }
  return out;
}

/** Odometer step over dims [0, last): returns the new base offset. */
function advanceOuterIndex(index: number[], shape: readonly number[], strides: readonly number[], base: number, last: number): number {
  for (let d = last - 1; d >= 0; d--) {
    index[d]++;
    base += strides[d];
    if (index[d] < shape[d]) return base;
    base -= index[d] * strides[d];
    index[d] = 0;
  }
  return base;
}
