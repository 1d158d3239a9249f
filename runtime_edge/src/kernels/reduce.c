/* Reductions over constant axes: MEAN, SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_PROD on float32 and int32 (MEAN
 * float32 only); quantized MEAN and SUM on int8 and int16, REDUCE_MAX / REDUCE_MIN on int8 and int16 (input and
 * output share their parameters, so the raw integers are compared); ARG_MAX / ARG_MIN (int32 or int64 indices of
 * the first extreme).
 *
 * Every input element is visited once in row-major order and folded into its output element (the input
 * index with reduced axes dropped), so float sums accumulate in TFLite's reference order. Quantized MEAN and
 * SUM sum (x - input zero point) in int32 and requantize the sum with one fixed-point multiplier before adding
 * the output zero point. int8 MEAN uses input_scale / (output_scale * count): exact against TFLite for spatial
 * means (global average pooling) and within 1 LSB where TFLite's generic path rounds differently. int16 MEAN
 * follows TFLite's generic kernel exactly: the multiplier of input_scale / output_scale with 1 / count folded
 * into its integer significand. SUM uses the same arithmetic without the count, within 1 LSB of TFLite's
 * optimized sum (which rescales in float). */
#include <float.h>
#include <string.h>

#include "../kernel.h"
#include "quant.h"
#include "util.h"

enum { REDUCER_OPT_KEEP_DIMS = 0, ARG_OPT_OUTPUT_TYPE = 0 };

typedef struct reduce_params {
  int32_t rank;
  int32_t dims[EP_MAX_RANK];
  int64_t out_strides[EP_MAX_RANK]; /* output stride of each input axis; 0 for reduced axes */
  int64_t count;                    /* input elements folded into each output element */
  int acc_slot;                     /* quantized MEAN / SUM: int32 accumulators */
  int32_t in_zp, out_zp, mult, shift;
  int32_t axis;                     /* ARG_MAX / ARG_MIN */
} reduce_params;

/* TFLite's fixed-point multiplier of a quantized MEAN (int16) or SUM: input_scale / output_scale, and for MEAN
 * 1 / count folded into the significand after shifting it up by floor(log2(count)) bits (at most 32, and no
 * further than a shift of -31 allows). */
static void sum_multiplier(double in_scale, double out_scale, int64_t count, int mean, int32_t *mult, int32_t *shift) {
  int sh;
  ep_quantize_multiplier(in_scale / out_scale, mult, &sh);
  if (mean && count > 0) {
    int up = 0;
    while (up < 63 && ((uint64_t)count >> (up + 1))) up++;
    up = up < 32 ? up : 32;
    up = up < 31 + sh ? up : 31 + sh;
    *mult = (int32_t)(((int64_t)*mult << up) / count);
    sh -= up;
  }
  *shift = sh;
}

/* Reads the axes operand, marks reduced axes in `reduced`; returns the number of distinct axes or -1. */
static int read_axes(const ep_tensor *axes, int32_t rank, int reduced[EP_MAX_RANK]) {
  memset(reduced, 0, sizeof(int) * EP_MAX_RANK);
  int n = 0;
  for (size_t i = 0; i < ep_num_elements(axes); i++) {
    int32_t a = ep_norm_axis(ep_index_at(axes, i), rank);
    if (a < 0) return -1;
    if (!reduced[a]++) n++;
  }
  return n;
}

static ep_status plan(ep_context *ctx, ep_node *node, const int reduced[EP_MAX_RANK], int keep_dims,
                      reduce_params *p) {
  ep_tensor *in = ep_input(ctx, node, 0);
  int32_t out_dims[EP_MAX_RANK], out_rank = 0;
  p->rank = in->rank;
  p->count = 1;
  for (int32_t k = 0; k < in->rank; k++) {
    p->dims[k] = in->dims[k];
    if (reduced[k]) {
      p->count *= in->dims[k];
      if (keep_dims) out_dims[out_rank++] = 1;
    } else {
      out_dims[out_rank++] = in->dims[k];
    }
  }
  int64_t s = 1;
  for (int32_t k = in->rank - 1; k >= 0; k--) {
    p->out_strides[k] = reduced[k] ? 0 : s;
    if (!reduced[k]) s *= in->dims[k];
  }
  return ep_set_shape(ctx, ep_output(ctx, node, 0), out_rank, out_dims);
}

/* Runs the trailing statement with `i` (input index) and `o` (output index) for every input element, in row-major order. */
#define FOR_EACH_ELEMENT(p, n, ...)                                          \
  do {                                                                       \
    int32_t idx_[EP_MAX_RANK] = {0};                                         \
    int64_t o = 0;                                                           \
    for (int64_t i = 0; i < (n); i++) {                                      \
      __VA_ARGS__;                                                           \
      for (int32_t k = (p)->rank - 1; k >= 0; k--) {                         \
        o += (p)->out_strides[k];                                            \
        if (++idx_[k] < (p)->dims[k]) break;                                 \
        o -= (p)->out_strides[k] * (p)->dims[k];                             \
        idx_[k] = 0;                                                         \
      }                                                                      \
    }                                                                        \
  } while (0)

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 2, 2, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *axes = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  if ((st = ep_check_const_index(ctx, node, axes, "axes")) != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, out, in->type, "output")) != EP_OK) return st;
  int op = node->builtin_code;
  int quantized = in->type == EP_INT8 || in->type == EP_INT16;
  int ok = in->type == EP_FLOAT32 || (in->type == EP_INT32 && op != EP_OP_MEAN) ||
           (quantized && op != EP_OP_REDUCE_PROD);
  if (!ok) return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "%s input is not supported", ep_dtype_name(in->type));
  reduce_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  int reduced[EP_MAX_RANK];
  if (read_axes(axes, in->rank, reduced) < 0)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "axes '%s' out of range for rank %d", axes->name, in->rank);
  if ((st = plan(ctx, node, reduced, ep_opt_bool(node, REDUCER_OPT_KEEP_DIMS, 0), p)) != EP_OK) return st;
  p->acc_slot = -1;
  node->user_data = p;
  if (!quantized) return EP_OK;
  if ((st = ep_require_per_tensor_quant(ctx, node, in)) != EP_OK) return st;
  if ((st = ep_require_per_tensor_quant(ctx, node, out)) != EP_OK) return st;
  p->in_zp = ep_zero_point(in);
  p->out_zp = ep_zero_point(out);
  if (in->type == EP_INT16 && (p->in_zp || p->out_zp))
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "int16 tensors must have zero point 0");
  if (op == EP_OP_REDUCE_MAX || op == EP_OP_REDUCE_MIN) {
    if (ep_scale(in) != ep_scale(out) || p->in_zp != p->out_zp)
      return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "input and output must share scale and zero point");
    return EP_OK;
  }
  if (in->type == EP_INT8 && op == EP_OP_MEAN) {
    double count = p->count > 0 ? (double)p->count : 1.0;
    ep_quantize_multiplier((double)ep_scale(in) / ((double)ep_scale(out) * count), &p->mult, &p->shift);
  } else {
    sum_multiplier(ep_scale(in), ep_scale(out), p->count, op == EP_OP_MEAN, &p->mult, &p->shift);
  }
  size_t bytes = ep_num_elements(out) * sizeof(int32_t);
  return ep_request_scratch(ctx, node, bytes ? bytes : 1, &p->acc_slot);
}

#define REDUCE_LOOP(T, INIT, FOLD)                                     \
  do {                                                                 \
    T *y = out->data;                                                  \
    const T *x = in->data;                                             \
    for (size_t k = 0; k < n_out; k++) y[k] = (INIT);                  \
    FOR_EACH_ELEMENT(p, n_in, { T a = y[o], v = x[i]; y[o] = (FOLD); }); \
  } while (0)

/* Quantized MEAN / SUM: int32 sums of (x - zero point), one requantization each. */
#define REQUANT_SUMS(ctx, node, T, QMIN, QMAX)                                                           \
  do {                                                                                                   \
    int32_t *acc = ep_scratch(ctx, node, p->acc_slot);                                                   \
    const T *x = in->data;                                                                               \
    T *y = out->data;                                                                                    \
    for (size_t k = 0; k < n_out; k++) acc[k] = 0;                                                       \
    FOR_EACH_ELEMENT(p, n_in, { acc[o] += x[i] - p->in_zp; });                                            \
    for (size_t k = 0; k < n_out; k++)                                                                   \
      y[k] = (T)ep_clamp_i32(ep_mul_by_quantized_multiplier(acc[k], p->mult, p->shift) + p->out_zp, QMIN, QMAX); \
  } while (0)

static ep_status eval(ep_context *ctx, ep_node *node) {
  const reduce_params *p = node->user_data;
  ep_tensor *in = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  int64_t n_in = (int64_t)ep_num_elements(in);
  size_t n_out = ep_num_elements(out);
  int op = node->builtin_code;
  if (op == EP_OP_REDUCE_MAX && in->type == EP_INT8) REDUCE_LOOP(int8_t, INT8_MIN, v > a ? v : a);
  else if (op == EP_OP_REDUCE_MIN && in->type == EP_INT8) REDUCE_LOOP(int8_t, INT8_MAX, v < a ? v : a);
  else if (op == EP_OP_REDUCE_MAX && in->type == EP_INT16) REDUCE_LOOP(int16_t, INT16_MIN, v > a ? v : a);
  else if (op == EP_OP_REDUCE_MIN && in->type == EP_INT16) REDUCE_LOOP(int16_t, INT16_MAX, v < a ? v : a);
  else if (in->type == EP_INT8) REQUANT_SUMS(ctx, node, int8_t, -128, 127);
  else if (in->type == EP_INT16) REQUANT_SUMS(ctx, node, int16_t, INT16_MIN, INT16_MAX);
  if (in->type == EP_INT8 || in->type == EP_INT16) return EP_OK;
  if (in->type == EP_FLOAT32) {
    switch (op) {
      case EP_OP_MEAN:
      case EP_OP_SUM: REDUCE_LOOP(float, 0.0f, a + v); break;
      case EP_OP_REDUCE_PROD: REDUCE_LOOP(float, 1.0f, a * v); break;
      case EP_OP_REDUCE_MAX: REDUCE_LOOP(float, -FLT_MAX, v > a ? v : a); break;
      default: REDUCE_LOOP(float, FLT_MAX, v < a ? v : a); break;
    }
    if (op == EP_OP_MEAN && p->count > 0)
      for (size_t k = 0; k < n_out; k++) ((float *)out->data)[k] /= (float)p->count;
    return EP_OK;
  }
  switch (op) {
    case EP_OP_SUM: REDUCE_LOOP(int32_t, 0, (int32_t)((uint32_t)a + (uint32_t)v)); break;
    case EP_OP_REDUCE_PROD: REDUCE_LOOP(int32_t, 1, (int32_t)((uint32_t)a * (uint32_t)v)); break;
    case EP_OP_REDUCE_MAX: REDUCE_LOOP(int32_t, INT32_MIN, v > a ? v : a); break;
    default: REDUCE_LOOP(int32_t, INT32_MAX, v < a ? v : a); break;
  }
  return EP_OK;
}

/* ---- ARG_MAX / ARG_MIN ---- */

static ep_status prepare_arg(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 2, 2, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *axis_t = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  if ((st = ep_check_const_index(ctx, node, axis_t, "axis")) != EP_OK) return st;
  if (in->type != EP_FLOAT32 && in->type != EP_INT32 && in->type != EP_INT8 && in->type != EP_UINT8 &&
      in->type != EP_INT16)
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "%s input is not supported", ep_dtype_name(in->type));
  if (out->type != EP_INT32 && out->type != EP_INT64)
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "output must be int32 or int64, not %s",
                          ep_dtype_name(out->type));
  reduce_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  int reduced[EP_MAX_RANK] = {0};
  p->axis = ep_norm_axis(ep_index_at(axis_t, 0), in->rank);
  if (p->axis < 0) return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "axis out of range for rank %d", in->rank);
  reduced[p->axis] = 1;
  node->user_data = p;
  return plan(ctx, node, reduced, 0, p);
}

static double load_as_double(const void *d, int32_t type, int64_t i) {
  switch (type) {
    case EP_FLOAT32: return ((const float *)d)[i];
    case EP_INT32: return ((const int32_t *)d)[i];
    case EP_INT8: return ((const int8_t *)d)[i];
    case EP_INT16: return ((const int16_t *)d)[i];
    default: return ((const uint8_t *)d)[i];
  }
}

static ep_status eval_arg(ep_context *ctx, ep_node *node) {
  const reduce_params *p = node->user_data;
  ep_tensor *in = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  int is_max = node->builtin_code == EP_OP_ARG_MAX;
  int64_t axis_len = p->dims[p->axis], inner = 1, outer = 1;
  for (int32_t k = p->axis + 1; k < p->rank; k++) inner *= p->dims[k];
  for (int32_t k = 0; k < p->axis; k++) outer *= p->dims[k];
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      int64_t base = o * axis_len * inner + i, best = 0;
      double best_v = axis_len ? load_as_double(in->data, in->type, base) : 0.0;
      for (int64_t a = 1; a < axis_len; a++) {
        double v = load_as_double(in->data, in->type, base + a * inner);
        if (is_max ? v > best_v : v < best_v) {
          best_v = v;
          best = a;
        }
      }
      if (out->type == EP_INT32) ((int32_t *)out->data)[o * inner + i] = (int32_t)best;
      else ((int64_t *)out->data)[o * inner + i] = best;
    }
  return EP_OK;
}

#define K(OP, DT, NAME) {OP, DT, EP_ISA_REF, EP_OPTIONS_ReducerOptions, NAME, prepare, eval}

const ep_kernel ep_kernels_reduce[] = {
    K(EP_OP_MEAN, EP_FLOAT32, "mean_f32_ref"),
    K(EP_OP_MEAN, EP_INT8, "mean_s8_ref"),
    K(EP_OP_MEAN, EP_INT16, "mean_s16_ref"),
    K(EP_OP_SUM, EP_FLOAT32, "sum_f32_ref"),
    K(EP_OP_SUM, EP_INT32, "sum_i32_ref"),
    K(EP_OP_SUM, EP_INT8, "sum_s8_ref"),
    K(EP_OP_SUM, EP_INT16, "sum_s16_ref"),
    K(EP_OP_REDUCE_MAX, EP_FLOAT32, "reduce_max_f32_ref"),
    K(EP_OP_REDUCE_MAX, EP_INT32, "reduce_max_i32_ref"),
    K(EP_OP_REDUCE_MAX, EP_INT8, "reduce_max_s8_ref"),
    K(EP_OP_REDUCE_MAX, EP_INT16, "reduce_max_s16_ref"),
    K(EP_OP_REDUCE_MIN, EP_FLOAT32, "reduce_min_f32_ref"),
    K(EP_OP_REDUCE_MIN, EP_INT32, "reduce_min_i32_ref"),
    K(EP_OP_REDUCE_MIN, EP_INT8, "reduce_min_s8_ref"),
    K(EP_OP_REDUCE_MIN, EP_INT16, "reduce_min_s16_ref"),
    K(EP_OP_REDUCE_PROD, EP_FLOAT32, "reduce_prod_f32_ref"),
    K(EP_OP_REDUCE_PROD, EP_INT32, "reduce_prod_i32_ref"),
    {EP_OP_ARG_MAX, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_ArgMaxOptions, "arg_max_ref", prepare_arg, eval_arg},
    {EP_OP_ARG_MIN, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_ArgMinOptions, "arg_min_ref", prepare_arg, eval_arg},
    EP_KERNEL_END,
};
