/* SELECT_V2: out = condition ? x : y with NumPy broadcasting of all three operands (x and y of any dtype,
 * condition bool). Output rows (all axes but the last) are split across threads; elements move as bytes. */
#include <string.h>

#include "../kernel.h"
#include "util.h"

typedef struct select_params {
  int32_t rank;
  int32_t dims[EP_MAX_RANK];
  int64_t strides[3][EP_MAX_RANK]; /* condition, x, y: element strides per output axis, 0 when broadcast */
  size_t es;
} select_params;

typedef struct select_job {
  const select_params *p;
  const uint8_t *cond, *x, *y;
  uint8_t *out;
} select_job;

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 3, 3, 1);
  if (st != EP_OK) return st;
  ep_tensor *t[3] = {ep_input(ctx, node, 0), ep_input(ctx, node, 1), ep_input(ctx, node, 2)};
  ep_tensor *out = ep_output(ctx, node, 0);
  if ((st = ep_check_type(ctx, node, t[0], EP_BOOL, "condition")) != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, t[2], t[1]->type, "y")) != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, out, t[1]->type, "output")) != EP_OK) return st;
  select_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  if ((st = ep_element_size(ctx, node, t[1], &p->es)) != EP_OK) return st;
  p->rank = 0;
  for (int i = 0; i < 3; i++) p->rank = t[i]->rank > p->rank ? t[i]->rank : p->rank;
  for (int32_t k = 0; k < p->rank; k++) {
    p->dims[k] = 1;
    for (int i = 0; i < 3; i++) {
      int32_t ik = k - (p->rank - t[i]->rank), d = ik >= 0 ? t[i]->dims[ik] : 1;
      if (d != 1 && p->dims[k] != 1 && d != p->dims[k])
        return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "operand shapes do not broadcast at axis %d", k);
      if (d != 1) p->dims[k] = d;
    }
  }
  for (int i = 0; i < 3; i++) {
    int64_t s = 1;
    for (int32_t k = p->rank - 1; k >= 0; k--) {
      int32_t ik = k - (p->rank - t[i]->rank), d = ik >= 0 ? t[i]->dims[ik] : 1;
      p->strides[i][k] = d == 1 ? 0 : s;
      s *= d;
    }
  }
  node->user_data = p;
  return ep_set_shape(ctx, out, p->rank, p->dims);
}

static void rows(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const select_job *j = arg;
  const select_params *p = j->p;
  int64_t inner = p->rank ? p->dims[p->rank - 1] : 1;
  int32_t last = p->rank - 1;
  for (int64_t row = begin; row < end; row++) {
    int64_t off[3] = {0, 0, 0}, rest = row;
    for (int32_t k = last - 1; k >= 0; k--) {
      int64_t i = rest % p->dims[k];
      rest /= p->dims[k];
      for (int t = 0; t < 3; t++) off[t] += i * p->strides[t][k];
    }
    for (int64_t i = 0; i < inner; i++) {
      int64_t c = off[0] + (p->rank ? i * p->strides[0][last] : 0);
      int64_t xi = off[1] + (p->rank ? i * p->strides[1][last] : 0);
      int64_t yi = off[2] + (p->rank ? i * p->strides[2][last] : 0);
      const uint8_t *src = j->cond[c] ? j->x + xi * (int64_t)p->es : j->y + yi * (int64_t)p->es;
      memcpy(j->out + (size_t)(row * inner + i) * p->es, src, p->es);
    }
  }
}

static ep_status eval(ep_context *ctx, ep_node *node) {
  const select_params *p = node->user_data;
  ep_tensor *out = ep_output(ctx, node, 0);
  select_job job = {p, ep_input(ctx, node, 0)->data, ep_input(ctx, node, 1)->data, ep_input(ctx, node, 2)->data,
                    out->data};
  int64_t n = (int64_t)ep_num_elements(out), inner = p->rank ? p->dims[p->rank - 1] : 1;
  if (n > 0) ep_parallel_for(ctx, n / inner, 1 + 4096 / inner, rows, &job);
  return EP_OK;
}

const ep_kernel ep_kernels_select[] = {
    {EP_OP_SELECT_V2, EP_BOOL, EP_ISA_REF, EP_OPTIONS_NONE, "select_v2_any_ref", prepare, eval},
    EP_KERNEL_END,
};
