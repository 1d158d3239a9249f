/* FULLY_CONNECTED: out[b, n] = act(sum_k in[b, k] * W[n, k] + bias[n]); the input is read as [batch, K].
 * float32 and int8 use the blocked GEMM (gemm.h). Few rows (matrix-vector products, the common batch-1 case)
 * are split across threads by output channel panels, many rows by row blocks. Weights that are not
 * constants (float16 weights after DEQUANTIZE) are packed into scratch at every run. int16 activations with
 * int8 weights (16x8) use direct loops with 64-bit accumulators and a full-precision requantization.
 * Float input with constant int8 weights is TFLite's hybrid kernel: every input row is quantized on the fly
 * (hybrid.h; asymmetrically with asymmetric_quantize_inputs, else symmetrically), multiplied by the int8 GEMM
 * and rescaled to float by input scale x weight scale. */
#include "../kernel.h"
#include "channel_quant.h"
#include "gemm.h"
#include "gemm_weights.h"
#include "hybrid.h"
#include "quant.h"
#include "util.h"

/* FullyConnectedOptions field slots (schema.fbs). */
enum { OPT_ACTIVATION = 0, OPT_WEIGHTS_FORMAT = 1, OPT_KEEP_NUM_DIMS = 2, OPT_ASYMMETRIC_INPUTS = 3 };

enum { ROW_BLOCK = 4 * EP_GEMM_MR };

typedef struct fc_params {
  int32_t batch, n, k;
  int split_rows;     /* parallelize over row blocks rather than channel panels */
  ep_gemm_weights weights;
  float lo, hi;
  ep_channel_requant rq;
  int32_t *weight_sums;
  int hybrid, asymmetric, rows_slot; /* hybrid: on-the-fly input quantization */
  float *weight_scale;               /* hybrid: per output channel */
} fc_params;

typedef struct fc_job {
  const fc_params *p;
  const void *in, *packed, *bias, *weights;
  void *out;
  int bias64;
  ep_hybrid_rows rows; /* hybrid: the quantized input rows */
} fc_job;

static ep_status prepare_common(ep_context *ctx, ep_node *node, fc_params **out_p) {
  ep_status st = ep_check_arity(ctx, node, 2, 3, 1);
  if (st != EP_OK) return st;
  ep_tensor *in = ep_input(ctx, node, 0), *w = ep_input(ctx, node, 1), *bias = ep_input(ctx, node, 2);
  ep_tensor *out = ep_output(ctx, node, 0);
  if (ep_opt_i8(node, OPT_WEIGHTS_FORMAT, 0) != 0)
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "only the DEFAULT weights format is supported");
  if ((st = ep_check_rank(ctx, node, w, 2, "weights")) != EP_OK) return st;
  fc_params *p = ep_alloc_persistent(ctx, sizeof *p);
  if (!p) return EP_ERROR_MEMORY;
  p->n = w->dims[0];
  p->k = w->dims[1];
  size_t total = ep_num_elements(in);
  if (p->k <= 0 || total % (size_t)p->k != 0)
    return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "input '%s' (%zu values) is not a multiple of %d features",
                          in->name, total, p->k);
  p->batch = (int32_t)(total / (size_t)p->k);
  if ((st = ep_check_channel_count(ctx, node, bias, p->n)) != EP_OK) return st;
  p->split_rows = p->batch >= 2 * ROW_BLOCK;
  node->user_data = p;
  *out_p = p;
  if (ep_opt_bool(node, OPT_KEEP_NUM_DIMS, 0)) {
    if (in->rank < 1 || in->dims[in->rank - 1] != p->k)
      return ep_kernel_fail(ctx, node, EP_ERROR_MODEL, "keep_num_dims needs the input's last dimension to be %d",
                            p->k);
    int32_t dims[EP_MAX_RANK];
    for (int32_t i = 0; i < in->rank; i++) dims[i] = in->dims[i];
    dims[in->rank - 1] = p->n;
    return ep_set_shape(ctx, out, in->rank, dims);
  }
  int32_t dims[2] = {p->batch, p->n};
  return ep_set_shape(ctx, out, 2, dims);
}

/* Work units: row blocks, or channel panels of EP_GEMM_NR. */
static int64_t units(const fc_params *p) {
  return p->split_rows ? (p->batch + ROW_BLOCK - 1) / ROW_BLOCK : (p->n + EP_GEMM_NR - 1) / EP_GEMM_NR;
}

/* Channels [n0, n0 + nn) and rows [m0, m1) of work unit u. */
static void unit_range(const fc_params *p, int64_t u, int32_t *n0, int32_t *nn, int64_t *m0, int64_t *m1) {
  *n0 = 0, *nn = p->n, *m0 = 0, *m1 = p->batch;
  if (p->split_rows) {
    *m0 = u * ROW_BLOCK;
    *m1 = *m0 + ROW_BLOCK < p->batch ? *m0 + ROW_BLOCK : p->batch;
  } else {
    *n0 = (int32_t)u * EP_GEMM_NR;
    *nn = p->n - *n0 < EP_GEMM_NR ? p->n - *n0 : EP_GEMM_NR;
  }
}

/* ---- float32 ---- */

static ep_status prepare_hybrid(ep_context *ctx, ep_node *node, fc_params *p);

static ep_status prepare_f32(ep_context *ctx, ep_node *node) {
  fc_params *p;
  ep_status st = prepare_common(ctx, node, &p);
  if (st != EP_OK) return st;
  ep_tensor *w = ep_input(ctx, node, 1), *bias = ep_input(ctx, node, 2);
  if (w->type == EP_INT8) return prepare_hybrid(ctx, node, p);
  if ((st = ep_check_type(ctx, node, w, EP_FLOAT32, "weights")) != EP_OK) return st;
  st = ep_check_float_epilogue(ctx, node, bias, ep_opt_i8(node, OPT_ACTIVATION, EP_ACT_NONE), &p->lo, &p->hi);
  if (st != EP_OK) return st;
  return ep_gemm_weights_prepare_f32(ctx, node, w, 1, p->n, p->k, &p->weights);
}

static void units_f32(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const fc_job *j = arg;
  const fc_params *p = j->p;
  const float *in = j->in, *packed = j->packed, *bias = j->bias;
  float *out = j->out;
  for (int64_t u = begin; u < end; u++) {
    if (p->split_rows) {
      int64_t m0 = u * ROW_BLOCK, m1 = m0 + ROW_BLOCK < p->batch ? m0 + ROW_BLOCK : p->batch;
      ep_gemm_f32_out o = {bias, p->lo, p->hi};
      ep_gemm_f32(in, p->k, packed, p->n, p->k, out, p->n, m0, m1, &o);
    } else {
      int32_t n0 = (int32_t)u * EP_GEMM_NR, nn = p->n - n0 < EP_GEMM_NR ? p->n - n0 : EP_GEMM_NR;
      ep_gemm_f32_out o = {bias ? bias + n0 : NULL, p->lo, p->hi};
      ep_gemm_f32(in, p->k, packed + (size_t)n0 * p->k, nn, p->k, out + n0, p->n, 0, p->batch, &o);
    }
  }
}

static ep_status eval_hybrid(ep_context *ctx, ep_node *node);

static ep_status eval_f32(ep_context *ctx, ep_node *node) {
  const fc_params *p = node->user_data;
  if (p->hybrid) return eval_hybrid(ctx, node);
  ep_tensor *bias = ep_input(ctx, node, 2);
  fc_job job = {p, ep_input(ctx, node, 0)->data, ep_gemm_weights_f32(ctx, node, ep_input(ctx, node, 1), &p->weights),
                bias ? bias->data : NULL, NULL, ep_output(ctx, node, 0)->data, 0, {NULL, NULL, NULL}};
  ep_parallel_for(ctx, units(p), 1, units_f32, &job);
  return EP_OK;
}

/* ---- hybrid: float input, int8 weights ---- */

static ep_status prepare_hybrid(ep_context *ctx, ep_node *node, fc_params *p) {
  ep_tensor *w = ep_input(ctx, node, 1), *bias = ep_input(ctx, node, 2);
  ep_status st = ep_hybrid_weight_scales(ctx, node, w, p->n, &p->weight_scale, NULL);
  if (st != EP_OK) return st;
  p->hybrid = 1;
  p->asymmetric = ep_opt_bool(node, OPT_ASYMMETRIC_INPUTS, 0);
  st = ep_check_float_epilogue(ctx, node, bias, ep_opt_i8(node, OPT_ACTIVATION, EP_ACT_NONE), &p->lo, &p->hi);
  if (st != EP_OK) return st;
  if ((st = ep_gemm_weights_prepare_s8(ctx, w, 1, p->n, p->k, &p->weights)) != EP_OK) return st;
  if (!(p->weight_sums = ep_weight_sums_s8(ctx, w->data, p->n, p->k))) return EP_ERROR_MEMORY;
  return ep_request_scratch(ctx, node, ep_hybrid_rows_bytes(p->batch, p->k) + 1, &p->rows_slot);
}

static void units_hybrid(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const fc_job *j = arg;
  const fc_params *p = j->p;
  const int16_t *packed = j->packed;
  const float *bias = j->bias;
  for (int64_t u = begin; u < end; u++) {
    int32_t n0, nn;
    int64_t m0, m1;
    unit_range(p, u, &n0, &nn, &m0, &m1);
    ep_gemm_hybrid_out o = {bias ? bias + n0 : NULL, p->weight_sums + n0, p->weight_scale + n0, j->rows.scale,
                            j->rows.zero_point, 1, 1, p->lo, p->hi};
    ep_gemm_s8_f32(j->rows.q, p->k, packed + (size_t)n0 * p->k, nn, p->k, (float *)j->out + n0, p->n, m0, m1, &o);
  }
}

static ep_status eval_hybrid(ep_context *ctx, ep_node *node) {
  const fc_params *p = node->user_data;
  ep_tensor *bias = ep_input(ctx, node, 2);
  fc_job job = {p, NULL, p->weights.packed, bias ? bias->data : NULL, NULL, ep_output(ctx, node, 0)->data, 0,
                ep_hybrid_rows_at(ep_scratch(ctx, node, p->rows_slot), p->batch, p->k)};
  ep_hybrid_quantize(ctx, ep_input(ctx, node, 0)->data, p->batch, p->k, p->asymmetric, &job.rows);
  ep_parallel_for(ctx, units(p), 1, units_hybrid, &job);
  return EP_OK;
}

/* ---- quantized ---- */

static ep_status prepare_requant(ep_context *ctx, ep_node *node, fc_params *p) {
  ep_tensor *w = ep_input(ctx, node, 1);
  if (!w->is_constant)
    return ep_kernel_fail(ctx, node, EP_ERROR_UNSUPPORTED, "quantized weights '%s' must be a constant", w->name);
  return ep_prepare_channel_requant(ctx, node, p->n, ep_opt_i8(node, OPT_ACTIVATION, EP_ACT_NONE), "weights",
                                    &p->rq);
}

static ep_status prepare_s8(ep_context *ctx, ep_node *node) {
  fc_params *p;
  ep_status st = prepare_common(ctx, node, &p);
  if (st != EP_OK) return st;
  if ((st = prepare_requant(ctx, node, p)) != EP_OK) return st;
  ep_tensor *w = ep_input(ctx, node, 1), *bias = ep_input(ctx, node, 2);
  if (bias && (st = ep_check_type(ctx, node, bias, EP_INT32, "bias")) != EP_OK) return st;
  if ((st = ep_gemm_weights_prepare_s8(ctx, w, 1, p->n, p->k, &p->weights)) != EP_OK) return st;
  return (p->weight_sums = ep_weight_sums_s8(ctx, w->data, p->n, p->k)) ? EP_OK : EP_ERROR_MEMORY;
}

static void units_s8(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const fc_job *j = arg;
  const fc_params *p = j->p;
  const int8_t *in = j->in;
  const int16_t *packed = j->packed;
  const int32_t *bias = j->bias;
  int8_t *out = j->out;
  for (int64_t u = begin; u < end; u++) {
    int32_t n0, nn;
    int64_t m0, m1;
    unit_range(p, u, &n0, &nn, &m0, &m1);
    const ep_channel_requant *rq = &p->rq;
    ep_gemm_s8_out o = {bias ? bias + n0 : NULL, p->weight_sums + n0, rq->input_offset, rq->multiplier + n0,
                        rq->shift + n0, rq->output_offset, rq->lo, rq->hi};
    ep_gemm_s8(in, p->k, packed + (size_t)n0 * p->k, nn, p->k, out + n0, p->n, m0, m1, &o);
  }
}

static ep_status eval_s8(ep_context *ctx, ep_node *node) {
  const fc_params *p = node->user_data;
  ep_tensor *bias = ep_input(ctx, node, 2);
  fc_job job = {p, ep_input(ctx, node, 0)->data, p->weights.packed, bias ? bias->data : NULL, NULL,
                ep_output(ctx, node, 0)->data, 0, {NULL, NULL, NULL}};
  ep_parallel_for(ctx, units(p), 1, units_s8, &job);
  return EP_OK;
}

static ep_status prepare_s16(ep_context *ctx, ep_node *node) {
  fc_params *p;
  ep_status st = prepare_common(ctx, node, &p);
  if (st != EP_OK) return st;
  if ((st = prepare_requant(ctx, node, p)) != EP_OK) return st;
  if ((st = ep_check_bias_16x8(ctx, node, ep_input(ctx, node, 2))) != EP_OK) return st;
  p->split_rows = 1;
  return EP_OK;
}

/* One row block of the batch per unit. */
static void units_s16(void *arg, int64_t begin, int64_t end, int thread) {
  (void)thread;
  const fc_job *j = arg;
  const fc_params *p = j->p;
  const int16_t *in = j->in;
  const int8_t *w = j->weights;
  int16_t *out = j->out;
  for (int64_t m = begin * ROW_BLOCK; m < end * ROW_BLOCK && m < p->batch; m++) {
    for (int32_t c = 0; c < p->n; c++) {
      int64_t acc = 0;
      for (int32_t i = 0; i < p->k; i++) acc += (int64_t)in[m * p->k + i] * w[(size_t)c * p->k + i];
      acc = ep_add_wrap64(acc, ep_bias_16x8(j->bias, j->bias64, c));
      int32_t v = ep_mul_by_quantized_multiplier_full64(acc, p->rq.multiplier[c], p->rq.shift[c]);
      out[m * p->n + c] = (int16_t)ep_clamp_i32(v + p->rq.output_offset, p->rq.lo, p->rq.hi);
    }
  }
}

static ep_status eval_s16(ep_context *ctx, ep_node *node) {
  const fc_params *p = node->user_data;
  ep_tensor *bias = ep_input(ctx, node, 2);
  fc_job job = {p, ep_input(ctx, node, 0)->data, NULL, bias ? bias->data : NULL, ep_input(ctx, node, 1)->data,
                ep_output(ctx, node, 0)->data, bias && bias->type == EP_INT64, {NULL, NULL, NULL}};
  ep_parallel_for(ctx, units(p), 1, units_s16, &job);
  return EP_OK;
}

const ep_kernel ep_kernels_fully_connected[] = {
    {EP_OP_FULLY_CONNECTED, EP_FLOAT32, EP_ISA_REF, EP_OPTIONS_FullyConnectedOptions, "fc_f32_ref", prepare_f32,
     eval_f32},
    {EP_OP_FULLY_CONNECTED, EP_INT8, EP_ISA_REF, EP_OPTIONS_FullyConnectedOptions, "fc_s8_ref", prepare_s8,
     eval_s8},
    {EP_OP_FULLY_CONNECTED, EP_INT16, EP_ISA_REF, EP_OPTIONS_FullyConnectedOptions, "fc_s16x8_ref", prepare_s16,
     eval_s16},
    EP_KERNEL_END,
};
