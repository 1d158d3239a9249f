/* The memory planner interface: buffers with sizes and lifetimes in, offsets into one arena out.
 *
 * Lifetime rule: buffer i is live from the op index that first writes it (first_use) through the last op
 * index that reads it (last_use), both inclusive. Two buffers may share bytes only when their lifetimes do
 * not intersect; everything live at once gets disjoint ranges. Offsets are multiples of `align`.
 * Model inputs, outputs and variables are given the whole run as lifetime by the caller, so they never
 * overlap anything. Planning is deterministic: equal inputs give equal offsets. */
#ifndef EP_PLANNER_H
#define EP_PLANNER_H

#include <stddef.h>
#include <stdint.h>

#include "edgepress_rt.h"

typedef struct ep_plan_buffer {
  size_t size;
  int32_t first_use;
  int32_t last_use;
  size_t offset; /* output */
} ep_plan_buffer;

typedef struct ep_planner {
  const char *name;
  /* Sets every buffer's offset and *arena_bytes (the arena size needed), or fails with EP_ERROR_MEMORY. */
  ep_status (*plan)(ep_plan_buffer *buffers, int32_t count, size_t align, size_t *arena_bytes);
} ep_planner;

/* Greedy by size: largest first, each at the lowest offset free during its whole lifetime. */
extern const ep_planner ep_greedy_planner;

#endif
