/* RESIZE_BILINEAR (float32; int8 and int16 in TFLite's 10-bit fixed point) and RESIZE_NEAREST_NEIGHBOR
 * (any dtype) on NHWC tensors, with TFLite's align_corners / half_pixel_centers coordinate rules. The
 * source coordinates of every output row and column are computed once at prepare; eval interpolates whole
 * channel rows, output rows split across threads. The size operand must be a constant. */
#include <math.h>
#include <string.h>

#include "../kernel.h"
#include "util.h"
#include "vec.h"

/* ResizeBilinearOptions: new_height, new_width (deprecated), align_corners, half_pixel_centers.
 * ResizeNearestNeighborOptions: align_corners, half_pixel_centers. */
enum { BILINEAR_OPT_ALIGN = 2, BILINEAR_OPT_HALF_PIXEL = 3, NEAREST_OPT_ALIGN = 0, NEAREST_OPT_HALF_PIXEL = 1 };

/* Source of one output coordinate: the two neighbours and the fraction toward the second (float path), or
 * the 10-bit fixed-point position (integer path), or the nearest neighbour. */
typedef struct coord {
  int32_t lo, hi;
  float frac;
  int32_t pos10;
} coord;

typedef struct resize_params {
  int32_t batch, in_h, in_w, out_h, out_w, channels;
  size_t es;
  coord *ys, *xs;
} resize_params;

typedef struct resize_job {
  const resize_params *p;
  const uint8_t *in;
  uint8_t *out;
} resize_job;

static void bilinear_float_coord(int32_t i, float scale, int half_pixel, int32_t in_size, coord *c) {
  float v = half_pixel ? ((float)i + 0.5f) * scale - 0.5f : (float)i * scale;
  int32_t lo = (int32_t)floorf(v), hi = (int32_t)ceilf(v);
  c->lo = lo > 0 ? lo : 0;
  c->hi = hi < in_size - 1 ? hi : in_size - 1;
  c->frac = v - (float)c->lo;
}

static void bilinear_fixed_coord(int32_t i, int32_t scale10, int half_pixel, int32_t in_size, coord *c) {
  int32_t v = half_pixel ? i * scale10 + scale10 / 2 - (1 << 9) : i * scale10;
  int32_t lo = v / (1 << 10), hi = (v + (1 << 10) - 1) / (1 << 10); /* C division truncates, as TFLite's */
  c->lo = lo > 0 ? lo : 0;
  c->hi = hi < in_size - 1 ? hi : in_size - 1;
  c->pos10 = v;
}

static int32_t nearest_coord(int32_t i, int32_t in_size, int32_t out_size, int align, int half_pixel) {
  float scale = align && out_size > 1 ? (float)(in_size - 1) / (float)(out_size - 1) : (float)in_size / (float)out_size;
  float offset = half_pixel ? 0.5f : 0.0f;
  float v = ((float)i + offset) * scale;
  int32_t r = align ? (int32_t)roundf(v) : (int32_t)floorf(v);
  if (r > in_size - 1) r = in_size - 1;
  if (half_pixel && r < 0) r = 0;
  return r;
}

static ep_status prepare(ep_context *ctx, ep_node *node) {
  ep_status st = ep_check_arity(ctx, node, 2, 2, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *size = ep_input(ctx, node, 1), *out = ep_output(ctx, node, 0);
  if ((st = ep_check_rank(ctx, node, in, 4, "input")) != EP_OK) return st;
  if ((st = ep_check_type(ctx, node, out, in->type, "output")) != EP_OK) return st;
  if (!size->is_constant || size->type != EP_INT32 || ep_num_elements(size) != 2)
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "size '%s' must be a constant int32 [2]", size->name);
  int bilinear = node->builtin_code == EP_OP_RESIZE_BILINEAR;
  if (bilinear && in->type != EP_FLOAT32 && in->type != EP_INT8 && in->type != EP_INT16)
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "%s input is not supported", ep_dtype_name(in->type));
  resize_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  if ((st = ep_element_size(ctx, node, in, &p->es)) != EP_OK) return st;
  const int32_t *hw = size->data;
  p->batch = in->dims[0];
  p->in_h = in->dims[1];
  p->in_w = in->dims[2];
  p->channels = in->dims[3];
  p->out_h = hw[0];
  p->out_w = hw[1];
  if (p->out_h <= 0 || p->out_w <= 0 || p->in_h <= 0 || p->in_w <= 0)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "invalid sizes %dx%d -> %dx%d", p->in_h, p->in_w, p->out_h,
                          p->out_w);
  int align = ep_opt_bool(node, bilinear ? BILINEAR_OPT_ALIGN : NEAREST_OPT_ALIGN, 0);
  int half = ep_opt_bool(node, bilinear ? BILINEAR_OPT_HALF_PIXEL : NEAREST_OPT_HALF_PIXEL, 0);
  p->ys = ep_alloc_persistent(ctx, sizeof(coord) * (size_t)p->out_h);
  p->xs = ep_alloc_persistent(ctx, sizeof(coord) * (size_t)p->out_w);
  if (!p->ys || !p->xs) return EP_ERROR_MEMORY;
  int32_t in_sizes[2] = {p->in_h, p->in_w}, out_sizes[2] = {p->out_h, p->out_w};
  coord *tables[2] = {p->ys, p->xs};
  for (int d = 0; d < 2; d++) {
    int32_t n_in = in_sizes[d], n_out = out_sizes[d];
    for (int32_t i = 0; i < n_out; i++) {
      coord *c = &tables[d][i];
      if (!bilinear) {
        c->lo = c->hi = nearest_coord(i, n_in, n_out, align, half);
      } else if (in->type == EP_FLOAT32) {
        float scale = align && n_out > 1 ? (float)(n_in - 1) / (float)(n_out - 1) : (float)n_in / (float)n_out;
        bilinear_float_coord(i, scale, half, n_in, c);
      } else {
        int32_t scale10 = align && n_out > 1 ? ((1 << 10) * (n_in - 1) + (n_out - 1) / 2) / (n_out - 1)
                                             : ((1 << 10) * n_in + n_out / 2) / n_out;
        bilinear_fixed_coord(i, scale10, half, n_in, c);
      }
    }
  }
  node->user_data = p;
  int32_t dims[4] = {p->batch, p->out_h, p->out_w, p->channels};
  return ep_set_shape(ctx, out, 4, dims);
}

/* TFLite's float weighting of the four neighbours, in its order of operations. */
static inline void lerp4(float *restrict o, const float *restrict a, const float *restrict b,
                         const float *restrict c, const float *restrict d, float fy, float fx, int64_t n) {
  EP_FOR_VEC(k, n, o[k] = a[k] * (1 - fy) * (1 - fx) + b[k] * fy * (1 - fx) + c[k] * (1 - fy) * fx + d[k] * fy * fx);
}

static void rows_bilinear_f32(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const resize_job *j = arg;
  const resize_params *p = j->p;
  const float *in = (const float *)j->in;
  int64_t C = p->channels;
  for (int64_t row = begin; row < end; row++) {
    int64_t b = row / p->out_h;
    const coord *cy = &p->ys[row % p->out_h];
    const float *r0 = in + (b * p->in_h + cy->lo) * p->in_w * C, *r1 = in + (b * p->in_h + cy->hi) * p->in_w * C;
    float fy = cy->frac;
    for (int32_t x = 0; x < p->out_w; x++) {
      const coord *cx = &p->xs[x];
      float fx = cx->frac;
      const float *a = r0 + cx->lo * C, *bb = r1 + cx->lo * C, *c = r0 + cx->hi * C, *d = r1 + cx->hi * C;
      lerp4((float *)j->out + (row * p->out_w + x) * C, a, bb, c, d, fy, fx, C);
    }
  }
}

/* TFLite's ResizeBilinearInteger: 10-bit weights, a 20-bit product rounded half away from zero. */
#define ROWS_BILINEAR_INT(name, T)                                                                      \
  static void name(void *arg, int64_t begin, int64_t end, int thread) {                                 \
    (void)thread;                                                                                       \
    const resize_job *j = arg;                                                                          \
    const resize_params *p = j->p;                                                                      \
    const T *in = (const T *)j->in;                                                                     \
    int64_t C = p->channels;                                                                            \
    for (int64_t row = begin; row < end; row++) {                                                       \
      int64_t b = row / p->out_h;                                                                       \
      const coord *cy = &p->ys[row % p->out_h];                                                         \
      const T *r0 = in + (b * p->in_h + cy->lo) * p->in_w * C, *r1 = in + (b * p->in_h + cy->hi) * p->in_w * C; \
      int64_t wy1 = cy->pos10 - (1 << 10) * cy->lo, wy0 = (1 << 10) - wy1;                              \
      for (int32_t x = 0; x < p->out_w; x++) {                                                          \
        const coord *cx = &p->xs[x];                                                                    \
        int64_t wx1 = cx->pos10 - (1 << 10) * cx->lo, wx0 = (1 << 10) - wx1;                            \
        const T *a = r0 + cx->lo * C, *bb = r1 + cx->lo * C, *c = r0 + cx->hi * C, *d = r1 + cx->hi * C; \
        T *o = (T *)j->out + (row * p->out_w + x) * C;                                                  \
        for (int64_t k = 0; k < C; k++) {                                                               \
          int64_t v = a[k] * wy0 * wx0 + bb[k] * wy1 * wx0 + c[k] * wy0 * wx1 + d[k] * wy1 * wx1;       \
          o[k] = (T)((v + (v > 0 ? (1 << 19) : -(1 << 19))) / (1 << 20));                               \
        }                                                                                               \
      }                                                                                                 \
    }                                                                                                   \
  }

ROWS_BILINEAR_INT(rows_bilinear_s8, int8_t)
ROWS_BILINEAR_INT(rows_bilinear_s16, int16_t)

static void rows_nearest(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const resize_job *j = arg;
  const resize_params *p = j->p;
  size_t pixel = (size_t)p->channels * p->es;
  for (int64_t row = begin; row < end; row++) {
    int64_t b = row / p->out_h;
    const uint8_t *src = j->in + (size_t)((b * p->in_h + p->ys[row % p->out_h].lo) * p->in_w) * pixel;
    uint8_t *dst = j->out + (size_t)(row * p->out_w) * pixel;
    for (int32_t x = 0; x < p->out_w; x++) memcpy(dst + (size_t)x * pixel, src + (size_t)p->xs[x].lo * pixel, pixel);
  }
}

static ep_status eval(ep_context *ctx, ep_node *node) {
  const resize_params *p = node->user_data;
  ep_tensor *in = ep_input(ctx, node, 0);
  resize_job job = {p, in->data, ep_output(ctx, node, 0)->data};
  ep_range_fn fn = rows_nearest;
  if (node->builtin_code == EP_OP_RESIZE_BILINEAR)
    fn = in->type == EP_FLOAT32 ? rows_bilinear_f32 : in->type == EP_INT8 ? rows_bilinear_s8 : rows_bilinear_s16;
  if (p->channels > 0) ep_parallel_for(ctx, (int64_t)p->batch * p->out_h, 1, fn, &job);
  return EP_OK;
}

const ep_kernel ep_kernels_resize[] = {
    {EP_OP_RESIZE_BILINEAR, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_ResizeBilinearOptions, "resize_bilinear_ref",
     prepare, eval},
    {EP_OP_RESIZE_NEAREST_NEIGHBOR, EP_ANY_DTYPE, EP_ISA_REF, EP_OPTIONS_ResizeNearestNeighborOptions,
     "resize_nearest_any_ref", prepare, eval},
    EP_KERNEL_END,
};
