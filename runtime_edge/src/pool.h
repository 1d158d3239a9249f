/* A bump allocator over malloc'd blocks, freed all at once: holds a model's decoded tables and an
 * interpreter's persistent kernel data (allocated during prepare, released at the next prepare). */
#ifndef EP_POOL_H
#define EP_POOL_H

#include <stddef.h>

typedef struct ep_pool_block ep_pool_block;

typedef struct ep_pool {
  ep_pool_block *head;
  size_t used;   /* bytes handed out, for reporting */
} ep_pool;

/* 64-byte aligned, zeroed memory; NULL when out of memory or when `count * size` overflows. */
void *ep_pool_alloc(ep_pool *pool, size_t count, size_t size);
/* The same without zeroing, for memory the caller overwrites entirely. */
void *ep_pool_alloc_uninit(ep_pool *pool, size_t count, size_t size);
void ep_pool_free(ep_pool *pool);

#endif
