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
 * Copies the elements of a strided view into contiguous row-major order, working on raw element
 * bytes so the cost is proportional to the view (not to the storage span it covers):
 * out element [i0, ..., ik] = storage element offset + sum(i_d * strides[d]), each `itemSize` bytes.
 * The caller must have checked maxViewIndex(...) < storage length. shape, strides: [rank].
 */
export function gatherStridedBytes(
  bytes: Uint8Array,
  itemSize: number,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): Uint8Array {
  const numel = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(numel * itemSize);
  if (numel === 0) return out;
  if (shape.length === 0) {
    out.set(bytes.subarray(offset * itemSize, (offset + 1) * itemSize));
    return out;
  }
  const last = shape.length - 1;
  const innerSize = shape[last];
  const innerStep = strides[last] * itemSize;
  const index = new Array<number>(shape.length).fill(0); // odometer over the outer dims (last one unused)
  let base = offset;
  let o = 0;
  for (let done = 0; done < numel; done += innerSize) {
    for (let i = 0, at = base * itemSize; i < innerSize; i++, at += innerStep) {
      for (let b = 0; b < itemSize; b++) out[o++] = bytes[at + b];
    }
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
