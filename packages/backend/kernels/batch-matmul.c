/*
 * Batched matrix product for the wasm backend, with 128-bit SIMD:
 *   C[b] = op(A[b]) x op(B[b]),  op = identity or transpose,  row-major float32.
 * tfjs-backend-wasm sends every batched or transposed BatchMatMul to a scalar loop (about
 * 1-2 GFLOP/s on attention shapes); this kernel packs each pair of matrices into zero-padded
 * panels (4 rows of A, 8 columns of B, each contiguous over k) and runs a 4-row x 8-column
 * register block over them (4x8 measured fastest here: 5x8, 6x8 and 4x12 spill registers in V8).
 * The blocks run over k in slices of KC and over the rows of A in groups of MC, so that a block's
 * two panel slices stay in the L1 cache and a group's A slice in L2: for ViT-B's products
 * ([788, 768] x [768, 768], [788, 3072] x [3072, 768]) 33-35 GFLOP/s become 39-43. Each element of
 * C still sums over p in ascending order with the same operations, so the results are the same
 * bits as without the slices.
 *
 * Built with clang for wasm32 (no libc, no imports) by ../scripts/build-wasm-kernels.mjs; the
 * results are committed beside this file (kernels.wasm, and kernels-relaxed.wasm with MADD
 * fused), so a build needs no C toolchain.
 * Memory is this module's own; the caller copies operands in at `a`, `b`, and reads `c` back.
 */
#include <wasm_simd128.h>

/*
 * MADD(a, b, c) = a * b + c per lane. Built with -DMAEJS_RELAXED_SIMD -mrelaxed-simd it is
 * f32x4.relaxed_madd: one fused multiply-add (a single rounding) where the hardware has FMA,
 * else a multiply and an add. Otherwise it is a multiply and an add, each rounded
 * (-ffp-contract=off keeps clang from fusing them).
 * clang 16 has the builtin but not yet the wasm_f32x4_relaxed_madd wrapper of wasm_simd128.h.
 */
#ifdef MAEJS_RELAXED_SIMD
#define MADD(a, b, c) ((v128_t)__builtin_wasm_relaxed_madd_f32x4((__f32x4)(a), (__f32x4)(b), (__f32x4)(c)))
#else
#define MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul(a, b), c)
#endif

#define ROWS 4 /* rows of C per block */
#define COLS 8 /* columns of C per block: two f32x4 vectors */
#define KC 256 /* k per pass over the blocks: panel slices of 4 KB (A) and 8 KB (B) */
#define MC 128 /* rows of A per group: an A slice of 128 KB, reused for every column block */

static int round_up(int x, int to) { return (x + to - 1) / to * to; }

/* A[m, k] (or A^T stored [k, m]) into panels [mPad / 4][k][4]: the 4 row values of one p are adjacent. */
static void pack_a(const float *a, int m, int k, int transposed, int m_pad, float *panel) {
  for (int i0 = 0; i0 < m_pad; i0 += ROWS) {
    for (int p = 0; p < k; p++) {
      for (int r = 0; r < ROWS; r++) {
        int i = i0 + r;
        *panel++ = i < m ? (transposed ? a[p * m + i] : a[i * k + p]) : 0.0f;
      }
    }
  }
}

/* B[k, n] (or B^T stored [n, k]) into panels [nPad / 8][k][8]: one column block is contiguous. */
static void pack_b(const float *b, int k, int n, int transposed, int n_pad, float *panel) {
  for (int j0 = 0; j0 < n_pad; j0 += COLS) {
    for (int p = 0; p < k; p++) {
      for (int c = 0; c < COLS; c++) {
        int j = j0 + c;
        *panel++ = j < n ? (transposed ? b[j * k + p] : b[p * n + j]) : 0.0f;
      }
    }
  }
}

/*
 * One 4 x 8 block of C over k values of p: C[i0.., j0..] (+)= sum over p of A[i0.., p] * B[p, j0..],
 * p ascending. `accumulate`: continue the sums already in c_pad (a later slice of p), else start at 0.
 */
static void block(const float *a_panel, const float *b_panel, int k, int n_pad, float *c_pad, int accumulate) {
  v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  if (accumulate) {
    c00 = wasm_v128_load(c_pad);
    c01 = wasm_v128_load(c_pad + 4);
    c10 = wasm_v128_load(c_pad + n_pad);
    c11 = wasm_v128_load(c_pad + n_pad + 4);
    c20 = wasm_v128_load(c_pad + 2 * n_pad);
    c21 = wasm_v128_load(c_pad + 2 * n_pad + 4);
    c30 = wasm_v128_load(c_pad + 3 * n_pad);
    c31 = wasm_v128_load(c_pad + 3 * n_pad + 4);
  }
  for (int p = 0; p < k; p++) {
    v128_t b0 = wasm_v128_load(b_panel + p * COLS);
    v128_t b1 = wasm_v128_load(b_panel + p * COLS + 4);
    /* one load-and-splat per row: measured ~20% faster than a vector load plus 4 shuffles */
    v128_t a0 = wasm_v128_load32_splat(a_panel + p * ROWS);
    v128_t a1 = wasm_v128_load32_splat(a_panel + p * ROWS + 1);
    v128_t a2 = wasm_v128_load32_splat(a_panel + p * ROWS + 2);
    v128_t a3 = wasm_v128_load32_splat(a_panel + p * ROWS + 3);
    c00 = MADD(a0, b0, c00);
    c01 = MADD(a0, b1, c01);
    c10 = MADD(a1, b0, c10);
    c11 = MADD(a1, b1, c11);
    c20 = MADD(a2, b0, c20);
    c21 = MADD(a2, b1, c21);
    c30 = MADD(a3, b0, c30);
    c31 = MADD(a3, b1, c31);
  }
  wasm_v128_store(c_pad, c00);
  wasm_v128_store(c_pad + 4, c01);
  wasm_v128_store(c_pad + n_pad, c10);
  wasm_v128_store(c_pad + n_pad + 4, c11);
  wasm_v128_store(c_pad + 2 * n_pad, c20);
  wasm_v128_store(c_pad + 2 * n_pad + 4, c21);
  wasm_v128_store(c_pad + 3 * n_pad, c30);
  wasm_v128_store(c_pad + 3 * n_pad + 4, c31);
}

/* Floats of work space batch_matmul needs for one product of this size. */
int work_floats(int m, int k, int n) {
  int m_pad = round_up(m, ROWS), n_pad = round_up(n, COLS);
  return m_pad * k + k * n_pad + m_pad * n_pad;
}

/*
 * a: [batch, m, k] ([batch, k, m] if transpose_a); b: [batch, k, n] ([batch, n, k] if
 * transpose_b); c: [batch, m, n]; work: work_floats(m, k, n) floats, 16-byte aligned.
 * a_step / b_step: 1 if the operand has `batch` matrices, 0 if it has one (broadcast).
 */
void batch_matmul(const float *a, const float *b, float *c, float *work, int batch, int m, int k, int n, int transpose_a, int transpose_b, int a_step, int b_step) {
  int m_pad = round_up(m, ROWS), n_pad = round_up(n, COLS);
  float *a_panel = work, *b_panel = work + m_pad * k, *c_pad = b_panel + k * n_pad;
  for (int s = 0; s < batch; s++) {
    if (s == 0 || a_step) pack_a(a + s * a_step * m * k, m, k, transpose_a, m_pad, a_panel);
    if (s == 0 || b_step) pack_b(b + s * b_step * k * n, k, n, transpose_b, n_pad, b_panel);
    /* Panels are [.. / 4 or 8][k][4 or 8]: the slice of p from k0 starts k0 * 4 (A) or k0 * 8 (B) floats in. */
    for (int k0 = 0; k0 < k; k0 += KC) {
      int kc = k - k0 < KC ? k - k0 : KC;
      const float *a_slice = a_panel + k0 * ROWS, *b_slice = b_panel + k0 * COLS;
      for (int i1 = 0; i1 < m_pad; i1 += MC) {
        int i_end = i1 + MC < m_pad ? i1 + MC : m_pad;
        for (int j0 = 0; j0 < n_pad; j0 += COLS) {
          for (int i0 = i1; i0 < i_end; i0 += ROWS) block(a_slice + i0 * k, b_slice + j0 * k, kc, n_pad, c_pad + i0 * n_pad + j0, k0 > 0);
        }
      }
    }
    float *out = c + s * m * n;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) out[i * n + j] = c_pad[i * n_pad + j];
    }
  }
}
