import { failArgument } from '@maejs/backend';

/**
 * Fixed 2-D sin-cos position embedding of MAE (official util/pos_embed.py), computed in
 * float64 and rounded to float32 once, as the official code does with numpy.
 *
 * For the token at grid row i, column j: concat(sin(j w), cos(j w), sin(i w), cos(i w)),
 * w_k = 10000^(-k / (D/4)), k = 0..D/4-1 (the first half encodes the column).
 *
 * @returns Float32Array of [(clsToken ? 1 : 0) + gridSize^2, embedDim], row-major; the cls row is zeros.
 */
export function sincosPosEmbed2d(embedDim: number, gridSize: number, clsToken: boolean): Float32Array {
  if (embedDim % 4 !== 0) failArgument('sincosPosEmbed2d: embedDim', embedDim, 'a multiple of 4 (2-D sin-cos position embedding)');
  const quarter = embedDim / 4;
  const omega = Array.from({ length: quarter }, (_, k) => 1 / 10000 ** (k / quarter));
  const offset = clsToken ? 1 : 0;
  const out = new Float32Array((offset + gridSize * gridSize) * embedDim);
  for (let i = 0; i < gridSize; i++) {
    for (let j = 0; j < gridSize; j++) {
      const row = (offset + i * gridSize + j) * embedDim;
      for (let k = 0; k < quarter; k++) {
        out[row + k] = Math.sin(j * omega[k]);
        out[row + quarter + k] = Math.cos(j * omega[k]);
        out[row + 2 * quarter + k] = Math.sin(i * omega[k]);
        out[row + 3 * quarter + k] = Math.cos(i * omega[k]);
      }
    }
  }
  return out;
}
