/* DEPTH_TO_SPACE and SPACE_TO_DEPTH on NHWC tensors, any dtype: both are fixed permutations of a 6-d view
 * of the data, planned once at prepare as a strided copy (strided_copy.h).
 *   DEPTH_TO_SPACE: out[b, h*s + i, w*s + j, c] = in[b, h, w, (i*s + j)*C + c]
 *   SPACE_TO_DEPTH: out[b, h, w, (i*s + j)*C + c] = in[b, h*s + i, w*s + j, c] */
#include "../kernel.h"
#include "strided_copy.h"
#include "util.h"

enum { OPT_BLOCK_SIZE = 0 };

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_nhwc_unary(ctx, node);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0);
  int32_t s = ep_opt_i32(node, OPT_BLOCK_SIZE, 0);
  int32_t B = in->dims[0], H = in->dims[1], W = in->dims[2], C = in->dims[3];
  int to_space = node->builtin_code == EP_OP_DEPTH_TO_SPACE;
  if (s < 1 || (to_space ? C % (s * s) != 0 : H % s != 0 || W % s != 0))
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "block size %d does not divide input [%d,%d,%d,%d]", s, B, H,
                          W, C);
  ep_view *v;
  if ((st = ep_view_alloc(ctx, node, in, &v)) != EP_OK) return st;
  v->rank = 6;
  int32_t dims[4];
  if (to_space) {
    int32_t co = C / (s * s);
    int32_t vd[6] = {B, H, s, W, s, co};
    int64_t vs[6] = {(int64_t)H * W * C, (int64_t)W * C, (int64_t)s * co, C, co, 1};
    for (int k = 0; k < 6; k++) v->dims[k] = vd[k], v->strides[k] = vs[k];
    dims[0] = B, dims[1] = H * s, dims[2] = W * s, dims[3] = co;
  } else {
    int32_t vd[6] = {B, H / s, W / s, s, s, C};
    int64_t vs[6] = {(int64_t)H * W * C, (int64_t)s * W * C, (int64_t)s * C, (int64_t)W * C, C, 1};
    for (int k = 0; k < 6; k++) v->dims[k] = vd[k], v->strides[k] = vs[k];
    dims[0] = B, dims[1] = H / s, dims[2] = W / s, dims[3] = C * s * s;
  }
  return ep_view_install(ctx, node, v, 4, dims);
}

const ep_kernel ep_kernels_space_depth[] = {
    {EP_OP_DEPTH_TO_SPACE, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_DepthToSpaceOptions, "depth_to_space_any_ref",
     prepare, ep_view_eval},
    {EP_OP_SPACE_TO_DEPTH, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_SpaceToDepthOptions, "space_to_depth_any_ref",
     prepare, ep_view_eval},
    EP_KERNEL_END,
};
