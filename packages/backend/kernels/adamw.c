/*
 * One AdamW step (torch.optim.AdamW) on float32 arrays with 128-bit SIMD, element by element:
 *   m1 = m b1 + g c1,        c1 = 1 - b1
 *   v1 = v b2 + (g c2) g,    c2 = 1 - b2
 *   p1 = p decay + (m1 / (sqrt(v1) / bc2_sqrt + eps)) step,   step = -lr / (1 - b1^t)
 * Each product, sum, quotient and square root is rounded to float32 on its own, in this order
 * (no fused multiply-add, in both builds), so the results equal the op-by-op form's bit for bit.
 * The caller rounds every scalar to float32 (c1 and c2 from 1 - b1 and 1 - b2 in float64).
 * The same arithmetic as the JavaScript kernel of src/adamw-update.ts.
 */
#include <wasm_simd128.h>

#define SPLAT wasm_f32x4_splat

static v128_t moment1(v128_t m, v128_t g, v128_t b1, v128_t c1) { return wasm_f32x4_add(wasm_f32x4_mul(m, b1), wasm_f32x4_mul(g, c1)); }
static v128_t moment2(v128_t v, v128_t g, v128_t b2, v128_t c2) { return wasm_f32x4_add(wasm_f32x4_mul(v, b2), wasm_f32x4_mul(wasm_f32x4_mul(g, c2), g)); }

/* p, g, m, v in; p1, m1, v1 out; n floats each. */
void adamw_update(const float *p, const float *g, const float *m, const float *v, float *p1, float *m1, float *v1, int n, float decay, float b1, float c1, float b2, float c2, float bc2_sqrt, float eps, float step) {
  v128_t vb1 = SPLAT(b1), vc1 = SPLAT(c1), vb2 = SPLAT(b2), vc2 = SPLAT(c2);
  v128_t vdecay = SPLAT(decay), vbc2 = SPLAT(bc2_sqrt), veps = SPLAT(eps), vstep = SPLAT(step);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t gi = wasm_v128_load(g + i);
    v128_t mi = moment1(wasm_v128_load(m + i), gi, vb1, vc1);
    v128_t vi = moment2(wasm_v128_load(v + i), gi, vb2, vc2);
    v128_t denom = wasm_f32x4_add(wasm_f32x4_div(wasm_f32x4_sqrt(vi), vbc2), veps);
    v128_t update = wasm_f32x4_mul(wasm_f32x4_div(mi, denom), vstep);
    wasm_v128_store(p1 + i, wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(p + i), vdecay), update));
    wasm_v128_store(m1 + i, mi);
    wasm_v128_store(v1 + i, vi);
  }
  for (; i < n; i++) { /* the last 1-3 values, one lane at a time */
    v128_t gi = SPLAT(g[i]);
    v128_t mi = moment1(SPLAT(m[i]), gi, vb1, vc1);
    v128_t vi = moment2(SPLAT(v[i]), gi, vb2, vc2);
    v128_t denom = wasm_f32x4_add(wasm_f32x4_div(wasm_f32x4_sqrt(vi), vbc2), veps);
    v128_t update = wasm_f32x4_mul(wasm_f32x4_div(mi, denom), vstep);
    p1[i] = wasm_f32x4_extract_lane(wasm_f32x4_add(wasm_f32x4_mul(SPLAT(p[i]), vdecay), update), 0);
    m1[i] = wasm_f32x4_extract_lane(mi, 0);
    v1[i] = wasm_f32x4_extract_lane(vi, 0);
  }
}
