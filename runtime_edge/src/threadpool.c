/* Workers sleep on a condition variable until a new job generation starts, then claim chunks with an
 * atomic counter; the last one to finish wakes the caller. Chunks are about a quarter of an even share, so
 * an unevenly loaded core does not hold the others up. */
#include "threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "errors.h"

struct ep_threadpool {
  int threads;
  pthread_t *workers;
  pthread_mutex_t lock;
  pthread_cond_t wake, done;
  uint64_t generation;
  int stopping;
  int busy;                 /* workers still inside the current job */
  ep_range_fn fn;
  void *arg;
  int64_t n, chunk;
  atomic_llong next;
};

typedef struct worker_arg {
  ep_threadpool *pool;
  int id;
} worker_arg;

static void run_chunks(ep_threadpool *p, int id) {
  for (;;) {
    int64_t begin = atomic_fetch_add(&p->next, p->chunk);
    if (begin >= p->n) return;
    int64_t end = begin + p->chunk < p->n ? begin + p->chunk : p->n;
    p->fn(p->arg, begin, end, id);
  }
}

static void *worker_main(void *raw) {
  worker_arg wa = *(worker_arg *)raw;
  free(raw);
  ep_threadpool *p = wa.pool;
  uint64_t seen = 0;
  pthread_mutex_lock(&p->lock);
  for (;;) {
    while (!p->stopping && p->generation == seen) pthread_cond_wait(&p->wake, &p->lock);
    if (p->stopping) break;
    seen = p->generation;
    pthread_mutex_unlock(&p->lock);
    run_chunks(p, wa.id);
    pthread_mutex_lock(&p->lock);
    if (--p->busy == 0) pthread_cond_signal(&p->done);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

ep_status ep_threadpool_create(int threads, ep_threadpool **out) {
  ep_threadpool *p = calloc(1, sizeof *p);
  if (!p || !(p->workers = calloc((size_t)threads, sizeof *p->workers))) {
    free(p);
    return ep_fail(EP_ERROR_MEMORY, "out of memory creating %d threads", threads);
  }
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->wake, NULL);
  pthread_cond_init(&p->done, NULL);
  atomic_init(&p->next, 0);
  for (int i = 1; i < threads; i++) {
    worker_arg *wa = malloc(sizeof *wa);
    if (wa) *wa = (worker_arg){p, i};
    if (!wa || pthread_create(&p->workers[i], NULL, worker_main, wa) != 0) {
      free(wa);
      ep_threadpool_destroy(p);
      return ep_fail(EP_ERROR_MEMORY, "cannot start thread %d of %d", i, threads);
    }
    p->threads = i + 1;
  }
  *out = p;
  return EP_OK;
}

void ep_threadpool_destroy(ep_threadpool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->lock);
  p->stopping = 1;
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->lock);
  for (int i = 1; i < p->threads; i++) pthread_join(p->workers[i], NULL);
  pthread_cond_destroy(&p->wake);
  pthread_cond_destroy(&p->done);
  pthread_mutex_destroy(&p->lock);
  free(p->workers);
  free(p);
}

void ep_threadpool_run(ep_threadpool *p, int64_t n, int64_t grain, ep_range_fn fn, void *arg) {
  int64_t share = (n + 4 * p->threads - 1) / (4 * p->threads);
  int64_t chunk = share > grain ? share : (grain > 0 ? grain : 1);
  if (n <= chunk || p->threads < 2) {
    fn(arg, 0, n, 0);
    return;
  }
  pthread_mutex_lock(&p->lock);
  p->fn = fn;
  p->arg = arg;
  p->n = n;
  p->chunk = chunk;
  atomic_store(&p->next, 0);
  p->busy = p->threads - 1;
  p->generation++;
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->lock);
  run_chunks(p, 0);
  pthread_mutex_lock(&p->lock);
  while (p->busy > 0) pthread_cond_wait(&p->done, &p->lock);
  pthread_mutex_unlock(&p->lock);
}
