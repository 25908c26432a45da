/*
 * vk_memory.c — device memory: VkBuffers with their stretch of the
 * reserved address range (vk_impl.h says why), the lookup from an address
 * back to its buffer, and the KV arena behind kv_memory().
 *
 * Sections: the address range, buffers, the KV arena.
 *
 * Each buffer gets its own VkDeviceMemory: simple, and the counts stay low
 * (weights, a context's scratch, one KV arena, rings); a driver's limit on
 * allocations (4096 at least) is far off.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vk_impl.h"

enum { VA_ALIGN = 256 };

/* ------------------------------------------------------ the address range */

/* Reserve addresses only: PROT_NONE and MAP_NORESERVE commit nothing, so a
 * range the size of the largest device costs no memory. Halved until the
 * kernel agrees. */
void vk_va_init(struct vk_backend *b) {
    for (size_t n = (size_t)1 << 40; n >= ((size_t)1 << 30); n /= 2) {
        void *p = mmap(NULL, n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p != MAP_FAILED) {
            b->va = p;
            b->va_bytes = n;
            return;
        }
    }
}

void vk_va_free(struct vk_backend *b) {
    if (b->va) munmap(b->va, b->va_bytes);
    free(b->bufs);
}

/* The first gap of `bytes` in the sorted list (reusing freed stretches);
 * its index in the list via *at. 0 when the range is full. */
static uintptr_t va_take(struct vk_backend *b, size_t bytes, int *at) {
    uintptr_t start = (uintptr_t)b->va, end = start + b->va_bytes;
    size_t need = (bytes + VA_ALIGN - 1) / VA_ALIGN * VA_ALIGN + VA_ALIGN; /* a guard gap */
    uintptr_t cur = start;
    for (int i = 0; i <= b->n_bufs; i++) {
        uintptr_t next = i < b->n_bufs ? b->bufs[i]->addr : end;
        if (next - cur >= need) {
            *at = i;
            return cur;
        }
        if (i < b->n_bufs) cur = b->bufs[i]->addr + (b->bufs[i]->bytes + VA_ALIGN - 1) / VA_ALIGN * VA_ALIGN + VA_ALIGN;
    }
    return 0;
}

static bool va_insert(struct vk_backend *b, struct vk_buf *buf, int at) {
    if (b->n_bufs == b->cap_bufs) {
        int cap = b->cap_bufs ? 2 * b->cap_bufs : 64;
        struct vk_buf **n = realloc(b->bufs, (size_t)cap * sizeof *n);
        if (!n) return false;
        b->bufs = n;
        b->cap_bufs = cap;
    }
    memmove(b->bufs + at + 1, b->bufs + at, (size_t)(b->n_bufs - at) * sizeof *b->bufs);
    b->bufs[at] = buf;
    b->n_bufs++;
    return true;
}

struct vk_loc vk_locate(const struct vk_backend *b, const void *p) {
    uintptr_t a = (uintptr_t)p;
    int lo = 0, hi = b->n_bufs - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        const struct vk_buf *m = b->bufs[mid];
        if (a < m->addr) hi = mid - 1;
        else if (a >= m->addr + (m->bytes ? m->bytes : 1)) lo = mid + 1;
        else return (struct vk_loc){m, a - m->addr};
    }
    return (struct vk_loc){NULL, 0};
}

/* ---------------------------------------------------------------- buffers */

static bool buf_memory(struct vk_backend *b, struct vk_buf *buf, enum vk_mem_kind kind) {
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(b->device, buf->buffer, &req);
    int t = -1;
    if (kind == VK_MEM_HOST) {
        t = vk_memory_type(b, req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                      VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
                                                      VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
        if (t < 0)
            t = vk_memory_type(b, req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                          VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    } else {
        t = vk_memory_type(b, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    }
    if (t < 0) return false;
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                               .allocationSize = req.size,
                               .memoryTypeIndex = (uint32_t)t};
    if (vkAllocateMemory(b->device, &ai, NULL, &buf->memory) != VK_SUCCESS) return false;
    if (vkBindBufferMemory(b->device, buf->buffer, buf->memory, 0) != VK_SUCCESS) return false;
    if (kind == VK_MEM_HOST && vkMapMemory(b->device, buf->memory, 0, VK_WHOLE_SIZE, 0, &buf->map) != VK_SUCCESS)
        return false;
    return true;
}

/* A buffer of `bytes` (storage and both copy directions) with its
 * addresses; NULL when the device or the range is out of memory. */
struct vk_buf *vk_buf_new(struct vk_backend *b, size_t bytes, enum vk_mem_kind kind) {
    int at = 0;
    uintptr_t addr = va_take(b, bytes ? bytes : 4, &at);
    struct vk_buf *buf = calloc(1, sizeof *buf);
    if (!addr || !buf) {
        free(buf);
        return NULL;
    }
    buf->addr = addr;
    buf->bytes = bytes ? (bytes + 3) / 4 * 4 : 4;
    VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                             .size = buf->bytes,
                             .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                      VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                             .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    if (vkCreateBuffer(b->device, &bi, NULL, &buf->buffer) != VK_SUCCESS || !buf_memory(b, buf, kind) ||
        !va_insert(b, buf, at)) {
        if (buf->memory) vkFreeMemory(b->device, buf->memory, NULL);
        if (buf->buffer) vkDestroyBuffer(b->device, buf->buffer, NULL);
        free(buf);
        return NULL;
    }
    return buf;
}

void vk_buf_free(struct vk_backend *b, struct vk_buf *buf) {
    if (!buf) return;
    for (int i = 0; i < b->n_bufs; i++)
        if (b->bufs[i] == buf) {
            memmove(b->bufs + i, b->bufs + i + 1, (size_t)(b->n_bufs - i - 1) * sizeof *b->bufs);
            b->n_bufs--;
            break;
        }
    if (buf->map) vkUnmapMemory(b->device, buf->memory);
    vkDestroyBuffer(b->device, buf->buffer, NULL);
    vkFreeMemory(b->device, buf->memory, NULL);
    free(buf);
}

/* -------------------------------------------------------------- KV arena */

/* The arena's size, fixed at the first block: a quarter of the device
 * heap, at most 1 GiB and the largest storage range a shader may bind
 * (blocks past it would be unreachable). A cache that outgrows it gets
 * NULL from alloc, which the cache reports as out of memory. */
static size_t arena_bytes(const struct vk_backend *b) {
    uint64_t fr, tot;
    vk_memory(&b->base, &fr, &tot);
    uint64_t n = tot / 4;
    if (n > ((uint64_t)1 << 30)) n = (uint64_t)1 << 30;
    if (n > b->props.limits.maxStorageBufferRange) n = b->props.limits.maxStorageBufferRange;
    return (size_t)n & ~(size_t)63;
}

/* Insert (off, len) at index i of a span list; false when out of memory. */
static bool spans_insert(struct vk_spans *l, int i, size_t off, size_t len) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        struct vk_span *s = realloc(l->s, (size_t)cap * sizeof *s);
        if (!s) return false;
        l->s = s;
        l->cap = cap;
    }
    memmove(l->s + i + 1, l->s + i, (size_t)(l->n - i) * sizeof *l->s);
    l->s[i] = (struct vk_span){off, len};
    l->n++;
    return true;
}

static void spans_remove(struct vk_spans *l, int i) {
    memmove(l->s + i, l->s + i + 1, (size_t)(l->n - i - 1) * sizeof *l->s);
    l->n--;
}

/* Index of the first span at or after off. */
static int spans_find(const struct vk_spans *l, size_t off) {
    int lo = 0, hi = l->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (l->s[mid].off < off) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static bool arena_open(struct vk_backend *b) {
    struct vk_arena *a = &b->kv;
    if (a->buf) return true;
    a->buf = vk_buf_new(b, arena_bytes(b), VK_MEM_DEVICE);
    return a->buf && spans_insert(&a->free, 0, 0, a->buf->bytes & ~(size_t)63);
}

void vk_arena_free(struct vk_backend *b) {
    vk_buf_free(b, b->kv.buf);
    free(b->kv.free.s);
    free(b->kv.used.s);
    memset(&b->kv, 0, sizeof b->kv);
}

/* First fit; blocks of one cache are all the same size, so this does not
 * fragment in practice. The used list remembers each block's size for
 * release (kv_mem passes none). */
static void *kv_alloc(void *ctx, size_t bytes) {
    struct vk_backend *b = ctx;
    if (!arena_open(b)) return NULL;
    struct vk_arena *a = &b->kv;
    size_t need = bytes ? (bytes + 63) & ~(size_t)63 : 64;
    for (int i = 0; i < a->free.n; i++) {
        struct vk_span *f = &a->free.s[i];
        if (f->len < need) continue;
        size_t off = f->off;
        if (!spans_insert(&a->used, spans_find(&a->used, off), off, need)) return NULL;
        f->off += need;
        f->len -= need;
        if (!f->len) spans_remove(&a->free, i);
        return (void *)(a->buf->addr + off);
    }
    return NULL;
}

/* The block back into the sorted free list, merged with its neighbours. */
static void kv_release(void *ctx, void *p) {
    struct vk_backend *b = ctx;
    struct vk_arena *a = &b->kv;
    if (!p || !a->buf) return;
    size_t off = (uintptr_t)p - a->buf->addr;
    int u = spans_find(&a->used, off);
    if (u >= a->used.n || a->used.s[u].off != off) return; /* not ours */
    size_t len = a->used.s[u].len;
    spans_remove(&a->used, u);
    int i = spans_find(&a->free, off);
    bool left = i > 0 && a->free.s[i - 1].off + a->free.s[i - 1].len == off;
    bool right = i < a->free.n && off + len == a->free.s[i].off;
    if (left && right) {
        a->free.s[i - 1].len += len + a->free.s[i].len;
        spans_remove(&a->free, i);
    } else if (left) {
        a->free.s[i - 1].len += len;
    } else if (right) {
        a->free.s[i].off = off;
        a->free.s[i].len += len;
    } else {
        spans_insert(&a->free, i, off, len); /* on failure the block is lost to the arena */
    }
}

/* The cache's copies and transfers go through the instance's own stream
 * after every context's pending work, which may write these blocks. */
static void kv_copy(void *ctx, void *dst, const void *src, size_t n) {
    struct vk_backend *b = ctx;
    vk_sync_all(b);
    vk_stream_copy(b->own, vk_locate(b, dst), vk_locate(b, src), n);
    vk_stream_flush(b->own);
}

static void kv_read(void *ctx, void *host_dst, const void *src, size_t n) {
    struct vk_backend *b = ctx;
    vk_sync_all(b);
    vk_stream_read(b->own, host_dst, vk_locate(b, src), n);
}

static void kv_write(void *ctx, void *dst, const void *host_src, size_t n) {
    struct vk_backend *b = ctx;
    vk_sync_all(b);
    vk_stream_write(b->own, vk_locate(b, dst), host_src, n);
    vk_stream_flush(b->own);
}

void vk_kv_mem_init(struct vk_backend *b) {
    b->kv_mem = (struct kv_mem){b, kv_alloc, kv_release, kv_copy, kv_read, kv_write};
}
