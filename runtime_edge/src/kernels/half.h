/* IEEE 754 half precision -> single precision, exact for every half value (subnormals, infinities, NaN). */
#ifndef EP_KERNELS_HALF_H
#define EP_KERNELS_HALF_H

#include <stdint.h>
#include <string.h>

static inline float ep_half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, mant = h & 0x3FF, bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else { /* subnormal: shift the mantissa up until it is normalized */
    uint32_t e = 113;
    while (!(mant & 0x400)) {
      mant <<= 1;
      e--;
    }
    bits = sign | (e << 23) | ((mant & 0x3FF) << 13);
  }
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

#endif
