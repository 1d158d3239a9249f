/* Packing GEMM weights at prepare or eval (see gemm_weights.h). */
#include "gemm_weights.h"

static void pack_f32(const ep_gemm_weights *gw, const float *w, float *packed) {
  for (int32_t g = 0; g < gw->groups; g++)
    ep_gemm_pack_f32(w + (size_t)g * gw->n * gw->k, gw->n, gw->k, packed + (size_t)g * ep_gemm_group_count(gw));
}

static void init(ep_gemm_weights *gw, int32_t groups, int32_t n, int32_t k) {
  gw->groups = groups;
  gw->n = n;
  gw->k = k;
  gw->packed = NULL;
  gw->slot = -1;
}

ep_status ep_gemm_weights_prepare_f32(ep_context *ctx, ep_node *node, const ep_tensor *w, int32_t groups, int32_t n,
                                      int32_t k, ep_gemm_weights *gw) {
  init(gw, groups, n, k);
  size_t bytes = (size_t)groups * ep_gemm_group_count(gw) * sizeof(float) + 1;
  if (!w->is_constant) return ep_request_scratch(ctx, node, bytes, &gw->slot);
  float *packed = ep_alloc_persistent(ctx, bytes);
  if (!packed) return EP_ERROR_MEMORY;
  pack_f32(gw, w->data, packed);
  gw->packed = packed;
  return EP_OK;
}

const float *ep_gemm_weights_f32(ep_context *ctx, ep_node *node, const ep_tensor *w, const ep_gemm_weights *gw) {
  if (gw->packed) return gw->packed;
  float *packed = ep_scratch(ctx, node, gw->slot);
  pack_f32(gw, w->data, packed);
  return packed;
}

ep_status ep_gemm_weights_prepare_s8(ep_context *ctx, const ep_tensor *w, int32_t groups, int32_t n, int32_t k,
                                     ep_gemm_weights *gw) {
  init(gw, groups, n, k);
  int16_t *packed = ep_alloc_persistent(ctx, (size_t)groups * ep_gemm_group_count(gw) * sizeof(int16_t) + 1);
  if (!packed) return EP_ERROR_MEMORY;
  const int8_t *wd = w->data;
  for (int32_t g = 0; g < groups; g++)
    ep_gemm_pack_s8(wd + (size_t)g * n * k, n, k, packed + (size_t)g * ep_gemm_group_count(gw));
  gw->packed = packed;
  return EP_OK;
}
