/* The activations that both the float (activations.c) and the int8 (activations_quant.c) families serve, as
 * one X-macro list X(op code, options tag, kernel name stem), so the two registration tables cannot drift. */
#ifndef EP_KERNELS_ACTIVATION_OPS_H
#define EP_KERNELS_ACTIVATION_OPS_H

#define EP_ACTIVATION_OPS(X)                                     \
  X(EP_OP_RELU, EP_OPTIONS_NONE, "relu")                         \
  X(EP_OP_RELU6, EP_OPTIONS_NONE, "relu6")                       \
  X(EP_OP_RELU_N1_TO_1, EP_OPTIONS_NONE, "relu_n1_to_1")         \
  X(EP_OP_LEAKY_RELU, EP_OPTIONS_LeakyReluOptions, "leaky_relu") \
  X(EP_OP_LOGISTIC, EP_OPTIONS_NONE, "logistic")                 \
  X(EP_OP_TANH, EP_OPTIONS_NONE, "tanh")                         \
  X(EP_OP_HARD_SWISH, EP_OPTIONS_NONE, "hard_swish")

#endif
