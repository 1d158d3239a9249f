/* One pass of everything a model can drive: load (copying, so the bytes may be freed), create, allocate,
 * fill inputs, invoke, then (with `resize`) halve every input's spatial dims and run again. Shared by the
 * libFuzzer target and the C tests (which replay fuzz/regressions/ through it). Returns the furthest stage
 * reached, for statistics. */
#ifndef EP_FUZZ_EXERCISE_H
#define EP_FUZZ_EXERCISE_H

#include <stdint.h>
#include <string.h>

#include "edgepress_rt.h"

enum { STAGE_REJECTED, STAGE_LOADED, STAGE_CREATED, STAGE_ALLOCATED, STAGE_INVOKED };

static void ep_exercise_fill_inputs(ep_interpreter *it) {
  for (int32_t i = 0; i < ep_interpreter_input_count(it); i++) {
    ep_tensor_info info;
    if (ep_interpreter_tensor(it, ep_interpreter_input(it, i), &info) != EP_OK || !info.data) continue;
    uint8_t *p = info.data;
    /* Small, varied, finite values for every float/int type: a repeating byte ramp scaled down. */
    for (size_t k = 0; k < info.bytes; k++) p[k] = (uint8_t)(k * 7u % 61u);
    if (info.dtype == EP_FLOAT32)
      for (size_t k = 0; k + 4 <= info.bytes; k += 4) {
        float v = (float)(k % 97) / 97.0f;
        memcpy(p + k, &v, 4);
      }
  }
}

static int ep_exercise_model(const uint8_t *data, size_t size, int resize) {
  ep_model *model = NULL;
  if (ep_model_load_memory(data, size, 0, &model) != EP_OK) return STAGE_REJECTED;
  ep_interpreter *it = NULL;
  ep_options options = {1, 1, 0};
  ep_status st = ep_interpreter_create(model, &options, &it);
  ep_model_release(model);
  if (st != EP_OK) return STAGE_LOADED;
  int stage = STAGE_CREATED;
  if (ep_interpreter_allocate(it) == EP_OK) {
    stage = STAGE_ALLOCATED;
    ep_exercise_fill_inputs(it);
    if (ep_interpreter_invoke(it) == EP_OK) stage = STAGE_INVOKED;
    for (int32_t i = 0; resize && i < ep_interpreter_input_count(it); i++) {
      ep_tensor_info info;
      int32_t t = ep_interpreter_input(it, i);
      if (ep_interpreter_tensor(it, t, &info) != EP_OK) continue;
      for (int32_t d = 1; d < info.rank; d++) info.dims[d] = info.dims[d] > 1 ? info.dims[d] / 2 : info.dims[d];
      ep_interpreter_resize_input(it, t, info.rank, info.dims);
    }
    if (resize && ep_interpreter_allocate(it) == EP_OK) {
      ep_exercise_fill_inputs(it);
      ep_interpreter_invoke(it);
    }
  }
  ep_interpreter_destroy(it);
  return stage;
}

#endif
