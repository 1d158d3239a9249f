/* The kernel registry: every kernel family's table, and the lookup the op resolver uses. */
#ifndef EP_REGISTRY_H
#define EP_REGISTRY_H

#include "kernel.h"

/* The family tables, in registration order (kernels/registry.c). */
const ep_kernel *const *ep_kernel_families(int *count);

/* Best kernel for (op, dtype) among the ISAs in `isa_mask` (bit 1 << ep_isa), preferring the highest ISA;
 * a kernel registered with EP_ANY_DTYPE matches any dtype. NULL when none. */
const ep_kernel *ep_kernel_find(int32_t op, int32_t dtype, uint32_t isa_mask);

/* ISAs this CPU can run, as a mask of 1 << ep_isa (always includes EP_ISA_REF). */
uint32_t ep_cpu_isa_mask(void);

#endif
