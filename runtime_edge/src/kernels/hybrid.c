/* On-the-fly input quantization of the hybrid kernels (see hybrid.h). */
#include "hybrid.h"

#include <math.h>
#include <string.h>

#include "util.h"

enum { ALIGN = 64 };

static size_t aligned(size_t n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

size_t ep_hybrid_rows_bytes(int64_t rows, int64_t len) {
  return aligned((size_t)rows * (size_t)len) + aligned((size_t)rows * sizeof(float)) + (size_t)rows * sizeof(int32_t);
}

ep_hybrid_rows ep_hybrid_rows_at(void *scratch, int64_t rows, int64_t len) {
  uint8_t *base = scratch;
  size_t q_bytes = aligned((size_t)rows * (size_t)len);
  ep_hybrid_rows r = {(int8_t *)base, (float *)(base + q_bytes),
                      (int32_t *)(base + q_bytes + aligned((size_t)rows * sizeof(float)))};
  return r;
}

static void symmetric_row(const float *x, int64_t n, int8_t *q, float *scale, int32_t *zero_point) {
  float lo = n ? x[0] : 0.0f, hi = lo;
  for (int64_t i = 1; i < n; i++) {
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  float range = fabsf(lo) > fabsf(hi) ? fabsf(lo) : fabsf(hi);
  *zero_point = 0;
  if (range == 0.0f) {
    memset(q, 0, (size_t)n);
    *scale = 1.0f;
    return;
  }
  *scale = range / 127.0f;
  float inverse = 127.0f / range;
  for (int64_t i = 0; i < n; i++) {
    float v = roundf(x[i] * inverse);
    q[i] = (int8_t)(v > 127.0f ? 127 : (v < -127.0f ? -127 : (int32_t)v));
  }
}

/* As ai-edge-litert does on x86 (measured against its reference kernels): the scale is (max - min) / 255 in
 * float, the zero point is chosen in double, and values are rounded before the zero point is added. */
static void asymmetric_row(const float *x, int64_t n, int8_t *q, float *scale, int32_t *zero_point) {
  float lo = 0.0f, hi = 0.0f;
  for (int64_t i = 0; i < n; i++) {
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  if (lo == hi) {
    memset(q, 0, (size_t)n);
    *scale = 1.0f;
    *zero_point = 0;
    return;
  }
  float s = (hi - lo) / 255.0f;
  double from_min = -128.0 - lo / (double)s, from_max = 127.0 - hi / (double)s;
  double zp = 128.0 + fabs(lo / (double)s) < 127.0 + fabs(hi / (double)s) ? from_min : from_max;
  int32_t nudged = zp <= -128.0 ? -128 : (zp >= 127.0 ? 127 : (int32_t)round(zp));
  *scale = s;
  *zero_point = nudged;
  float inverse = (float)(1.0 / (double)s);
  for (int64_t i = 0; i < n; i++) {
    float v = roundf(x[i] * inverse) + (float)nudged;
    q[i] = (int8_t)(v > 127.0f ? 127 : (v < -128.0f ? -128 : (int32_t)v));
  }
}

typedef struct quantize_job {
  const float *x;
  int64_t len;
  int asymmetric;
  const ep_hybrid_rows *r;
} quantize_job;

static void quantize_range(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const quantize_job *j = arg;
  for (int64_t row = begin; row < end; row++) {
    const float *x = j->x + row * j->len;
    int8_t *q = j->r->q + row * j->len;
    if (j->asymmetric) asymmetric_row(x, j->len, q, &j->r->scale[row], &j->r->zero_point[row]);
    else symmetric_row(x, j->len, q, &j->r->scale[row], &j->r->zero_point[row]);
  }
}

void ep_hybrid_quantize(ep_context *ctx, const float *x, int64_t rows, int64_t len, int asymmetric,
                        const ep_hybrid_rows *r) {
  quantize_job job = {x, len, asymmetric, r};
  if (rows > 0) ep_parallel_for(ctx, rows, 1 + 16384 / (len > 0 ? len : 1), quantize_range, &job);
}

ep_status ep_hybrid_weight_scales(ep_context *ctx, const ep_node *node, const ep_tensor *w, int32_t channels,
                                  float **scales, int *per_channel) {
  ep_status st = ep_check_type(ctx, node, w, EP_INT8, "weights");
  if (st != EP_OK) return st;
  if (!w->is_constant)
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "int8 weights '%s' of a hybrid op must be a constant",
                          w->name);
  if (!w->scale || (w->quant_count != 1 && w->quant_count != channels))
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "weights '%s' need 1 or %d scales, have %d", w->name, channels,
                          w->quant_count);
  for (int32_t i = 0; w->zero_point && i < w->quant_count; i++)
    if (w->zero_point[i] != 0)
      return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "weights '%s' must be symmetric (zero point 0)",
                            w->name);
  float *s = ep_alloc_persistent(ctx, sizeof(float) * (size_t)channels + 1);
  if (!s) return EP_ERROR_MEMORY;
  int differ = 0;
  for (int32_t c = 0; c < channels; c++) {
    s[c] = w->scale[w->quant_count > 1 ? c : 0];
    differ = differ || s[c] != s[0];
  }
  if (per_channel) *per_channel = differ;
  *scales = s;
  return EP_OK;
}
