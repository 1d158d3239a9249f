/* Reading FlatBuffers by hand. Two layers:
 *  - fb_check_*: bounds- and alignment-checked primitives the verifier uses on untrusted bytes;
 *  - fb_* readers: used only on data the verifier has accepted, so they assume valid offsets.
 * Layout facts (flatbuffers "internals"): a table starts with an int32 soffset to its vtable (vtable =
 * table - soffset); a vtable is uint16 [vtable bytes, table bytes, field offsets...]; a field offset 0 means
 * "absent, use the default". Offsets to tables/vectors/strings are uint32 relative to where they are stored.
 * A vector is a uint32 length followed by its elements; a string is a byte vector with a 0 after it.
 * The host must be little-endian, as the format is. */
#ifndef EP_FLATBUFFER_H
#define EP_FLATBUFFER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "edgepress runtime_edge reads FlatBuffers in place and needs a little-endian host"
#endif

#define FB_MAX_SIZE ((size_t)0x7fffffff)

typedef struct fb_buf {
  const uint8_t *data;
  size_t size;
} fb_buf;

static inline uint16_t fb_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t fb_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline int32_t fb_i32(const uint8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }

/* ---- checked primitives ---- */

/* [pos, pos + len) lies inside the buffer and pos is a multiple of align. */
static inline int fb_check_range(const fb_buf *b, uint64_t pos, uint64_t len, uint64_t align) {
  return pos <= b->size && len <= b->size - pos && (pos % align) == 0;
}

/* ---- readers for verified data ---- */

/* Offset of field `slot` inside table `t`, 0 when absent. */
static inline uint32_t fb_field(const fb_buf *b, uint32_t t, int slot) {
  uint32_t vt = (uint32_t)((int64_t)t - fb_i32(b->data + t));
  uint32_t vt_bytes = fb_u16(b->data + vt);
  uint32_t entry = 4u + 2u * (uint32_t)slot;
  return entry + 2 <= vt_bytes ? fb_u16(b->data + vt + entry) : 0;
}

static inline int fb_has(const fb_buf *b, uint32_t t, int slot) { return fb_field(b, t, slot) != 0; }

#define FB_SCALAR_READER(name, type)                                                \
  static inline type name(const fb_buf *b, uint32_t t, int slot, type def) {       \
    uint32_t f = fb_field(b, t, slot);                                             \
    type v;                                                                        \
    if (!f) return def;                                                            \
    memcpy(&v, b->data + t + f, sizeof v);                                         \
    return v;                                                                      \
  }
FB_SCALAR_READER(fb_read_u8, uint8_t)
FB_SCALAR_READER(fb_read_i8, int8_t)
FB_SCALAR_READER(fb_read_i32, int32_t)
FB_SCALAR_READER(fb_read_u32, uint32_t)
FB_SCALAR_READER(fb_read_u64, uint64_t)
#undef FB_SCALAR_READER

/* Position of the table/vector/string an offset field points at, 0 when absent. */
static inline uint32_t fb_ref(const fb_buf *b, uint32_t t, int slot) {
  uint32_t f = fb_field(b, t, slot);
  return f ? t + f + fb_u32(b->data + t + f) : 0;
}

/* A vector field: element count and pointer to the first element (NULL/0 when absent). */
static inline const uint8_t *fb_vector(const fb_buf *b, uint32_t t, int slot, uint32_t *count) {
  uint32_t v = fb_ref(b, t, slot);
  *count = v ? fb_u32(b->data + v) : 0;
  return v ? b->data + v + 4 : NULL;
}

/* Element i of a vector of tables/strings whose first element is at `elems`: its position. */
static inline uint32_t fb_vector_ref(const fb_buf *b, const uint8_t *elems, uint32_t i) {
  uint32_t at = (uint32_t)(elems - b->data) + 4u * i;
  return at + fb_u32(b->data + at);
}

/* A string field, NULL when absent (verified strings are 0-terminated). */
static inline const char *fb_string(const fb_buf *b, uint32_t t, int slot) {
  uint32_t s = fb_ref(b, t, slot);
  return s ? (const char *)(b->data + s + 4) : NULL;
}

#endif
