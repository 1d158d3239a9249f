/* libFuzzer target: mutated .tflite bytes through load, create, allocate, invoke and resize. */
#include <stddef.h>
#include <stdint.h>

#include "exercise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ep_exercise_model(data, size, 1);
  return 0;
}
