/* L2_NORMALIZATION over the last axis: float32 and int8.
 *  - float32: x / max(sqrt(sum x^2), 1e-6), as TFLite.
 *  - int8 (output scale 1/128, zero point 0): the integer sum of (x - zero point)^2 is inverted by TFLite's
 *    fixed-point inverse square root and every (x - zero point) rescaled by it into steps of 1/128. */
#include <math.h>

#include "../kernel.h"
#include "quant.h"
#include "util.h"

enum { OPT_ACTIVATION = 0 };

typedef struct l2_params {
  int64_t depth;
  int32_t in_zp;
} l2_params;

typedef struct l2_job {
  const l2_params *p;
  const void *in;
  void *out;
} l2_job;

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 1, 1, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *out = ep_output(ctx, node, 0);
  if ((st = ep_check_type(ctx, node, out, in->type, "output")) != EP_OK) return st;
  if (in->rank < 1) return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "input '%s' must have rank >= 1", in->name);
  if (ep_opt_i8(node, OPT_ACTIVATION, EP_ACT_NONE) != EP_ACT_NONE)
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "a fused activation is not supported");
  l2_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  p->depth = in->dims[in->rank - 1];
  if (in->type == EP_INT8) {
    if ((st = ep_require_per_tensor_quant(ctx, node, in)) != EP_OK) return st;
    if ((st = ep_require_per_tensor_quant(ctx, node, out)) != EP_OK) return st;
    if (ep_scale(out) != 1.0f / 128 || ep_zero_point(out) != 0)
      return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "int8 output must have scale 1/128 and zero point 0");
    p->in_zp = ep_zero_point(in);
  } else if (in->type != EP_FLOAT32) {
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "%s input is not supported", ep_dtype_name(in->type));
  }
  node->user_data = p;
  return ep_copy_shape(ctx, out, in);
}

static void rows_f32(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const l2_job *j = arg;
  int64_t n = j->p->depth;
  for (int64_t r = begin; r < end; r++) {
    const float *x = (const float *)j->in + r * n;
    float *y = (float *)j->out + r * n;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += x[i] * x[i];
    float norm = sqrtf(sum);
    norm = norm > 1e-6f ? norm : 1e-6f;
    for (int64_t i = 0; i < n; i++) y[i] = x[i] / norm;
  }
}

static void rows_s8(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const l2_job *j = arg;
  int64_t n = j->p->depth;
  int32_t zp = j->p->in_zp;
  for (int64_t r = begin; r < end; r++) {
    const int8_t *x = (const int8_t *)j->in + r * n;
    int8_t *y = (int8_t *)j->out + r * n;
    int32_t sum = 0;
    for (int64_t i = 0; i < n; i++) sum += (x[i] - zp) * (x[i] - zp);
    int32_t mult;
    int shift;
    ep_inv_sqrt_multiplier(sum, &mult, &shift);
    for (int64_t i = 0; i < n; i++)
      y[i] = (int8_t)ep_clamp_i32(ep_mul_by_quantized_multiplier(x[i] - zp, mult, shift + 7), -128, 127);
  }
}

static ep_status eval(ep_context *ctx, ep_node *node) {
  const l2_params *p = node->user_data;
  ep_tensor *in = ep_input(ctx, node, 0);
  if (p->depth == 0) return EP_OK;
  l2_job job = {p, in->data, ep_output(ctx, node, 0)->data};
  ep_parallel_for(ctx, (int64_t)ep_num_elements(in) / p->depth, 1 + 4096 / p->depth,
                  in->type == EP_INT8 ? rows_s8 : rows_f32, &job);
  return EP_OK;
}

const ep_kernel ep_kernels_l2_norm[] = {
    {EP_OP_L2_NORMALIZATION, EP_FLOAT32, EP_ISA_REF, EP_OPTIONS_L2NormOptions, "l2_norm_f32_ref", prepare, eval},
    {EP_OP_L2_NORMALIZATION, EP_INT8, EP_ISA_REF, EP_OPTIONS_L2NormOptions, "l2_norm_s8_ref", prepare, eval},
    EP_KERNEL_END,
};
