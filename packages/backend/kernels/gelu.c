/*
 * Exact-form GELU for the wasm backend, forward and backward in one pass each, with 128-bit SIMD:
 *   forward:  cdf = 0.5 (1 + erf(x / sqrt 2)),  y = x cdf
 *   backward: dx = dy (cdf + x exp(-x^2 / 2) / sqrt(2 pi))
 * Phi comes from a Chebyshev fit of erfc (below), so the tail x << 0 keeps its relative
 * precision; exp is a Cephes-style polynomial (relative error ~1e-7 on [-87, 0]).
 * Replaces the 5 tfjs kernels of the forward and 7 of the backward (each a pass over memory).
 */
#include <wasm_simd128.h>

#define SPLAT wasm_f32x4_splat

/* MADD(a, b, c) = a * b + c per lane: fused (relaxed_madd) in kernels-relaxed.wasm, see batch-matmul.c. */
#ifdef MAEJS_RELAXED_SIMD
#define MADD(a, b, c) ((v128_t)__builtin_wasm_relaxed_madd_f32x4((__f32x4)(a), (__f32x4)(b), (__f32x4)(c)))
#else
#define MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul(a, b), c)
#endif

/* exp(x) for x <= ~0 (the exponents here are at most 1e-7 above 0); below -87 the result is 0. */
static v128_t exp_small(v128_t x) {
  const v128_t lo = SPLAT(-87.0f);
  v128_t too_small = wasm_f32x4_lt(x, lo);
  x = wasm_f32x4_max(x, lo);
  /* x = n ln2 + r, |r| <= ln2 / 2 */
  v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, SPLAT(1.44269504088896341f)));
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, SPLAT(0.693359375f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, SPLAT(-2.12194440e-4f)));
  v128_t r2 = wasm_f32x4_mul(r, r);
  v128_t p = SPLAT(1.9875691500e-4f);
  p = MADD(p, r, SPLAT(1.3981999507e-3f));
  p = MADD(p, r, SPLAT(8.3334519073e-3f));
  p = MADD(p, r, SPLAT(4.1665795894e-2f));
  p = MADD(p, r, SPLAT(1.6666665459e-1f));
  p = MADD(p, r, SPLAT(5.0000001201e-1f));
  p = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(p, r2), r), SPLAT(1.0f));
  /* times 2^n: add n to the exponent bits */
  v128_t scale = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  v128_t result = wasm_f32x4_mul(p, scale);
  return wasm_v128_andnot(result, too_small);
}

/*
 * Phi(x) = 0.5 (1 + erf(x / sqrt 2)) from erfc: with z = |x| / sqrt 2 and q = 0.5 erfc(z),
 * Phi is q for x < 0 and 1 - q otherwise (no 1 + erf cancellation in the negative tail).
 * erfc(z) = t exp(-z^2 - 1.26551223 + t P(t)), t = 1 / (1 + z / 2): the Chebyshev fit of
 * Numerical Recipes (erfcc), relative error < 1.2e-7 for every z >= 0.
 */
static v128_t normal_cdf(v128_t x) {
  v128_t z = wasm_f32x4_abs(wasm_f32x4_mul(x, SPLAT(0.70710678118654752f)));
  v128_t t = wasm_f32x4_div(SPLAT(1.0f), wasm_f32x4_add(SPLAT(1.0f), wasm_f32x4_mul(SPLAT(0.5f), z)));
  v128_t p = SPLAT(0.17087277f);
  p = MADD(p, t, SPLAT(-0.82215223f));
  p = MADD(p, t, SPLAT(1.48851587f));
  p = MADD(p, t, SPLAT(-1.13520398f));
  p = MADD(p, t, SPLAT(0.27886807f));
  p = MADD(p, t, SPLAT(-0.18628806f));
  p = MADD(p, t, SPLAT(0.09678418f));
  p = MADD(p, t, SPLAT(0.37409196f));
  p = MADD(p, t, SPLAT(1.00002368f));
  v128_t exponent = wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(p, t), SPLAT(1.26551223f)), wasm_f32x4_neg(wasm_f32x4_mul(z, z)));
  v128_t q = wasm_f32x4_mul(SPLAT(0.5f), wasm_f32x4_mul(t, exp_small(exponent)));
  return wasm_v128_bitselect(q, wasm_f32x4_sub(SPLAT(1.0f), q), wasm_f32x4_lt(x, SPLAT(0.0f)));
}

/* y = x cdf(x), cdf kept for the backward pass; n floats each. */
void gelu_forward(const float *x, float *y, float *cdf, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t xv = wasm_v128_load(x + i);
    v128_t c = normal_cdf(xv);
    wasm_v128_store(cdf + i, c);
    wasm_v128_store(y + i, wasm_f32x4_mul(xv, c));
  }
  for (; i < n; i++) { /* the last 1-3 values, one lane at a time */
    v128_t c = normal_cdf(SPLAT(x[i]));
    cdf[i] = wasm_f32x4_extract_lane(c, 0);
    y[i] = x[i] * cdf[i];
  }
}

static v128_t gelu_slope(v128_t x, v128_t cdf) {
  v128_t half_sq = wasm_f32x4_mul(wasm_f32x4_mul(x, x), SPLAT(-0.5f));
  v128_t pdf = wasm_f32x4_mul(exp_small(half_sq), SPLAT(0.39894228040143268f));
  return MADD(x, pdf, cdf);
}

/* dx = dy (cdf + x pdf(x)); n floats each. */
void gelu_backward(const float *x, const float *cdf, const float *dy, float *dx, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t slope = gelu_slope(wasm_v128_load(x + i), wasm_v128_load(cdf + i));
    wasm_v128_store(dx + i, wasm_f32x4_mul(wasm_v128_load(dy + i), slope));
  }
  for (; i < n; i++) dx[i] = dy[i] * wasm_f32x4_extract_lane(gelu_slope(SPLAT(x[i]), SPLAT(cdf[i])), 0);
}
