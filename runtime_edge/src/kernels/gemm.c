/* Reference GEMM micro-kernels and blocking (see gemm.h). */
#include "gemm.h"

#include "gemm_tile.h"
#include "quant.h"

enum { MR = EP_GEMM_MR, NR = EP_GEMM_NR, KC = EP_GEMM_KC };

void ep_gemm_pack_f32(const float *b, int32_t n, int32_t k, float *packed) {
  for (int32_t n0 = 0; n0 < n; n0 += NR) {
    float *panel = packed + (size_t)n0 * k;
    for (int32_t kk = 0; kk < k; kk++)
      for (int32_t j = 0; j < NR; j++) panel[(size_t)kk * NR + j] = n0 + j < n ? b[(size_t)(n0 + j) * k + kk] : 0.0f;
  }
}

void ep_gemm_pack_s8(const int8_t *b, int32_t n, int32_t k, int16_t *packed) {
  for (int32_t n0 = 0; n0 < n; n0 += NR) {
    int16_t *panel = packed + (size_t)n0 * k;
    for (int32_t kk = 0; kk < k; kk++)
      for (int32_t j = 0; j < NR; j++) panel[(size_t)kk * NR + j] = n0 + j < n ? b[(size_t)(n0 + j) * k + kk] : 0;
  }
}

/* Rows [i0, i0 + mr) of C (mr <= MR) over one K block of a panel. */
static void rows_f32(int32_t kc, const float *a, int64_t lda, const float *b, float *c, int64_t ldc, int mr,
                     const ep_gemm_tile_out *o) {
  if (mr == MR) ep_gemm_tile4_f32(kc, a, lda, b, c, ldc, o);
  else
    for (int i = 0; i < mr; i++) ep_gemm_tile1_f32(kc, a + i * lda, b, c + i * ldc, o);
}

/* The last, narrower panel (nr < NR columns) goes through an NR-wide copy of the tile and of its bias. */
static void edge_rows_f32(int32_t kc, const float *a, int64_t lda, const float *b, float *c, int64_t ldc, int mr,
                          int32_t nr, const ep_gemm_tile_out *o) {
  float tile[MR * NR], bias[NR];
  ep_gemm_tile_out eo = *o;
  for (int j = 0; j < NR; j++) bias[j] = o->bias && j < nr ? o->bias[j] : 0.0f;
  eo.bias = bias;
  for (int i = 0; i < mr; i++)
    for (int j = 0; j < NR; j++) tile[i * NR + j] = o->accumulate && j < nr ? c[i * ldc + j] : 0.0f;
  rows_f32(kc, a, lda, b, tile, NR, mr, &eo);
  for (int i = 0; i < mr; i++)
    for (int j = 0; j < nr; j++) c[i * ldc + j] = tile[i * NR + j];
}

void ep_gemm_f32(const float *a, int64_t lda, const float *packed, int32_t n, int32_t k, float *c, int64_t ldc,
                 int64_t m0, int64_t m1, const ep_gemm_f32_out *out) {
  for (int32_t k0 = 0; k0 < k; k0 += KC) {
    int32_t k1 = k - k0 > KC ? k0 + KC : k;
    for (int32_t n0 = 0; n0 < n; n0 += NR) {
      int32_t nr = n - n0 < NR ? n - n0 : NR;
      const float *b = packed + (size_t)n0 * k + (size_t)k0 * NR;
      ep_gemm_tile_out o = {out->bias ? out->bias + n0 : NULL, out->lo, out->hi, k0 > 0, k1 == k};
      for (int64_t i0 = m0; i0 < m1; i0 += MR) {
        int mr = m1 - i0 < MR ? (int)(m1 - i0) : MR;
        const float *ai = a + i0 * lda + k0;
        float *ci = c + i0 * ldc + n0;
        if (nr == NR) rows_f32(k1 - k0, ai, lda, b, ci, ldc, mr, &o);
        else edge_rows_f32(k1 - k0, ai, lda, b, ci, ldc, mr, nr, &o);
      }
    }
  }
}

static void tile_s8(const int8_t *const rows[MR], int mr, int32_t k, const int16_t *panel, int32_t acc[MR][NR]) {
  if (mr < MR) {
    for (int i = 0; i < mr; i++)
      for (int32_t kk = 0; kk < k; kk++) {
        const int16_t *bp = panel + (size_t)kk * NR;
        int32_t ai = rows[i][kk];
        for (int j = 0; j < NR; j++) acc[i][j] += ai * (int32_t)bp[j];
      }
    return;
  }
  for (int32_t kk = 0; kk < k; kk++) {
    const int16_t *bp = panel + (size_t)kk * NR;
    for (int i = 0; i < MR; i++) {
      int32_t ai = rows[i][kk];
      for (int j = 0; j < NR; j++) acc[i][j] += ai * (int32_t)bp[j];
    }
  }
}

/* The int32 tile of rows [i0, i0 + mr) and the panel's channels; rows past mr repeat the first. */
static void tile_rows_s8(const int8_t *a, int64_t lda, const int16_t *panel, int32_t k, int64_t i0, int mr,
                         int32_t acc[MR][NR]) {
  const int8_t *rows[MR];
  for (int i = 0; i < MR; i++) {
    rows[i] = a + (i0 + (i < mr ? i : 0)) * lda;
    for (int j = 0; j < NR; j++) acc[i][j] = 0;
  }
  tile_s8(rows, mr, k, panel, acc);
}

/* Walks int8 A x packed B in MR x NR tiles over rows [m0, m1) and all n channels, handing each finished int32
 * tile to `store`. Inlined with a constant `store`, so each caller gets its own loop with the epilogue inlined. */
typedef void (*tile_store_fn)(int32_t acc[MR][NR], int64_t i0, int mr, int32_t n0, int nr, void *c, int64_t ldc,
                              const void *out);

static inline void tiles_s8(const int8_t *a, int64_t lda, const int16_t *packed, int32_t n, int32_t k, void *c,
                            int64_t ldc, int64_t m0, int64_t m1, tile_store_fn store, const void *out) {
  for (int32_t n0 = 0; n0 < n; n0 += NR) {
    const int16_t *panel = packed + (size_t)n0 * k;
    int32_t nr = n - n0 < NR ? n - n0 : NR;
    for (int64_t i0 = m0; i0 < m1; i0 += MR) {
      int mr = m1 - i0 < MR ? (int)(m1 - i0) : MR;
      int32_t acc[MR][NR];
      tile_rows_s8(a, lda, panel, k, i0, mr, acc);
      store(acc, i0, mr, n0, nr, c, ldc, out);
    }
  }
}

static void store_s8(int32_t acc[MR][NR], int64_t i0, int mr, int32_t n0, int nr, void *c, int64_t ldc,
                     const void *pout) {
  const ep_gemm_s8_out *out = pout;
  for (int i = 0; i < mr; i++) {
    int8_t *dst = (int8_t *)c + (i0 + i) * ldc + n0;
    for (int j = 0; j < nr; j++) {
      int32_t ch = n0 + j;
      int32_t v = acc[i][j] + out->input_offset * out->weight_sums[ch];
      v = ep_add_wrap32(v, out->bias ? out->bias[ch] : 0);
      v = ep_mul_by_quantized_multiplier(v, out->multiplier[ch], out->shift[ch]) + out->output_offset;
      dst[j] = (int8_t)ep_clamp_i32(v, out->lo, out->hi);
    }
  }
}

static void store_f32(int32_t acc[MR][NR], int64_t i0, int mr, int32_t n0, int nr, void *c, int64_t ldc,
                      const void *pout) {
  const ep_gemm_hybrid_out *out = pout;
  for (int i = 0; i < mr; i++) {
    int64_t r = (i0 + i) * out->row_step;
    int32_t zp = out->zero_point[r];
    float rs = out->row_scale[r];
    float *dst = (float *)c + (i0 + i) * ldc + n0;
    for (int j = 0; j < nr; j++) {
      int32_t ch = n0 + j;
      float ws = out->weight_scale[ch];
      float v = (float)(acc[i][j] - zp * out->weight_sums[ch]);
      v = out->fold ? v * (rs * ws) : v * ws * rs;
      if (out->bias) v += out->bias[ch];
      dst[j] = v < out->lo ? out->lo : (v > out->hi ? out->hi : v);
    }
  }
}

void ep_gemm_s8(const int8_t *a, int64_t lda, const int16_t *packed, int32_t n, int32_t k, int8_t *c, int64_t ldc,
                int64_t m0, int64_t m1, const ep_gemm_s8_out *out) {
  tiles_s8(a, lda, packed, n, k, c, ldc, m0, m1, store_s8, out);
}

void ep_gemm_s8_f32(const int8_t *a, int64_t lda, const int16_t *packed, int32_t n, int32_t k, float *c, int64_t ldc,
                    int64_t m0, int64_t m1, const ep_gemm_hybrid_out *out) {
  tiles_s8(a, lda, packed, n, k, c, ldc, m0, m1, store_f32, out);
}
