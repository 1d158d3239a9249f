/* Op resolver: picks a kernel for (op, dtype) from the registry, preferring the best ISA the CPU has. */
#include "registry.h"

uint32_t ep_cpu_isa_mask(void) {
  uint32_t mask = 1u << EP_ISA_REF;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) mask |= 1u << EP_ISA_AVX2;
#elif defined(__aarch64__) || defined(__ARM_NEON)
  mask |= 1u << EP_ISA_NEON;
#endif
  return mask;
}

const ep_kernel *ep_kernel_find(int32_t op, int32_t dtype, uint32_t isa_mask) {
  int count;
  const ep_kernel *const *families = ep_kernel_families(&count);
  const ep_kernel *best = NULL;
  for (int f = 0; f < count; f++) {
    for (const ep_kernel *k = families[f]; k->op >= 0; k++) {
      if (k->op != op || (k->dtype != dtype && k->dtype != EP_ANY_DTYPE)) continue;
      if (k->isa < 0 || k->isa >= EP_ISA_COUNT || !(isa_mask & (1u << k->isa))) continue;
      /* An exact dtype beats EP_ANY_DTYPE; among equals the higher ISA wins. */
      if (!best || (best->dtype == EP_ANY_DTYPE && k->dtype == dtype) ||
          (best->dtype == k->dtype && k->isa > best->isa))
        best = k;
    }
  }
  return best;
}
