/* Registration table: one line per kernel family file (kernels/<family>.c defines ep_kernels_<family>[],
 * a list of ep_kernel ended by EP_KERNEL_END). Adding a family = adding its name to this list. */
#include "../registry.h"

#define EP_KERNEL_FAMILIES(X) \
  X(elementwise_add)          \
  X(elementwise_binary)       \
  X(elementwise_quant)        \
  X(elementwise_unary)        \
  X(elementwise_unary_quant)  \
  X(activations)              \
  X(activations_quant)        \
  X(activations_s16)          \
  X(conv)                     \
  X(depthwise_conv)           \
  X(fully_connected)          \
  X(pooling)                  \
  X(reshape)                  \
  X(transpose)                \
  X(slice)                    \
  X(concat_split)             \
  X(pad)                      \
  X(resize)                   \
  X(space_depth)              \
  X(quantize)                 \
  X(cast)                     \
  X(densify)                  \
  X(softmax)                  \
  X(l2_norm)                  \
  X(reduce)                   \
  X(transpose_conv)           \
  X(batch_matmul)             \
  X(gather)                   \
  X(tile)                     \
  X(comparison)               \
  X(logical)                  \
  X(select)                   \
  X(shape)

#define EP_DECLARE_FAMILY(family) extern const ep_kernel ep_kernels_##family[];
EP_KERNEL_FAMILIES(EP_DECLARE_FAMILY)

#define EP_LIST_FAMILY(family) ep_kernels_##family,
static const ep_kernel *const FAMILIES[] = {EP_KERNEL_FAMILIES(EP_LIST_FAMILY)};

const ep_kernel *const *ep_kernel_families(int *count) {
  *count = (int)(sizeof FAMILIES / sizeof FAMILIES[0]);
  return FAMILIES;
}
