import { readFileSync } from 'node:fs';
const { instance } = await WebAssembly.instantiate(readFileSync('/tmp/bmm.wasm'));
const { memory, batch_matmul, work_floats, __heap_base } = instance.exports;
console.log(Object.keys(instance.exports), __heap_base.value, memory.buffer.byteLength);
function run(B, m, k, n, ta, tb) {
  const sizes = [B * m * k, B * k * n, B * m * n, work_floats(m, k, n)];
  let off = (__heap_base.value + 15) & ~15;
  const ptrs = sizes.map((s) => { const p = off; off += ((s * 4 + 15) & ~15); return p; });
  const need = off - memory.buffer.byteLength;
  if (need > 0) memory.grow(Math.ceil(need / 65536));
  const f = new Float32Array(memory.buffer);
  const a = f.subarray(ptrs[0] / 4, ptrs[0] / 4 + sizes[0]), b = f.subarray(ptrs[1] / 4, ptrs[1] / 4 + sizes[1]);
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(i);
  for (let i = 0; i < b.length; i++) b[i] = Math.cos(i * 0.7);
  batch_matmul(ptrs[0], ptrs[1], ptrs[2], ptrs[3], B, m, k, n, ta, tb);
  const t = performance.now();
  for (let r = 0; r < 5; r++) batch_matmul(ptrs[0], ptrs[1], ptrs[2], ptrs[3], B, m, k, n, ta, tb);
  const ms = (performance.now() - t) / 5;
  // check one entry
  const c = new Float32Array(memory.buffer, ptrs[2], sizes[2]);
  const s = B - 1, i = m - 1, j = n - 1;
  let ref = 0;
  for (let p = 0; p < k; p++) ref += (ta ? a[s * m * k + p * m + i] : a[s * m * k + i * k + p]) * (tb ? b[s * k * n + j * k + p] : b[s * k * n + p * n + j]);
  console.log(`[${B},${m},${k}]x[${k},${n}] ta${ta} tb${tb}: ${ms.toFixed(2)} ms ${(2 * B * m * k * n / ms / 1e6).toFixed(2)} GFLOP/s check ${c[s * m * n + i * n + j]} vs ${ref}`);
}
run(512, 50, 50, 16, 0, 0); run(512, 50, 16, 50, 0, 1); run(512, 50, 50, 16, 1, 0); run(512, 13, 13, 32, 0, 0); run(512, 13, 32, 13, 0, 1); run(96, 197, 64, 197, 0, 1); run(96, 197, 197, 64, 0, 0);
console.log('2-D');
run(1, 1664, 128, 512, 0, 0); run(1, 1664, 512, 128, 0, 0); run(1, 128, 1664, 512, 1, 0); run(1, 1664, 128, 128, 0, 1); run(1, 6400, 64, 256, 0, 0); run(1, 64, 6400, 64, 1, 0); run(1, 512, 512, 512, 0, 0);
console.log('ViT-B');
run(1, 1576, 768, 2304, 0, 0); run(1, 1576, 3072, 768, 0, 0); run(1, 768, 1576, 2304, 1, 0);
