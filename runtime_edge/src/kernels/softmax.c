/* SOFTMAX (float32 with beta; int8 -> int8/int16; int16 -> int16) and LOG_SOFTMAX (float32, int8) over the last
 * axis.
 * Float rows subtract their max before exponentiating. int8 follows TFLite's table method: exp(-beta * s * d)
 * for every quantized distance d = max - x in [0, 255] is tabulated at prepare (expf in float, as TFLite),
 * a row sums its table entries in float and scales each by 1 / (sum * output_scale), rounding to nearest;
 * int8 LOG_SOFTMAX takes the log of that sum and rounds (s (x - max) - log sum) / output_scale to nearest even,
 * as TFLite's optimized kernel. int16 follows TFLite's fixed-point kernel: distances to the row max are
 * rescaled so [-10, 0] spans [-65535, 0], exp is read from a 513-entry interpolated table, the sum's
 * reciprocal from a table of 1 / (1 + x) after normalizing the sum to [1, 2), and the product is rounded to the
 * 1/32768 output step. Both tables are built at prepare the way TFLite's LUTPopulate builds them (samples
 * biased by half the midpoint interpolation error), so the results equal TFLite's. */
#include <math.h>

#include "../kernel.h"
#include "quant.h"
#include "util.h"

enum { SOFTMAX_OPT_BETA = 0, LUT_STEPS = 512 };

typedef struct softmax_params {
  int64_t depth;
  float beta;
  float out_scale, in_scale;
  int32_t out_zp, qmin, qmax;
  float table[256]; /* table[255 - d] = exp(-beta * input_scale * d) */
  int32_t diff_mult, diff_shift;            /* int16: input distance -> steps of 10 / 65535 */
  int16_t exp_lut[LUT_STEPS + 1];           /* int16: exp on [-10, 0] */
  int16_t reciprocal_lut[LUT_STEPS + 1];    /* int16: 1 / (1 + x) on [0, 1] */
} softmax_params;

static double exp_fn(double x) { return exp(x); }
static double reciprocal_fn(double x) { return 1.0 / (1.0 + x); }

static double clamp16(double v) { return v < -32768.0 ? -32768.0 : (v > 32767.0 ? 32767.0 : v); }

/* TFLite's LUTPopulate for int16: f sampled at 512 steps over the input range [(-32768 - in_zp) * in_scale,
 * (32767 - in_zp) * in_scale] in units of out_scale, each sample lowered by half the error that linear
 * interpolation makes at the step's midpoint. */
static void lut_populate(double in_scale, int32_t in_zp, double out_scale, double (*f)(double), int16_t *lut) {
  double in_min = in_scale * (-32768 - in_zp), in_max = in_scale * (32767 - in_zp);
  double step = (in_max - in_min) / LUT_STEPS, half = step / 2;
  double inv = 65536.0 / (out_scale * 32767 - out_scale * -32768);
  for (int i = 0; i < LUT_STEPS; i++) {
    double v = f(in_min + i * step), mid = f(in_min + i * step + half), next = f(in_min + (i + 1) * step);
    double sample = round(v * inv);
    double interpolated = round((next * inv + round(v * inv)) / 2);
    double bias = round((interpolated - round(mid * inv)) / 2);
    lut[i] = (int16_t)clamp16(sample - bias);
  }
  lut[LUT_STEPS] = (int16_t)clamp16(round(f(in_max) * inv));
}

/* TFLite's LUTLookup: entry (value >> 7) + 256, interpolated by the low 7 bits. */
static inline int16_t lut_lookup(const int16_t *lut, int16_t value) {
  int index = 256 + (value >> 7), offset = value & 0x7f;
  int slope = lut[index + 1] - lut[index];
  return (int16_t)(lut[index] + ((slope * offset + 64) >> 7));
}

typedef struct softmax_job {
  const softmax_params *p;
  const void *in;
  void *out;
  int32_t out_type;
} softmax_job;

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 1, 1, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  if (in->rank < 1) return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "input '%s' must have rank >= 1", in->name);
  softmax_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  p->depth = in->dims[in->rank - 1];
  p->beta = node->builtin_code == EP_OP_SOFTMAX ? ep_opt_f32(node, SOFTMAX_OPT_BETA, 1.0f) : 1.0f;
  if (in->type == EP_FLOAT32) {
    if ((st = ep_check_type(ctx, node, out, EP_FLOAT32, "output")) != EP_OK) return st;
  } else if (in->type == EP_INT8) {
    if (out->type != EP_INT8 && (out->type != EP_INT16 || node->builtin_code != EP_OP_SOFTMAX))
      return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "int8 input cannot give a %s output",
                            ep_dtype_name(out->type));
    if ((st = ep_require_per_tensor_quant(ctx, node, in)) != EP_OK) return st;
    if ((st = ep_require_per_tensor_quant(ctx, node, out)) != EP_OK) return st;
    float scale = -ep_scale(in) * p->beta;
    for (int32_t d = 0; d <= 255; d++) p->table[255 - d] = expf(scale * (float)d);
    p->out_scale = ep_scale(out);
    p->out_zp = ep_zero_point(out);
    p->in_scale = ep_scale(in);
    ep_quant_limits(out->type, &p->qmin, &p->qmax);
  } else if (in->type == EP_INT16 && node->builtin_code == EP_OP_SOFTMAX) {
    if ((st = ep_check_type(ctx, node, out, EP_INT16, "output")) != EP_OK) return st;
    if ((st = ep_require_per_tensor_quant(ctx, node, in)) != EP_OK) return st;
    if ((st = ep_require_per_tensor_quant(ctx, node, out)) != EP_OK) return st;
    if (ep_zero_point(in) || ep_zero_point(out))
      return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "int16 tensors must have zero point 0");
    const double range = 65535.0;
    lut_populate(10.0 / range, 32767, 2.0 / range, exp_fn, p->exp_lut);
    lut_populate(1.0 / range, -32768, 2.0 / range, reciprocal_fn, p->reciprocal_lut);
    int sh;
    ep_quantize_multiplier((double)ep_scale(in) * p->beta / (10.0 / range), &p->diff_mult, &sh);
    p->diff_shift = sh;
  } else {
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "%s input is not supported", ep_dtype_name(in->type));
  }
  node->user_data = p;
  return ep_copy_shape(ctx, out, in);
}

/* The sum of exp(beta * s * (x - max)) over an int8 row; *max gets the row max and *table the table shifted so
 * that (*table)[x] = exp(beta * s * (x - max)) for x <= max. */
static float exp_sum_s8(const softmax_params *p, const int8_t *x, int32_t *max, const float **table) {
  int32_t m = -128;
  for (int64_t i = 0; i < p->depth; i++) m = x[i] > m ? x[i] : m;
  const float *t = p->table + 255 - m;
  float sum = 0.0f;
  for (int64_t i = 0; i < p->depth; i++) sum += t[x[i]];
  *max = m;
  *table = t;
  return sum;
}

static void rows_f32(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const softmax_job *j = arg;
  const softmax_params *p = j->p;
  int64_t n = p->depth;
  for (int64_t r = begin; r < end; r++) {
    const float *x = (const float *)j->in + r * n;
    float *y = (float *)j->out + r * n;
    float max = x[0], sum = 0.0f;
    for (int64_t i = 1; i < n; i++) max = x[i] > max ? x[i] : max;
    for (int64_t i = 0; i < n; i++) {
      y[i] = expf((x[i] - max) * p->beta);
      sum += y[i];
    }
    float inv = 1.0f / sum;
    for (int64_t i = 0; i < n; i++) y[i] *= inv;
  }
}

static void rows_log_f32(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const softmax_job *j = arg;
  int64_t n = j->p->depth;
  for (int64_t r = begin; r < end; r++) {
    const float *x = (const float *)j->in + r * n;
    float *y = (float *)j->out + r * n;
    float max = x[0], sum = 0.0f;
    for (int64_t i = 1; i < n; i++) max = x[i] > max ? x[i] : max;
    for (int64_t i = 0; i < n; i++) sum += expf(x[i] - max);
    float log_sum = logf(sum);
    for (int64_t i = 0; i < n; i++) y[i] = x[i] - max - log_sum;
  }
}

static void rows_s8(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const softmax_job *j = arg;
  const softmax_params *p = j->p;
  int64_t n = p->depth;
  for (int64_t r = begin; r < end; r++) {
    const int8_t *x = (const int8_t *)j->in + r * n;
    int32_t max;
    const float *table;
    float inv = 1.0f / (exp_sum_s8(p, x, &max, &table) * p->out_scale);
    for (int64_t i = 0; i < n; i++) {
      int32_t q = ep_clamp_i32((int32_t)roundf(table[x[i]] * inv) + p->out_zp, p->qmin, p->qmax);
      if (j->out_type == EP_INT8) ((int8_t *)j->out)[r * n + i] = (int8_t)q;
      else ((int16_t *)j->out)[r * n + i] = (int16_t)q;
    }
  }
}

static void rows_log_s8(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const softmax_job *j = arg;
  const softmax_params *p = j->p;
  int64_t n = p->depth;
  for (int64_t r = begin; r < end; r++) {
    const int8_t *x = (const int8_t *)j->in + r * n;
    int8_t *y = (int8_t *)j->out + r * n;
    int32_t max;
    const float *table;
    float sum = exp_sum_s8(p, x, &max, &table);
    float scale = p->in_scale / p->out_scale;
    float offset = (p->in_scale * (float)max + logf(sum)) / p->out_scale;
    for (int64_t i = 0; i < n; i++) {
      int32_t q = (int32_t)rintf(scale * (float)x[i] - offset) + p->out_zp;
      y[i] = (int8_t)ep_clamp_i32(q, p->qmin, p->qmax);
    }
  }
}

static void rows_s16(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const softmax_job *j = arg;
  const softmax_params *p = j->p;
  int64_t n = p->depth;
  for (int64_t r = begin; r < end; r++) {
    const int16_t *x = (const int16_t *)j->in + r * n;
    int16_t *y = (int16_t *)j->out + r * n;
    int32_t max = INT16_MIN, sum = 0;
    for (int64_t i = 0; i < n; i++) max = x[i] > max ? x[i] : max;
    for (int64_t i = 0; i < n; i++) { /* exp(x - max) in Q0.15, kept in the output */
      int32_t scaled = ep_mul_by_quantized_multiplier(x[i] - max, p->diff_mult, p->diff_shift) + 32767;
      y[i] = lut_lookup(p->exp_lut, (int16_t)ep_clamp_i32(scaled, INT16_MIN, INT16_MAX));
      sum += y[i];
    }
    /* 1 / sum: the sum normalized to [1, 2) in Q1.15, less one, re-centred on the table's [-32768, 32767] */
    int headroom = ep_clz32((uint32_t)sum);
    int32_t normalized = (int32_t)((((int64_t)sum << (headroom - 1)) + (1 << 13)) >> 14);
    int32_t centred = ep_clamp_i32(normalized - ((1 << 15) + (1 << 16)), INT16_MIN, INT16_MAX);
    int64_t reciprocal = lut_lookup(p->reciprocal_lut, (int16_t)centred);
    int right = 31 - headroom;
    for (int64_t i = 0; i < n; i++) {
      int64_t v = ((int64_t)y[i] * reciprocal + ((int64_t)1 << (right - 1))) >> right;
      y[i] = (int16_t)(v < 0 ? 0 : (v > 32767 ? 32767 : v));
    }
  }
}

static ep_status eval(ep_context *ctx, ep_node *node) {
  const softmax_params *p = node->user_data;
  ep_tensor *in = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  if (p->depth == 0) return EP_OK;
  softmax_job job = {p, in->data, out->data, out->type};
  ep_range_fn fn = in->type == EP_INT8    ? (node->builtin_code == EP_OP_SOFTMAX ? rows_s8 : rows_log_s8)
                   : in->type == EP_INT16 ? rows_s16
                   : node->builtin_code == EP_OP_SOFTMAX ? rows_f32 : rows_log_f32;
  ep_parallel_for(ctx, (int64_t)ep_num_elements(in) / p->depth, 1 + 4096 / p->depth, fn, &job);
  return EP_OK;
}

const ep_kernel ep_kernels_softmax[] = {
    {EP_OP_SOFTMAX, EP_FLOAT32, EP_ISA_REF, EP_OPTIONS_SoftmaxOptions, "softmax_f32_ref", prepare, eval},
    {EP_OP_SOFTMAX, EP_INT8, EP_ISA_REF, EP_OPTIONS_SoftmaxOptions, "softmax_s8_ref", prepare, eval},
    {EP_OP_SOFTMAX, EP_INT16, EP_ISA_REF, EP_OPTIONS_SoftmaxOptions, "softmax_s16_ref", prepare, eval},
    {EP_OP_LOG_SOFTMAX, EP_FLOAT32, EP_ISA_REF, EP_OPTIONS_NONE, "log_softmax_f32_ref", prepare, eval},
    {EP_OP_LOG_SOFTMAX, EP_INT8, EP_ISA_REF, EP_OPTIONS_NONE, "log_softmax_s8_ref", prepare, eval},
    EP_KERNEL_END,
};
