/* PAD, PADV2 and MIRROR_PAD with constant paddings ([rank, 2] before/after), any dtype.
 * PAD fills with zero (the output zero point for quantized tensors, i.e. real 0), PADV2 with its scalar
 * constant_values operand; MIRROR_PAD reflects (REFLECT: edge not repeated) or mirrors (SYMMETRIC: edge
 * repeated). Output rows (all axes but the last) are independent and split across threads. */
#include <string.h>

#include "../kernel.h"
#include "quant.h"
#include "util.h"

enum { MIRROR_OPT_MODE = 0 };
enum { MODE_CONSTANT = -1, MODE_REFLECT = 0, MODE_SYMMETRIC = 1 };

typedef struct pad_params {
  int32_t rank;
  int32_t in_dims[EP_MAX_RANK], out_dims[EP_MAX_RANK], before[EP_MAX_RANK];
  int64_t in_strides[EP_MAX_RANK];
  size_t es;
  int mode;
  uint8_t fill[8]; /* one element of the constant fill value */
} pad_params;

typedef struct pad_job {
  const pad_params *p;
  const uint8_t *in;
  uint8_t *out;
} pad_job;

/* Source index of output index i along an axis, or -1 for a constant-padded position. */
static int64_t source_index(const pad_params *p, int32_t axis, int64_t i) {
  int64_t n = p->in_dims[axis], j = i - p->before[axis];
  if (j >= 0 && j < n) return j;
  if (p->mode == MODE_CONSTANT) return -1;
  if (p->mode == MODE_REFLECT) return j < 0 ? -j : 2 * (n - 1) - j;
  return j < 0 ? -j - 1 : 2 * n - 1 - j;
}

static void fill_elems(uint8_t *dst, const uint8_t *fill, size_t es, int64_t n) {
  for (int64_t i = 0; i < n; i++) memcpy(dst + (size_t)i * es, fill, es);
}

static void pad_rows(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const pad_job *j = arg;
  const pad_params *p = j->p;
  int32_t last = p->rank - 1;
  int64_t inner = p->out_dims[last];
  size_t es = p->es;
  for (int64_t row = begin; row < end; row++) {
    uint8_t *dst = j->out + (size_t)(row * inner) * es;
    int64_t src = 0, rest = row;
    int outside = 0;
    for (int32_t k = last - 1; k >= 0; k--) {
      int64_t s = source_index(p, k, rest % p->out_dims[k]);
      rest /= p->out_dims[k];
      if (s < 0) outside = 1;
      else src += s * p->in_strides[k];
    }
    if (outside) {
      fill_elems(dst, p->fill, es, inner);
      continue;
    }
    const uint8_t *in = j->in + (size_t)src * es;
    int64_t b = p->before[last], n = p->in_dims[last];
    if (p->mode == MODE_CONSTANT) {
      fill_elems(dst, p->fill, es, b);
      memcpy(dst + (size_t)b * es, in, (size_t)n * es);
      fill_elems(dst + (size_t)(b + n) * es, p->fill, es, inner - b - n);
    } else {
      for (int64_t i = 0; i < inner; i++) memcpy(dst + (size_t)i * es, in + (size_t)source_index(p, last, i) * es, es);
    }
  }
}

static ep_status prepare(ep_context *ctx, ep_node *node) {
  int op = node->builtin_code;
  ep_status st = ep_check_arity(ctx, node, 2, op == EP_OP_PADV2 ? 3 : 2, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *pads = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  if ((st = ep_check_const_index(ctx, node, pads, "paddings")) != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, out, in->type, "output")) != EP_OK) return st;
  if (ep_num_elements(pads) != (size_t)in->rank * 2)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "paddings '%s' must be [%d, 2]", pads->name, in->rank);
  pad_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  if ((st = ep_element_size(ctx, node, in, &p->es)) != EP_OK) return st;
  if (p->es > sizeof p->fill) return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "element too large");
  p->mode = op == EP_OP_MIRROR_PAD ? ep_opt_i8(node, MIRROR_OPT_MODE, MODE_REFLECT) : MODE_CONSTANT;
  /* A rank-0 tensor is padded as a 1-element vector with no padding. */
  p->rank = in->rank ? in->rank : 1;
  p->in_dims[0] = p->out_dims[0] = 1;
  for (int32_t k = 0; k < in->rank; k++) {
    int64_t b = ep_index_at(pads, (size_t)k * 2), a = ep_index_at(pads, (size_t)k * 2 + 1);
    int64_t limit = p->mode == MODE_REFLECT ? in->dims[k] - 1 : p->mode == MODE_SYMMETRIC ? in->dims[k] : INT32_MAX;
    if (b < 0 || a < 0 || b > limit || a > limit)
      return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "invalid padding (%lld, %lld) for axis %d of size %d",
                            (long long)b, (long long)a, k, in->dims[k]);
    p->in_dims[k] = in->dims[k];
    p->before[k] = (int32_t)b;
    p->out_dims[k] = (int32_t)(in->dims[k] + b + a);
  }
  ep_strides(p->rank, p->in_dims, p->in_strides);
  if (op == EP_OP_PADV2 && ep_input(ctx, node, 2)) {
    ep_tensor *value = ep_input(ctx, node, 2);
    if (!value->is_constant || value->type != in->type || ep_num_elements(value) != 1)
      return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "constant_values '%s' must be a constant %s scalar",
                            value->name, ep_dtype_name(in->type));
    memcpy(p->fill, value->data, p->es);
  } else if (in->type == EP_INT8 || in->type == EP_UINT8 || in->type == EP_INT16) {
    int32_t zp = ep_zero_point(out);
    if (in->type == EP_INT16) {
      int16_t v = (int16_t)zp;
      memcpy(p->fill, &v, 2);
    } else {
      p->fill[0] = (uint8_t)zp;
    }
  }
  node->user_data = p;
  return ep_set_shape(ctx, out, in->rank, p->out_dims);
}

static ep_status eval(ep_context *ctx, ep_node *node) {
  const pad_params *p = node->user_data;
  pad_job job = {p, ep_input(ctx, node, 0)->data, ep_output(ctx, node, 0)->data};
  int64_t rows = 1;
  for (int32_t k = 0; k + 1 < p->rank; k++) rows *= p->out_dims[k];
  int64_t inner = p->out_dims[p->rank - 1];
  if (rows == 0 || inner == 0) return EP_OK;
  ep_parallel_for(ctx, rows, 1 + 16384 / (inner * (int64_t)p->es), pad_rows, &job);
  return EP_OK;
}

const ep_kernel ep_kernels_pad[] = {
    {EP_OP_PAD, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_NONE, "pad_any_ref", prepare, eval},
    {EP_OP_PADV2, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_NONE, "padv2_any_ref", prepare, eval},
    {EP_OP_MIRROR_PAD, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_MirrorPadOptions, "mirror_pad_any_ref", prepare, eval},
    EP_KERNEL_END,
};
