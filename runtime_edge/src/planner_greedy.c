/* Greedy-by-size arena planning (see planner.h). Cost O(n^2) in the number of buffers, paid at allocate. */
#include <stdlib.h>

#include "errors.h"
#include "planner.h"

typedef struct sort_key {
  size_t size;
  int32_t first_use, index;
} sort_key;

/* Larger first; ties by earlier first use, then by index, so the plan is deterministic. */
static int by_size_desc(const void *a, const void *b) {
  const sort_key *x = a, *y = b;
  if (x->size != y->size) return x->size > y->size ? -1 : 1;
  if (x->first_use != y->first_use) return x->first_use < y->first_use ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

static int overlaps(const ep_plan_buffer *a, const ep_plan_buffer *b) {
  return a->first_use <= b->last_use && b->first_use <= a->last_use;
}

static size_t align_up(size_t v, size_t align) { return (v + align - 1) / align * align; }

static ep_status plan_greedy(ep_plan_buffer *buf, int32_t count, size_t align, size_t *arena_bytes) {
  *arena_bytes = 0;
  if (count <= 0) return EP_OK;
  sort_key *order = malloc((size_t)count * sizeof *order);
  int32_t *placed = malloc((size_t)count * sizeof *placed); /* placed buffers, by increasing offset */
  if (!order || !placed) {
    free(order);
    free(placed);
    return ep_fail(EP_ERROR_MEMORY, "out of memory planning %d buffers", count);
  }
  for (int32_t i = 0; i < count; i++) order[i] = (sort_key){buf[i].size, buf[i].first_use, i};
  qsort(order, (size_t)count, sizeof *order, by_size_desc);
  int32_t num_placed = 0;
  size_t total = 0;
  ep_status st = EP_OK;
  for (int32_t k = 0; k < count && st == EP_OK; k++) {
    ep_plan_buffer *b = &buf[order[k].index];
    size_t offset = 0;
    if (!b->size) { /* empty buffers take no bytes and never conflict */
      b->offset = 0;
      continue;
    }
    int32_t insert_at = num_placed;
    for (int32_t j = 0; j < num_placed; j++) {
      const ep_plan_buffer *p = &buf[placed[j]];
      if (!overlaps(b, p)) continue;
      if (offset + b->size <= p->offset) break;
      size_t end = align_up(p->offset + p->size, align);
      if (end > offset) offset = end;
    }
    for (int32_t j = 0; j < num_placed; j++)
      if (buf[placed[j]].offset > offset) {
        insert_at = j;
        break;
      }
    for (int32_t j = num_placed; j > insert_at; j--) placed[j] = placed[j - 1];
    placed[insert_at] = order[k].index;
    num_placed++;
    b->offset = offset;
    if (b->size > SIZE_MAX - offset) st = ep_fail(EP_ERROR_MEMORY, "arena size overflows");
    else if (offset + b->size > total) total = offset + b->size;
  }
  free(order);
  free(placed);
  *arena_bytes = align_up(total, align);
  return st;
}

const ep_planner ep_greedy_planner = {"greedy_by_size", plan_greedy};
