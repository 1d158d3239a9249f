/* C test driver: planner, thread pool and registry invariants; the real models (load three ways, create,
 * allocate, invoke); corrupted real models (truncations, byte flips and overwritten words in the structure
 * around the weights) that must give a status, never a crash; and every fuzz regression input.
 * usage: run_tests MODELS_DIR [REGRESSIONS_DIR]   (exit status = number of failed checks, capped) */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgepress_rt.h"
#include "exercise.h"
#include "flatbuffer.h"
#include "planner.h"
#include "registry.h"
#include "schema.h"
#include "threadpool.h"

static int failures, checks;

static void check(int ok, const char *fmt, ...) {
  checks++;
  if (ok) return;
  failures++;
  va_list args;
  va_start(args, fmt);
  fprintf(stderr, "FAIL: ");
  vfprintf(stderr, fmt, args);
  fprintf(stderr, "\n");
  va_end(args);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* ---- planner ---- */

static void check_plan(ep_plan_buffer *b, int32_t n, size_t align, const char *what) {
  size_t arena;
  check(ep_greedy_planner.plan(b, n, align, &arena) == EP_OK, "%s: plan failed", what);
  for (int32_t i = 0; i < n; i++) {
    check(b[i].offset % align == 0, "%s: buffer %d misaligned", what, i);
    check(b[i].offset + b[i].size <= arena, "%s: buffer %d outside the arena", what, i);
    for (int32_t j = i + 1; j < n; j++) {
      int live_together = b[i].first_use <= b[j].last_use && b[j].first_use <= b[i].last_use;
      int share = b[i].offset < b[j].offset + b[j].size && b[j].offset < b[i].offset + b[i].size;
      check(!(live_together && share && b[i].size && b[j].size), "%s: buffers %d and %d overlap", what, i, j);
    }
  }
  /* Lower bound: the bytes live at any single step. */
  for (int32_t step = 0; step < 64; step++) {
    size_t live = 0;
    for (int32_t i = 0; i < n; i++)
      if (b[i].first_use <= step && step <= b[i].last_use) live += b[i].size;
    check(live <= arena, "%s: arena %zu below live bytes %zu", what, arena, live);
  }
}

static void test_planner(void) {
  ep_plan_buffer chain[3] = {{100, 0, 1, 0}, {200, 1, 2, 0}, {100, 2, 3, 0}};
  size_t arena;
  ep_greedy_planner.plan(chain, 3, 64, &arena);
  /* 0 and 2 do not meet, so they share; 1 meets both: 128 + 256 = 384. */
  check(arena == 384, "planner chain: arena %zu, expected 384", arena);
  check_plan(chain, 3, 64, "chain");
  for (int round = 0; round < 200; round++) {
    ep_plan_buffer b[40];
    int32_t n = 1 + (int32_t)(rng() % 40);
    for (int32_t i = 0; i < n; i++) {
      int32_t first = (int32_t)(rng() % 50);
      b[i] = (ep_plan_buffer){rng() % 5000, first, first + (int32_t)(rng() % 14), 0};
    }
    ep_plan_buffer again[40];
    memcpy(again, b, sizeof b);
    check_plan(b, n, round % 2 ? 64 : 16, "random");
    size_t a1, a2;
    ep_greedy_planner.plan(again, n, round % 2 ? 64 : 16, &a1);
    ep_greedy_planner.plan(again, n, round % 2 ? 64 : 16, &a2);
    check(a1 == a2, "planner not deterministic");
  }
}

/* ---- thread pool ---- */

typedef struct coverage {
  atomic_int hits[5000];
  atomic_int bad_thread;
  int threads;
} coverage;

static void mark(void *arg, int64_t begin, int64_t end, int thread) {
  coverage *c = arg;
  if (thread < 0 || thread >= c->threads) atomic_fetch_add(&c->bad_thread, 1);
  for (int64_t i = begin; i < end; i++) atomic_fetch_add(&c->hits[i], 1);
}

static void test_threadpool(void) {
  static coverage c;
  for (int threads = 2; threads <= 4; threads++) {
    ep_threadpool *pool;
    check(ep_threadpool_create(threads, &pool) == EP_OK, "threadpool create %d", threads);
    int64_t sizes[] = {1, 7, 64, 999, 5000};
    for (int s = 0; s < 5; s++)
      for (int64_t grain = 1; grain <= 1024; grain *= 8) {
        memset(&c, 0, sizeof c);
        c.threads = threads;
        ep_threadpool_run(pool, sizes[s], grain, mark, &c);
        int ok = atomic_load(&c.bad_thread) == 0;
        for (int64_t i = 0; i < sizes[s]; i++) ok &= atomic_load(&c.hits[i]) == 1;
        check(ok, "parallel_for n=%lld grain=%lld threads=%d: each index exactly once", (long long)sizes[s],
              (long long)grain, threads);
      }
    ep_threadpool_destroy(pool);
  }
}

/* ---- registry ---- */

static void test_registry(void) {
  int count;
  const ep_kernel *const *families = ep_kernel_families(&count);
  int kernels = 0;
  for (int f = 0; f < count; f++)
    for (const ep_kernel *k = families[f]; k->op >= 0; k++, kernels++) {
      check(k->eval && k->name && k->op < EP_OP_COUNT && k->isa < EP_ISA_COUNT, "kernel %s malformed",
            k->name ? k->name : "?");
      check(k->options_type >= 0 && k->options_type < EP_OPTIONS_COUNT, "kernel %s options type", k->name);
      for (int g = 0; g <= f; g++)
        for (const ep_kernel *o = families[g]; o->op >= 0 && o != k; o++)
          check(!(o->op == k->op && o->dtype == k->dtype && o->isa == k->isa), "kernels %s and %s share a key",
                o->name, k->name);
    }
  check(kernels > 0, "registry is empty");
  check(ep_kernel_find(EP_OP_ADD, EP_FLOAT32, ep_cpu_isa_mask()) != NULL, "ADD float32 is registered");
  printf("registry: %d families, %d kernels\n", count, kernels);
}

/* ---- real models ---- */

typedef struct blob {
  uint8_t *data;
  size_t size;
} blob;

static blob read_file(const char *path) {
  blob b = {NULL, 0};
  FILE *f = fopen(path, "rb");
  if (!f) return b;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  /* 64-byte aligned so that EP_LOAD_BORROW uses the bytes in place. */
  b.data = n > 0 ? aligned_alloc(64, ((size_t)n + 63) & ~(size_t)63) : NULL;
  if (b.data && fread(b.data, 1, (size_t)n, f) == (size_t)n) b.size = (size_t)n;
  fclose(f);
  return b;
}

static void test_model(const char *path, const blob *b) {
  ep_model *from_file = NULL, *borrowed = NULL, *copied = NULL;
  check(ep_model_load_file(path, &from_file) == EP_OK, "%s: load file: %s", path, ep_last_error());
  check(ep_model_load_memory(b->data, b->size, EP_LOAD_BORROW, &borrowed) == EP_OK, "%s: load borrowed", path);
  check(ep_model_load_memory(b->data + 0, b->size, 0, &copied) == EP_OK, "%s: load copied", path);
  ep_interpreter *it = NULL;
  ep_options options = {2, 1, 0};
  ep_status st = from_file ? ep_interpreter_create(from_file, &options, &it) : EP_ERROR_MODEL;
  check(st == EP_OK || st == EP_ERROR_UNSUPPORTED, "%s: create: %s", path, ep_last_error());
  if (st == EP_OK) {
    check(ep_interpreter_allocate(it) == EP_OK, "%s: allocate: %s", path, ep_last_error());
    ep_exercise_fill_inputs(it);
    check(ep_interpreter_invoke(it) == EP_OK, "%s: invoke: %s", path, ep_last_error());
    size_t arena = 0, naive = 0, persistent = 0;
    ep_interpreter_arena(it, &arena, &naive, &persistent);
    check(arena <= naive, "%s: arena %zu above naive %zu", path, arena, naive);
    printf("  %-48s arena %8zu B, naive %9zu B, persistent %8zu B\n", strrchr(path, '/') + 1, arena, naive,
           persistent);
  } else {
    printf("  %-48s %s\n", strrchr(path, '/') + 1, ep_last_error());
  }
  ep_interpreter_destroy(it);
  ep_model_release(from_file);
  ep_model_release(borrowed);
  ep_model_release(copied);
}

/* ---- corruption ---- */

static void exercise_mutant(const blob *orig, uint8_t *scratch, size_t size, int *stages) {
  stages[ep_exercise_model(scratch, size, 0)]++;
  memcpy(scratch, orig->data, orig->size);
  checks++;
}

/* Marks the bytes of every buffer's inline data (the weights) in `weight`: flipping those only changes
 * numbers, so mutations go to the structure around them. The original model is verified, so the plain
 * readers are safe here. */
static void mark_weights(const blob *b, uint8_t *weight) {
  fb_buf fb = {b->data, b->size};
  uint32_t count;
  const uint8_t *buffers = fb_vector(&fb, fb_u32(b->data), MODEL_BUFFERS, &count);
  for (uint32_t i = 0; i < count; i++) {
    uint32_t n;
    const uint8_t *data = fb_vector(&fb, fb_vector_ref(&fb, buffers, i), BUFFER_DATA, &n);
    if (data) memset(weight + (data - b->data), 1, n);
  }
}

static size_t structure_position(const blob *b, const uint8_t *weight) {
  for (;;) {
    size_t at = (size_t)(rng() % b->size);
    if (!weight[at]) return at;
  }
}

static void test_corruption(const char *path, const blob *b, int mutants) {
  uint8_t *m = malloc(b->size), *weight = calloc(b->size, 1);
  int stages[STAGE_INVOKED + 1] = {0};
  memcpy(m, b->data, b->size);
  mark_weights(b, weight);
  for (int i = 0; i < mutants / 4; i++) {
    size_t cut = i < 64 ? (size_t)i : (size_t)(rng() % b->size);
    exercise_mutant(b, m, cut, stages);
  }
  for (int i = 0; i < mutants / 2; i++) {
    m[structure_position(b, weight)] ^= (uint8_t)(1u << (rng() % 8));
    exercise_mutant(b, m, b->size, stages);
  }
  static const uint32_t WORDS[] = {0, 1, 0x7fffffffu, 0x80000000u, 0xffffffffu, 0xfffffff0u, 0x10000u};
  for (int i = 0; i < mutants / 4; i++) {
    size_t at = structure_position(b, weight) & ~(size_t)3;
    uint32_t w = i % 2 ? (uint32_t)rng() : WORDS[rng() % 7];
    if (i % 3 == 0) w = (uint32_t)b->size - (uint32_t)at + (uint32_t)(rng() % 16);
    if (at + 4 > b->size) continue;
    memcpy(m + at, &w, 4);
    exercise_mutant(b, m, b->size, stages);
  }
  printf("  %-48s %d mutants: %d rejected, %d loaded, %d created, %d allocated, %d invoked\n",
         strrchr(path, '/') + 1, mutants, stages[0], stages[1], stages[2], stages[3], stages[4]);
  free(m);
  free(weight);
}

static int is_model(const char *name) {
  size_t n = strlen(name);
  return n > 7 && strcmp(name + n - 7, ".tflite") == 0;
}

static int list_dir(const char *dir, int models_only, char names[][512], int max) {
  DIR *d = opendir(dir);
  int n = 0;
  if (!d) return 0;
  for (struct dirent *e; (e = readdir(d)) && n < max;) {
    if (e->d_name[0] == '.' || (models_only && !is_model(e->d_name))) continue;
    snprintf(names[n++], 512, "%s/%s", dir, e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, 512, (int (*)(const void *, const void *))strcmp);
  return n;
}

int main(int argc, char **argv) {
  static char files[256][512];
  int mutants = getenv("EP_MUTANTS") ? atoi(getenv("EP_MUTANTS")) : 200;
  test_planner();
  test_threadpool();
  test_registry();
  if (argc > 1) {
    int n = list_dir(argv[1], 1, files, 256);
    check(n > 0, "no .tflite models in %s", argv[1]);
    printf("real models (%s):\n", argv[1]);
    for (int i = 0; i < n; i++) {
      blob b = read_file(files[i]);
      check(b.size > 0, "cannot read %s", files[i]);
      if (b.size) test_model(files[i], &b);
      free(b.data);
    }
    printf("corrupted models:\n");
    for (int i = 0; i < n; i++) {
      blob b = read_file(files[i]);
      if (b.size) test_corruption(files[i], &b, mutants);
      free(b.data);
    }
  }
  if (argc > 2) {
    int n = list_dir(argv[2], 0, files, 256);
    for (int i = 0; i < n; i++) {
      blob b = read_file(files[i]);
      ep_exercise_model(b.data ? b.data : (uint8_t *)"", b.size, 1);
      checks++;
      free(b.data);
    }
    printf("fuzz regressions replayed: %d\n", n);
  }
  printf("%d checks, %d failures\n", checks, failures);
  return failures > 100 ? 100 : failures;
}
