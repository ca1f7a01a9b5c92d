/**
 * Position embeddings for another image size: bicubic interpolation of the patch grid as the
 * official `util/pos_embed.interpolate_pos_embed` (torch.nn.functional.interpolate,
 * mode='bicubic', align_corners=False, cubic coefficient A = -0.75, cls row kept), or the 2-D
 * sin-cos table recomputed for the new grid (exact for MAE, whose tables are fixed sin-cos).
 *
 * Pure JS on Float32Arrays (computed in float64, rounded once); PyTorch computes in float32,
 * so bicubic values can differ from torch's in the last bits.
 */
import { checkInteger, failArgument } from '@maejs/backend';
import { sincosPosEmbed2d } from '@maejs/vit';
import type { StateTensor } from './state-dict.js';

/** How to make a position embedding for a new grid. */
export type PosEmbedResizeMethod = 'bicubic' | 'sincos';

/** PyTorch's cubic convolution kernel (Keys), A = -0.75: weight of a tap at distance |x| <= 1. */
function cubicNear(x: number, a: number): number {
  return ((a + 2) * x - (a + 3)) * x * x + 1;
}

/** Weight of a tap at distance 1 < |x| < 2. */
function cubicFar(x: number, a: number): number {
  return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
}

/** The 4 taps (clamped indices) and weights of output index `dst` when resizing `inSize` -> `outSize`. */
export function bicubicTaps(dst: number, inSize: number, outSize: number, a = -0.75): { index: number[]; weight: number[] } {
  const scale = inSize / outSize;
  const real = scale * (dst + 0.5) - 0.5; // align_corners=False; not clamped for cubic
  const base = Math.floor(real);
  const t = real - base;
  const weight = [cubicFar(t + 1, a), cubicNear(t, a), cubicNear(1 - t, a), cubicFar(2 - t, a)];
  const index = [-1, 0, 1, 2].map((o) => Math.min(Math.max(base + o, 0), inSize - 1));
  return { index, weight };
}

/**
 * Bicubic resize of a square grid of vectors. grid: [g, g, D] row-major (row, col, channel) ->
 * [n, n, D]. Interpolates along columns, then rows, as PyTorch's upsample_bicubic2d.
 */
export function bicubicResizeGrid(grid: Float32Array, oldSize: number, newSize: number, dim: number): Float32Array {
  if (grid.length !== oldSize * oldSize * dim) throw new Error(`bicubicResizeGrid: grid has ${grid.length} values; expected ${oldSize}x${oldSize}x${dim}`);
  const taps = Array.from({ length: newSize }, (_, i) => bicubicTaps(i, oldSize, newSize));
  const out = new Float32Array(newSize * newSize * dim);
  const rowValues = new Float64Array(4 * dim); // the 4 horizontally interpolated source rows
  for (let y = 0; y < newSize; y++) {
    for (let x = 0; x < newSize; x++) {
      rowValues.fill(0);
      for (let r = 0; r < 4; r++) {
        const srcRow = taps[y].index[r];
        for (let c = 0; c < 4; c++) {
          const w = taps[x].weight[c];
          const base = (srcRow * oldSize + taps[x].index[c]) * dim;
          for (let k = 0; k < dim; k++) rowValues[r * dim + k] += w * grid[base + k];
        }
      }
      const o = (y * newSize + x) * dim;
      for (let k = 0; k < dim; k++) {
        let v = 0;
        for (let r = 0; r < 4; r++) v += taps[y].weight[r] * rowValues[r * dim + k];
        out[o + k] = v;
      }
    }
  }
  return out;
}

/**
 * A position embedding [1, extra + g*g, D] for a grid of `newGrid` x `newGrid` patches: the first
 * `extraTokens` rows (the cls row) are kept as they are, the grid rows are interpolated or
 * recomputed. Returns [1, extra + newGrid^2, D].
 */
export function resizePosEmbed(posEmbed: StateTensor, newGrid: number, method: PosEmbedResizeMethod, extraTokens = 1): StateTensor {
  const [one, t, d] = posEmbed.shape;
  const oldGrid = Math.round(Math.sqrt(t - extraTokens));
  if (posEmbed.shape.length !== 3 || one !== 1 || oldGrid * oldGrid !== t - extraTokens) {
    throw new Error(`resizePosEmbed: shape [${posEmbed.shape}] is not [1, ${extraTokens} + g*g, D]`);
  }
  checkInteger('resizePosEmbed: newGrid', newGrid, 1);
  const out = new Float32Array((extraTokens + newGrid * newGrid) * d);
  out.set(posEmbed.data.subarray(0, extraTokens * d)); // cls row kept
  const gridRows = method === 'sincos' ? sincosPosEmbed2d(d, newGrid, false) : bicubicResizeGrid(posEmbed.data.subarray(extraTokens * d), oldGrid, newGrid, d);
  out.set(gridRows, extraTokens * d);
  return { shape: [1, extraTokens + newGrid * newGrid, d], data: out };
}

/**
 * A copy of an official-layout state dict for images of `newImgSize`: `pos_embed` and (when
 * present) `decoder_pos_embed` resized to the new grid of `patchSize`-pixel patches; every other
 * tensor is shared, not copied.
 */
export function resizeStateDictPosEmbed(state: Map<string, StateTensor>, patchSize: number, newImgSize: number, method: PosEmbedResizeMethod): Map<string, StateTensor> {
  if (newImgSize % patchSize !== 0) failArgument('resizeStateDictPosEmbed: newImgSize', newImgSize, `a multiple of the patch size ${patchSize}`);
  const grid = newImgSize / patchSize;
  const out = new Map<string, StateTensor>();
  for (const [key, value] of state) {
    out.set(key, key === 'pos_embed' || key === 'decoder_pos_embed' ? resizePosEmbed(value, grid, method) : value);
  }
  return out;
}
