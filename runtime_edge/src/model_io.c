/* Getting model bytes: a read-only mapping of a file, or caller memory used in place or copied once. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>

#include "errors.h"
#include "model.h"

/* Caller memory is used in place only at this alignment, which keeps every aligned flatbuffer vector
 * (and therefore every constant) aligned in memory too. */
#define BORROW_ALIGN 16

static ep_status finish(ep_model *m, ep_model **out) {
  atomic_init(&m->refs, 1);
  ep_status st = ep_model_decode(m);
  if (st != EP_OK) {
    ep_model_release(m);
    return st;
  }
  *out = m;
  return EP_OK;
}

ep_status ep_model_load_memory(const void *data, size_t size, uint32_t flags, ep_model **out) {
  if (!out) return ep_fail(EP_ERROR_ARGUMENT, "ep_model_load_memory: null output handle");
  *out = NULL;
  if (!data && size) return ep_fail(EP_ERROR_ARGUMENT, "ep_model_load_memory: null data");
  ep_model *m = calloc(1, sizeof *m);
  if (!m) return ep_fail(EP_ERROR_MEMORY, "out of memory");
  if ((flags & EP_LOAD_BORROW) && ((uintptr_t)data % BORROW_ALIGN) == 0) {
    m->file = data;
  } else {
    m->owned = aligned_alloc(64, size ? (size + 63) & ~(size_t)63 : 64);
    if (!m->owned) {
      free(m);
      return ep_fail(EP_ERROR_MEMORY, "out of memory copying a %zu-byte model", size);
    }
    if (size) memcpy(m->owned, data, size);
    m->file = m->owned;
  }
  m->file_size = size;
  return finish(m, out);
}

ep_status ep_model_load_file(const char *path, ep_model **out) {
  if (!out || !path) return ep_fail(EP_ERROR_ARGUMENT, "ep_model_load_file: null argument");
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ep_fail(EP_ERROR_IO, "cannot open model file '%s': %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
    close(fd);
    return ep_fail(EP_ERROR_IO, "model file '%s' is not a non-empty regular file", path);
  }
  void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return ep_fail(EP_ERROR_IO, "cannot map model file '%s': %s", path, strerror(errno));
  ep_model *m = calloc(1, sizeof *m);
  if (!m) {
    munmap(map, (size_t)st.st_size);
    return ep_fail(EP_ERROR_MEMORY, "out of memory");
  }
  m->mapping = map;
  m->mapping_size = (size_t)st.st_size;
  m->file = map;
  m->file_size = (size_t)st.st_size;
  return finish(m, out);
}

void ep_model_retain(ep_model *m) { atomic_fetch_add(&m->refs, 1); }

void ep_model_release(ep_model *m) {
  if (!m || atomic_fetch_sub(&m->refs, 1) != 1) return;
  ep_pool_free(&m->pool);
  if (m->mapping) munmap(m->mapping, m->mapping_size);
  free(m->owned);
  free(m);
}
