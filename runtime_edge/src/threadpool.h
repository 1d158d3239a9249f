/* A fixed pool of pthreads running one parallel_for at a time; the calling thread takes part as thread 0. */
#ifndef EP_THREADPOOL_H
#define EP_THREADPOOL_H

#include "kernel.h"

typedef struct ep_threadpool ep_threadpool;

/* `threads` >= 2 (callers run single-threaded work inline without a pool). */
ep_status ep_threadpool_create(int threads, ep_threadpool **out);
void ep_threadpool_destroy(ep_threadpool *pool);
/* Runs fn over [0, n) in chunks of at least `grain`; returns when all chunks are done. */
void ep_threadpool_run(ep_threadpool *pool, int64_t n, int64_t grain, ep_range_fn fn, void *arg);

#endif
