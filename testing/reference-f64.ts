/**
 * Plain float64 JavaScript versions of the ViT layers, for unit tests of @maejs/vit and
 * @maejs/decoder. Matrices are arrays of rows; a linear weight is [in][out] as maejs keeps it.
 */
export type Matrix = number[][];

/** x W + b for every row of x. */
export function linearF64(x: Matrix, w: Matrix, b: number[]): Matrix {
  return x.map((row) => b.map((bias, o) => row.reduce((s, v, i) => s + v * w[i][o], bias)));
}

/** LayerNorm over each row with the biased variance, as torch.nn.LayerNorm. */
export function layerNormF64(x: Matrix, g: number[], b: number[], eps: number): Matrix {
  return x.map((row) => {
    const mean = row.reduce((s, v) => s + v, 0) / row.length;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / row.length;
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * g[i] + b[i]);
  });
}

/** Softmax of one row. */
function softmaxF64(row: number[]): number[] {
  const max = Math.max(...row);
  const e = row.map((v) => Math.exp(v - max));
  const sum = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / sum);
}

/**
 * Multi-head self-attention of one sequence x [T][D]: qkv = x Wqkv + b, columns [q | k | v],
 * each split into `heads` contiguous groups; softmax(q k^T / sqrt(hd)) v; then the projection.
 */
export function attentionF64(x: Matrix, wQkv: Matrix, bQkv: number[], wProj: Matrix, bProj: number[], heads: number): Matrix {
  const d = x[0].length;
  const hd = d / heads;
  const qkv = linearF64(x, wQkv, bQkv);
  const merged: Matrix = x.map(() => new Array(d).fill(0));
  for (let h = 0; h < heads; h++) {
    const col = (row: number[], part: number) => row.slice(part * d + h * hd, part * d + (h + 1) * hd);
    const q = qkv.map((r) => col(r, 0));
    const k = qkv.map((r) => col(r, 1));
    const v = qkv.map((r) => col(r, 2));
    q.forEach((qi, i) => {
      const p = softmaxF64(k.map((kj) => qi.reduce((s, a, c) => s + a * kj[c], 0) / Math.sqrt(hd)));
      for (let c = 0; c < hd; c++) merged[i][h * hd + c] = p.reduce((s, pj, j) => s + pj * v[j][c], 0);
    });
  }
  return linearF64(merged, wProj, bProj);
}

/** A deterministic pseudo-random matrix [rows][cols] in [-scale, scale) (sine hash, no state). */
export function fixedMatrix(rows: number, cols: number, seed: number, scale = 1): Matrix {
  return Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => {
    const s = Math.sin((i * 131 + j * 17 + seed * 7919) * 12.9898) * 43758.5453;
    return scale * 2 * (s - Math.floor(s) - 0.5);
  }));
}
