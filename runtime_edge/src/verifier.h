/* Structural verification of a .tflite FlatBuffer (every offset, vtable, vector, string and union). */
#ifndef EP_VERIFIER_H
#define EP_VERIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "edgepress_rt.h"

/* EP_OK when the bytes are a well-formed TFLite Model flatbuffer; EP_ERROR_MODEL with a message naming the
 * problem and its byte position otherwise. */
ep_status ep_verify_flatbuffer(const uint8_t *data, size_t size);

#endif
