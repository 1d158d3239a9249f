#include "pool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define POOL_ALIGN 64
#define POOL_BLOCK (64 * 1024)

struct ep_pool_block {
  ep_pool_block *next;
  size_t size, top;
};

/* Payload starts one alignment unit after the block header so that it is 64-byte aligned. */
static uint8_t *payload(ep_pool_block *b) { return (uint8_t *)b + POOL_ALIGN; }

void *ep_pool_alloc_uninit(ep_pool *pool, size_t count, size_t size) {
  if (size && count > (SIZE_MAX - 2 * POOL_ALIGN) / size) return NULL;
  size_t bytes = (count * size + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
  ep_pool_block *b = pool->head;
  if (!b || b->size - b->top < bytes) {
    size_t cap = bytes > POOL_BLOCK ? bytes : POOL_BLOCK;
    b = aligned_alloc(POOL_ALIGN, POOL_ALIGN + cap);
    if (!b) return NULL;
    b->next = pool->head;
    b->size = cap;
    b->top = 0;
    pool->head = b;
  }
  void *p = payload(b) + b->top;
  b->top += bytes;
  pool->used += bytes;
  return p;
}

void *ep_pool_alloc(ep_pool *pool, size_t count, size_t size) {
  void *p = ep_pool_alloc_uninit(pool, count, size);
  if (p) memset(p, 0, count * size);
  return p;
}

void ep_pool_free(ep_pool *pool) {
  for (ep_pool_block *b = pool->head, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  pool->head = NULL;
  pool->used = 0;
}
