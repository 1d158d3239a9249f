/* SOFTMAX (float32 with beta; int8 -> int8/int16) and LOG_SOFTMAX (float32) over the last axis.
 * Float rows subtract their max before exponentiating. int8 follows TFLite's table method: exp(-beta * s * d)
 * for every quantized distance d = max - x in [0, 255] is tabulated at prepare (expf in float, as TFLite),
 * a row sums its table entries in float and scales each by 1 / (sum * output_scale), rounding to nearest. */
#include <math.h>

#include "../kernel.h"
#include "quant.h"
#include "util.h"

enum { SOFTMAX_OPT_BETA = 0 };

typedef struct softmax_params {
  int64_t depth;
  float beta;
  float out_scale;
  int32_t out_zp, qmin, qmax;
  float table[256]; /* table[255 - d] = exp(-beta * input_scale * d) */
} softmax_params;

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
  } else if (in->type == EP_INT8 && node->builtin_code == EP_OP_SOFTMAX) {
    if (out->type != EP_INT8 && out->type != EP_INT16)
      return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "int8 input needs an int8 or int16 output, not %s",
                            ep_dtype_name(out->type));
    if ((st = ep_require_per_tensor_quant(ctx, node, in)) != EP_OK) return st;
    if ((st = ep_require_per_tensor_quant(ctx, node, out)) != EP_OK) return st;
    float scale = -ep_scale(in) * p->beta;
    for (int32_t d = 0; d <= 255; d++) p->table[255 - d] = expf(scale * (float)d);
    p->out_scale = ep_scale(out);
    p->out_zp = ep_zero_point(out);
    ep_quant_limits(out->type, &p->qmin, &p->qmax);
  } else {
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "%s input is not supported", ep_dtype_name(in->type));
  }
  node->user_data = p;
  return ep_copy_shape(ctx, out, in);
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
    int32_t max = -128;
    for (int64_t i = 0; i < n; i++) max = x[i] > max ? x[i] : max;
    const float *table = p->table + 255 - max; /* table[x] = exp(beta * s * (x - max)) for x <= max */
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += table[x[i]];
    float inv = 1.0f / (sum * p->out_scale);
    for (int64_t i = 0; i < n; i++) {
      int32_t q = ep_clamp_i32((int32_t)roundf(table[x[i]] * inv) + p->out_zp, p->qmin, p->qmax);
      if (j->out_type == EP_INT8) ((int8_t *)j->out)[r * n + i] = (int8_t)q;
      else ((int16_t *)j->out)[r * n + i] = (int16_t)q;
    }
  }
}

static ep_status eval(ep_context *ctx, ep_node *node) {
  const softmax_params *p = node->user_data;
  ep_tensor *in = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  if (p->depth == 0) return EP_OK;
  softmax_job job = {p, in->data, out->data, out->type};
  ep_range_fn fn = in->type == EP_INT8 ? rows_s8 : node->builtin_code == EP_OP_SOFTMAX ? rows_f32 : rows_log_f32;
  ep_parallel_for(ctx, (int64_t)ep_num_elements(in) / p->depth, 1 + 4096 / p->depth, fn, &job);
  return EP_OK;
}

const ep_kernel ep_kernels_softmax[] = {
    {EP_OP_SOFTMAX, EP_FLOAT32, EP_ISA_REF, EP_OPTIONS_SoftmaxOptions, "softmax_f32_ref", prepare, eval},
    {EP_OP_SOFTMAX, EP_INT8, EP_ISA_REF, EP_OPTIONS_SoftmaxOptions, "softmax_s8_ref", prepare, eval},
    {EP_OP_LOG_SOFTMAX, EP_FLOAT32, EP_ISA_REF, EP_OPTIONS_NONE, "log_softmax_f32_ref", prepare, eval},
    EP_KERNEL_END,
};
