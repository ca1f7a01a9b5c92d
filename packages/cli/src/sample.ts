/**
 * A built-in sample that needs no download: seeded synthetic gray images of rectangles and
 * discs on a dark background, normalised to zero mean and unit variance. It lets the demo
 * show the model learning on a fresh, offline machine.
 */
import { Rng } from '@maejs/random';

/** count images of size x size, one channel: Float32Array NHWC [count, size, size, 1]. */
export function syntheticShapes(count: number, size: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const rand = () => rng.random();
  const out = new Float32Array(count * size * size);
  for (let n = 0; n < count; n++) {
    const img = out.subarray(n * size * size, (n + 1) * size * size);
    for (let s = 0; s < 2; s++) {
      const cx = rand() * size;
      const cy = rand() * size;
      const r = 3 + rand() * size * 0.3;
      const value = 0.4 + 0.6 * rand();
      const disc = rand() < 0.5;
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const inside = disc ? (x - cx) ** 2 + (y - cy) ** 2 <= r * r : Math.abs(x - cx) <= r && Math.abs(y - cy) <= r * 0.6;
          if (inside) img[y * size + x] = Math.max(img[y * size + x], value);
        }
      }
    }
  }
  let mean = 0;
  for (const v of out) mean += v;
  mean /= out.length;
  let variance = 0;
  for (const v of out) variance += (v - mean) ** 2;
  const std = Math.sqrt(variance / out.length) || 1;
  for (let i = 0; i < out.length; i++) out[i] = (out[i] - mean) / std;
  return out;
}
