/* BATCH_MATMUL: out[..., m, n] = sum_k x[..., m, k] * y[..., k, n], with adj_x / adj_y transposing the last two
 * axes of an operand and NumPy broadcasting of the batch axes. Rows of the output (one m of one batch) are split
 * across threads; each row accumulates x[m, k] * y[k, :] over k, contiguous in n unless y is adjoint.
 *  - float32: float accumulation.
 *  - int8, int16 (16x8: int16 x with int16 or int8 y): sum (x - zx) * (y - zy) in 64-bit accumulators,
 *    requantized by sx * sy / s_out as TFLite's reference kernel (int16: its 64-bit requantization with a
 *    16-bit multiplier).
 *  - hybrid (float x, constant int8 y): TFLite's dynamic-range kernel; every row of x (k values, after adj_x)
 *    is quantized on the fly (hybrid.h; asymmetrically with asymmetric_quantize_inputs), the int32 sums are
 *    corrected by zero point x column sums of y and scaled by input scale x weight scale. */
#include "../kernel.h"
#include "hybrid.h"
#include "quant.h"
#include "util.h"
#include "vec.h"

enum { OPT_ADJ_X = 0, OPT_ADJ_Y = 1, OPT_ASYMMETRIC_INPUTS = 2 };

typedef struct bmm_params {
  int32_t batch_rank;
  int32_t batch_dims[EP_MAX_RANK];
  int64_t x_batch_stride[EP_MAX_RANK], y_batch_stride[EP_MAX_RANK]; /* in matrices; 0 when broadcast */
  int64_t x_matrices, y_matrices;
  int32_t m, n, k;
  int adj_x, adj_y;
  int acc_slot;                 /* quantized and hybrid: one accumulator row per thread */
  int32_t x_zp, y_zp, out_zp, qmin, qmax, mult, shift;
  int hybrid, asymmetric;
  int rows_slot, lhs_slot;      /* hybrid: quantized rows of x; x with adj_x undone (-1 when unused) */
  int32_t *weight_sums;         /* hybrid: per y matrix and column n */
  float *weight_scale;          /* hybrid: per column n */
} bmm_params;

typedef struct bmm_job {
  const bmm_params *p;
  const void *x, *y;
  void *out;
  void *acc;
  ep_hybrid_rows rows;
} bmm_job;

static ep_status plan(ep_context *ctx, ep_node *node, bmm_params *p) {
  ep_tensor *x = ep_input(ctx, node, 0), *y = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  if (x->rank < 2 || y->rank < 2)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "inputs need rank >= 2, have %d and %d", x->rank, y->rank);
  p->adj_x = ep_opt_bool(node, OPT_ADJ_X, 0);
  p->adj_y = ep_opt_bool(node, OPT_ADJ_Y, 0);
  int32_t xr = x->dims[x->rank - 2], xc = x->dims[x->rank - 1], yr = y->dims[y->rank - 2], yc = y->dims[y->rank - 1];
  p->m = p->adj_x ? xc : xr;
  p->k = p->adj_x ? xr : xc;
  p->n = p->adj_y ? yr : yc;
  if ((p->adj_y ? yc : yr) != p->k)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "inner dimensions %d and %d differ", p->k, p->adj_y ? yc : yr);
  int32_t xb = x->rank - 2, yb = y->rank - 2, rank = xb > yb ? xb : yb;
  p->batch_rank = rank;
  int64_t sx = 1, sy = 1;
  for (int32_t d = rank - 1; d >= 0; d--) {
    int32_t ix = d - (rank - xb), iy = d - (rank - yb);
    int32_t dx = ix >= 0 ? x->dims[ix] : 1, dy = iy >= 0 ? y->dims[iy] : 1;
    if (dx != dy && dx != 1 && dy != 1)
      return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "batch dimensions %d and %d do not broadcast", dx, dy);
    p->batch_dims[d] = dx > dy ? dx : dy;
    p->x_batch_stride[d] = dx == 1 ? 0 : sx;
    p->y_batch_stride[d] = dy == 1 ? 0 : sy;
    sx *= dx;
    sy *= dy;
  }
  p->x_matrices = sx;
  p->y_matrices = sy;
  int32_t dims[EP_MAX_RANK];
  for (int32_t d = 0; d < rank; d++) dims[d] = p->batch_dims[d];
  dims[rank] = p->m;
  dims[rank + 1] = p->n;
  return ep_set_shape(ctx, out, rank + 2, dims);
}

/* Matrix offsets of x and y for output matrix b. */
static void batch_offsets(const bmm_params *p, int64_t b, int64_t *bx, int64_t *by) {
  int64_t rest = b;
  *bx = *by = 0;
  for (int32_t d = p->batch_rank - 1; d >= 0; d--) {
    *bx += (rest % p->batch_dims[d]) * p->x_batch_stride[d];
    *by += (rest % p->batch_dims[d]) * p->y_batch_stride[d];
    rest /= p->batch_dims[d];
  }
}

static ep_status request_acc(ep_context *ctx, ep_node *node, bmm_params *p, size_t es) {
  size_t bytes = (size_t)ep_num_threads(ctx) * (size_t)p->n * es;
  return ep_request_scratch(ctx, node, bytes ? bytes : 1, &p->acc_slot);
}

/* ---- float32 ---- */

static void rows_f32(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const bmm_job *j = arg;
  const bmm_params *p = j->p;
  int64_t mk = (int64_t)p->m * p->k, kn = (int64_t)p->k * p->n;
  for (int64_t r = begin; r < end; r++) {
    int64_t m = r % p->m, bx, by;
    batch_offsets(p, r / p->m, &bx, &by);
    const float *x = (const float *)j->x + bx * mk, *y = (const float *)j->y + by * kn;
    float *out = (float *)j->out + r * p->n;
    ep_vec_fill(out, 0.0f, p->n);
    for (int32_t k = 0; k < p->k; k++) {
      float a = p->adj_x ? x[(int64_t)k * p->m + m] : x[m * p->k + k];
      if (p->adj_y) {
        for (int32_t n = 0; n < p->n; n++) out[n] += a * y[(int64_t)n * p->k + k];
      } else {
        ep_vec_scale_add(out, a, y + (int64_t)k * p->n, p->n);
      }
    }
  }
}

/* ---- int8 / int16 ---- */

static ep_status prepare_quant(ep_context *ctx, ep_node *node, bmm_params *p) {
  ep_tensor *x = ep_input(ctx, node, 0), *y = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  ep_status st;
  int w8 = x->type == EP_INT16 && y->type == EP_INT8; /* 16x8: int16 activations times int8 weights */
  if (!w8 && (st = ep_check_type(ctx, node, y, x->type, "second input")) != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, out, x->type, "output")) != EP_OK) return st;
  const ep_tensor *ts[3] = {x, y, out};
  for (int i = 0; i < 3; i++)
    if ((st = ep_require_per_tensor_quant(ctx, node, ts[i])) != EP_OK) return st;
  p->x_zp = ep_zero_point(x);
  p->y_zp = ep_zero_point(y);
  p->out_zp = ep_zero_point(out);
  if (x->type == EP_INT16 && (p->x_zp || p->y_zp || p->out_zp))
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "int16 tensors must have zero point 0");
  int sh;
  ep_quantize_multiplier((double)ep_scale(x) * ep_scale(y) / ep_scale(out), &p->mult, &sh);
  p->shift = sh;
  ep_quant_limits(out->type, &p->qmin, &p->qmax);
  return request_acc(ctx, node, p, sizeof(int64_t));
}

#define ROWS_QUANT(name, T, TY, REQUANT)                                                                 \
  static void name(void *arg, int64_t begin, int64_t end, int thread) {                                 \
    const bmm_job *j = arg;                                                                              \
    const bmm_params *p = j->p;                                                                          \
    int64_t mk = (int64_t)p->m * p->k, kn = (int64_t)p->k * p->n;                                        \
    int64_t *acc = (int64_t *)j->acc + (size_t)thread * p->n;                                            \
    for (int64_t r = begin; r < end; r++) {                                                              \
      int64_t m = r % p->m, bx, by;                                                                      \
      batch_offsets(p, r / p->m, &bx, &by);                                                              \
      const T *x = (const T *)j->x + bx * mk;                                                            \
      const TY *y = (const TY *)j->y + by * kn;                                                          \
      for (int32_t n = 0; n < p->n; n++) acc[n] = 0;                                                     \
      for (int32_t k = 0; k < p->k; k++) {                                                               \
        int64_t a = (int64_t)(p->adj_x ? x[(int64_t)k * p->m + m] : x[m * p->k + k]) - p->x_zp;          \
        for (int32_t n = 0; n < p->n; n++)                                                               \
          acc[n] += a * ((int64_t)(p->adj_y ? y[(int64_t)n * p->k + k] : y[(int64_t)k * p->n + n]) - p->y_zp); \
      }                                                                                                  \
      T *out = (T *)j->out + r * p->n;                                                                   \
      for (int32_t n = 0; n < p->n; n++)                                                                 \
        out[n] = (T)ep_clamp_i32(REQUANT + p->out_zp, p->qmin, p->qmax);                                 \
    }                                                                                                    \
  }

/* int8 accumulates in int32 like TFLite (sums of int8 products stay far inside int32 for any real K). */
ROWS_QUANT(rows_s8, int8_t, int8_t, ep_mul_by_quantized_multiplier((int32_t)acc[n], p->mult, p->shift))
ROWS_QUANT(rows_s16, int16_t, int16_t, ep_mul_by_quantized_multiplier64(acc[n], p->mult, p->shift))
ROWS_QUANT(rows_s16x8, int16_t, int8_t, ep_mul_by_quantized_multiplier64(acc[n], p->mult, p->shift))

/* ---- hybrid: float x, constant int8 y ---- */

static ep_status prepare_hybrid(ep_context *ctx, ep_node *node, bmm_params *p) {
  ep_tensor *y = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  ep_status st = ep_hybrid_weight_scales(ctx, node, y, p->n, &p->weight_scale, NULL);
  if (st != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, out, EP_FLOAT32, "output")) != EP_OK) return st;
  p->hybrid = 1;
  p->asymmetric = ep_opt_bool(node, OPT_ASYMMETRIC_INPUTS, 0);
  int32_t *sums = ep_alloc_persistent(ctx, sizeof(int32_t) * (size_t)(p->y_matrices * p->n) + 1);
  if (!sums) return EP_ERROR_MEMORY;
  const int8_t *w = y->data;
  for (int64_t b = 0; b < p->y_matrices; b++)
    for (int32_t n = 0; n < p->n; n++) {
      int32_t s = 0;
      for (int32_t k = 0; k < p->k; k++)
        s += w[b * (int64_t)p->k * p->n + (p->adj_y ? (int64_t)n * p->k + k : (int64_t)k * p->n + n)];
      sums[b * p->n + n] = s;
    }
  p->weight_sums = sums;
  int64_t rows = p->x_matrices * p->m;
  if ((st = ep_request_scratch(ctx, node, ep_hybrid_rows_bytes(rows, p->k) + 1, &p->rows_slot)) != EP_OK) return st;
  p->lhs_slot = -1;
  size_t lhs_bytes = (size_t)rows * (size_t)p->k * sizeof(float);
  if (p->adj_x && (st = ep_request_scratch(ctx, node, lhs_bytes + 1, &p->lhs_slot)) != EP_OK) return st;
  return request_acc(ctx, node, p, sizeof(int32_t));
}

static void rows_hybrid(void *arg, int64_t begin, int64_t end, int thread) {
  const bmm_job *j = arg;
  const bmm_params *p = j->p;
  int64_t kn = (int64_t)p->k * p->n;
  int32_t *acc = (int32_t *)j->acc + (size_t)thread * p->n;
  for (int64_t r = begin; r < end; r++) {
    int64_t m = r % p->m, bx, by;
    batch_offsets(p, r / p->m, &bx, &by);
    int64_t row = bx * p->m + m;
    const int8_t *q = j->rows.q + row * p->k, *y = (const int8_t *)j->y + by * kn;
    for (int32_t n = 0; n < p->n; n++) acc[n] = 0;
    for (int32_t k = 0; k < p->k; k++) {
      int32_t a = q[k];
      if (p->adj_y) {
        for (int32_t n = 0; n < p->n; n++) acc[n] += a * y[(int64_t)n * p->k + k];
      } else {
        const int8_t *yk = y + (int64_t)k * p->n;
        for (int32_t n = 0; n < p->n; n++) acc[n] += a * yk[n];
      }
    }
    const int32_t *sums = p->weight_sums + by * p->n;
    int32_t zp = j->rows.zero_point[row];
    float sf = j->rows.scale[row];
    float *out = (float *)j->out + r * p->n;
    for (int32_t n = 0; n < p->n; n++) out[n] = (float)(acc[n] - zp * sums[n]) * (sf * p->weight_scale[n]);
  }
}

/* x with its last two axes swapped back (adj_x), so that every quantized row is contiguous. */
static const float *lhs_rows(ep_context *ctx, const ep_node *node, const bmm_params *p, const float *x) {
  if (!p->adj_x) return x;
  float *t = ep_scratch(ctx, node, p->lhs_slot);
  for (int64_t b = 0; b < p->x_matrices; b++)
    for (int32_t k = 0; k < p->k; k++)
      for (int32_t m = 0; m < p->m; m++)
        t[(b * p->m + m) * p->k + k] = x[(b * p->k + k) * p->m + m];
  return t;
}

/* ---- registration ---- */

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 2, 2, 1);
  if (st != EP_OK) return st;
  bmm_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  node->user_data = p;
  if ((st = plan(ctx, node, p)) != EP_OK) return st;
  p->acc_slot = -1;
  ep_tensor *x = ep_input(ctx, node, 0), *y = ep_input(ctx, node, 1);
  if (x->type == EP_INT8 || x->type == EP_INT16) return prepare_quant(ctx, node, p);
  if (y->type == EP_INT8) return prepare_hybrid(ctx, node, p);
  if ((st = ep_check_type(ctx, node, y, EP_FLOAT32, "second input")) != EP_OK) return st;
  return ep_check_type(ctx, node, ep_output(ctx, node, 0), EP_FLOAT32, "output");
}

static ep_status eval(ep_context *ctx, ep_node *node) {
  const bmm_params *p = node->user_data;
  ep_tensor *x = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  bmm_job job = {p, x->data, ep_input(ctx, node, 1)->data, out->data,
                 p->acc_slot >= 0 ? ep_scratch(ctx, node, p->acc_slot) : NULL, {NULL, NULL, NULL}};
  if (p->n == 0 || p->m == 0) return EP_OK;
  int y8 = ep_input(ctx, node, 1)->type == EP_INT8;
  ep_range_fn fn = x->type == EP_INT8 ? rows_s8 : x->type == EP_INT16 ? (y8 ? rows_s16x8 : rows_s16) : rows_f32;
  if (p->hybrid) {
    int64_t rows = p->x_matrices * p->m;
    job.rows = ep_hybrid_rows_at(ep_scratch(ctx, node, p->rows_slot), rows, p->k);
    ep_hybrid_quantize(ctx, lhs_rows(ctx, node, p, x->data), rows, p->k, p->asymmetric, &job.rows);
    fn = rows_hybrid;
  }
  ep_parallel_for(ctx, (int64_t)ep_num_elements(out) / p->n, 1, fn, &job);
  return EP_OK;
}

#define K(DT, NAME) {EP_OP_BATCH_MATMUL, DT, EP_ISA_REF, EP_OPTIONS_BatchMatMulOptions, NAME, prepare, eval}

const ep_kernel ep_kernels_batch_matmul[] = {
    K(EP_FLOAT32, "batch_matmul_f32_ref"),
    K(EP_INT8, "batch_matmul_s8_ref"),
    K(EP_INT16, "batch_matmul_s16_ref"),
    EP_KERNEL_END,
};
