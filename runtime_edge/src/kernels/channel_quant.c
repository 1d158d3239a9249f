/* Per-output-channel requantization constants (see channel_quant.h). */
#include "channel_quant.h"

#include "util.h"

ep_status ep_prepare_channel_requant(ep_context *ctx, const ep_node *node, int32_t channels, int activation,
                                    const char *role, ep_channel_requant *r) {
  return ep_prepare_channel_requant_of(ctx, node, ep_input(ctx, node, 0), ep_input(ctx, node, 1),
                                      ep_output(ctx, node, 0), channels, activation, role, r);
}

ep_status ep_prepare_channel_requant_of(ep_context *ctx, const ep_node *node, const ep_tensor *in,
                                       const ep_tensor *w, const ep_tensor *out, int32_t channels, int activation,
                                       const char *role, ep_channel_requant *r) {
  ep_status st;
  if ((st = ep_check_type(ctx, node, w, EP_INT8, role)) != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, out, in->type, "output")) != EP_OK) return st;
  if ((st = ep_require_per_tensor_quant(ctx, node, in)) != EP_OK) return st;
  if ((st = ep_require_per_tensor_quant(ctx, node, out)) != EP_OK) return st;
  if (!w->scale || (w->quant_count != 1 && w->quant_count != channels))
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "%s '%s' needs 1 or %d scales, has %d", role, w->name,
                          channels, w->quant_count);
  r->multiplier = ep_alloc_persistent(ctx, sizeof(int32_t) * (size_t)channels + 1);
  r->shift = ep_alloc_persistent(ctx, sizeof(int32_t) * (size_t)channels + 1);
  if (!r->multiplier || !r->shift) return EP_ERROR_MEMORY;
  for (int32_t c = 0; c < channels; c++) {
    double ws = w->scale[w->quant_count > 1 ? c : 0];
    int sh;
    ep_quantize_multiplier((double)ep_scale(in) * ws / (double)ep_scale(out), &r->multiplier[c], &sh);
    r->shift[c] = sh;
  }
  r->input_offset = -ep_zero_point(in);
  r->output_offset = ep_zero_point(out);
  int32_t qmin, qmax;
  ep_quant_limits(out->type, &qmin, &qmax);
  ep_activation_range_quant(activation, ep_scale(out), r->output_offset, qmin, qmax, &r->lo, &r->hi);
  return EP_OK;
}

ep_status ep_check_bias_16x8(ep_context *ctx, const ep_node *node, const ep_tensor *bias) {
  if (!bias || bias->type == EP_INT64 || bias->type == EP_INT32) return EP_OK;
  return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "16x8 bias '%s' is %s, expected int64 or int32",
                        bias->name, ep_dtype_name(bias->type));
}

int32_t *ep_weight_sums_s8(ep_context *ctx, const int8_t *w, int32_t n, int32_t k) {
  int32_t *sums = ep_alloc_persistent(ctx, sizeof(int32_t) * (size_t)n + 1);
  if (!sums) return NULL;
  for (int32_t c = 0; c < n; c++) {
    int32_t s = 0;
    for (int32_t i = 0; i < k; i++) s += w[(size_t)c * k + i];
    sums[c] = s;
  }
  return sums;
}
