/* BATCH_MATMUL (float32): out[..., m, n] = sum_k x[..., m, k] * y[..., k, n], with adj_x / adj_y transposing
 * the last two axes of an operand and NumPy broadcasting of the batch axes. Rows of the output (one m of one
 * batch) are split across threads; each row accumulates x[m, k] * y[k, :] over k, contiguous in n unless
 * y is adjoint. */
#include "../kernel.h"
#include "util.h"
#include "vec.h"

enum { OPT_ADJ_X = 0, OPT_ADJ_Y = 1 };

typedef struct bmm_params {
  int32_t batch_rank;
  int32_t batch_dims[EP_MAX_RANK];
  int64_t x_batch_stride[EP_MAX_RANK], y_batch_stride[EP_MAX_RANK]; /* in matrices; 0 when broadcast */
  int32_t m, n, k;
  int adj_x, adj_y;
} bmm_params;

typedef struct bmm_job {
  const bmm_params *p;
  const float *x, *y;
  float *out;
} bmm_job;

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 2, 2, 1);
  if (st != EP_OK) return st;
  ep_tensor *x = ep_input(ctx, node, 0), *y = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  if ((st = ep_check_type(ctx, node, y, EP_FLOAT32, "second input")) != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, out, EP_FLOAT32, "output")) != EP_OK) return st;
  if (x->rank < 2 || y->rank < 2)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "inputs need rank >= 2, have %d and %d", x->rank, y->rank);
  bmm_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
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
  int32_t dims[EP_MAX_RANK];
  for (int32_t d = 0; d < rank; d++) dims[d] = p->batch_dims[d];
  dims[rank] = p->m;
  dims[rank + 1] = p->n;
  node->user_data = p;
  return ep_set_shape(ctx, out, rank + 2, dims);
}

static void rows(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const bmm_job *j = arg;
  const bmm_params *p = j->p;
  int64_t mk = (int64_t)p->m * p->k, kn = (int64_t)p->k * p->n;
  for (int64_t r = begin; r < end; r++) {
    int64_t b = r / p->m, m = r % p->m, rest = b, bx = 0, by = 0;
    for (int32_t d = p->batch_rank - 1; d >= 0; d--) {
      bx += (rest % p->batch_dims[d]) * p->x_batch_stride[d];
      by += (rest % p->batch_dims[d]) * p->y_batch_stride[d];
      rest /= p->batch_dims[d];
    }
    const float *x = j->x + bx * mk, *y = j->y + by * kn;
    float *out = j->out + r * p->n;
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

static ep_status eval(ep_context *ctx, ep_node *node) {
  const bmm_params *p = node->user_data;
  ep_tensor *out = ep_output(ctx, node, 0);
  bmm_job job = {p, ep_input(ctx, node, 0)->data, ep_input(ctx, node, 1)->data, out->data};
  if (p->n == 0 || p->m == 0) return EP_OK;
  ep_parallel_for(ctx, (int64_t)ep_num_elements(out) / p->n, 1, rows, &job);
  return EP_OK;
}

const ep_kernel ep_kernels_batch_matmul[] = {
    {EP_OP_BATCH_MATMUL, EP_FLOAT32, EP_ISA_REF, EP_OPTIONS_BatchMatMulOptions, "batch_matmul_f32_ref", prepare, eval},
    EP_KERNEL_END,
};
