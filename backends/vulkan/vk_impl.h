/*
 * vk_impl.h — private to the Vulkan backend: the instance, its memory, the
 * command streams that record work, the compute pipelines, and the ops.
 *
 * Device addresses. The ops of backend.h take float pointers, and Vulkan
 * has none, so the instance reserves a range of host virtual addresses
 * (mmap PROT_NONE, never committed) and gives every VkBuffer it creates a
 * stretch of that range (vk_memory.c). A pointer handed out by ctx_alloc,
 * kv_memory or prepare_weights is thus an address inside the stretch of
 * its buffer; vk_locate() maps it back to (buffer, byte offset) by binary
 * search. The host dereferencing one faults at once instead of reading
 * garbage, and pointer arithmetic (rows inside an allocation) keeps
 * working.
 *
 * Every dispatch binds four storage buffers whole (bindings 0-3) and
 * passes each one's word offset in the first four push constants, so an
 * address need not meet minStorageBufferOffsetAlignment: only 4-byte
 * alignment, which floats always have.
 */
#ifndef EMBER_VK_IMPL_H
#define EMBER_VK_IMPL_H

#include <vulkan/vulkan.h>

#include "backend.h"

/* ------------------------------------------------------------- memory */

/* One VkBuffer with its memory and its stretch of the address range. */
struct vk_buf {
    uintptr_t addr; /* first address of its stretch */
    size_t bytes;
    VkBuffer buffer;
    VkDeviceMemory memory;
    void *map; /* host mapping (host-visible buffers), else NULL */
};

/* Where an address lives: a buffer and the byte offset in it. */
struct vk_loc {
    const struct vk_buf *b;
    size_t off;
};

/* The KV arena: one device buffer the cache's blocks are cut from, so
 * attention binds one buffer whatever blocks a sequence holds. */
struct vk_span {
    size_t off, len;
};
struct vk_spans { /* sorted by off */
    struct vk_span *s;
    int n, cap;
};
struct vk_arena {
    struct vk_buf *buf;
    struct vk_spans free, used;
};

struct vk_stream;

struct vk_backend {
    struct ember_backend base;
    VkInstance instance;
    VkPhysicalDevice phys;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    VkPhysicalDeviceMemoryProperties mem_props;
    VkPhysicalDeviceProperties props;
    bool has_budget; /* VK_EXT_memory_budget */
    bool subgroups;  /* subgroup arithmetic in compute shaders: the matmuls reduce with it */
    uint32_t rows_per_wg; /* matmul rows per workgroup: 64 / subgroup size, 1 without */
    char name[64]; /* "vulkan0 (device name)" */
    char report[128]; /* device(): the name and how matmuls reduce */
    /* the address range and the buffers in it, sorted by addr */
    uint8_t *va;
    size_t va_bytes;
    struct vk_buf **bufs;
    int n_bufs, cap_bufs;
    struct vk_buf *dummy; /* bound to the bindings an op leaves unused */
    /* pipelines (vk_pipelines.c) */
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout pipe_layout;
    VkPipeline *pipes; /* [VK_PIPE_COUNT], made on first use */
    /* the instance's own stream (uploads, KV copies) and the contexts' */
    struct vk_stream *own;
    struct vk_stream **streams;
    int n_streams;
    struct vk_arena kv;
    struct kv_mem kv_mem;
    bool failed; /* a device error: ops do nothing, copy_out returns zeros */
};

static inline struct vk_backend *vk_of(struct ember_backend *be) { return (struct vk_backend *)be; }

/* vk_memory.c */
enum vk_mem_kind { VK_MEM_DEVICE, VK_MEM_HOST };
struct vk_buf *vk_buf_new(struct vk_backend *b, size_t bytes, enum vk_mem_kind kind);
void vk_buf_free(struct vk_backend *b, struct vk_buf *buf);
/* The buffer holding address p, or {NULL, 0} when p is none of ours. */
struct vk_loc vk_locate(const struct vk_backend *b, const void *p);
void vk_va_init(struct vk_backend *b);
void vk_va_free(struct vk_backend *b);
void vk_kv_mem_init(struct vk_backend *b);
void vk_arena_free(struct vk_backend *b);

/* ------------------------------------------------------------ streams */

/* Work recorded into one command buffer and submitted when someone needs
 * a result (copy_out, a KV read) or when its ring or descriptor pool is
 * full; a host-visible ring holds uploads, small per-call arrays and
 * downloads until the submit completes. */
struct vk_stream {
    struct vk_backend *b;
    VkCommandPool pool;
    VkCommandBuffer cmd;
    VkFence fence;
    VkDescriptorPool dpool;
    int sets_used, sets_cap;
    struct vk_buf *ring;
    size_t ring_used;
    bool recording;
};

struct vk_stream *vk_stream_new(struct vk_backend *b);
void vk_stream_free(struct vk_stream *s);
/* Submit what is recorded and wait for it; false on a device error. */
bool vk_stream_flush(struct vk_stream *s);
/* Every stream of the instance flushed (before the instance's own work
 * touches memory a context's pending work may write). */
void vk_sync_all(struct vk_backend *b);
/* Room for `bytes` of ring and `sets` dispatches without a flush: an op
 * reserves first, since a flush between writing its ring data and
 * recording its dispatch would let later data overwrite them. */
void vk_stream_reserve(struct vk_stream *s, size_t bytes, int sets);
/* n bytes of the ring (16-aligned), flushing first when it is full;
 * *loc the place on the device. NULL when n exceeds the ring. */
void *vk_stream_ring(struct vk_stream *s, size_t n, struct vk_loc *loc);
/* Record a copy; host->device through the ring in pieces. */
void vk_stream_copy(struct vk_stream *s, struct vk_loc dst, struct vk_loc src, size_t n);
void vk_stream_write(struct vk_stream *s, struct vk_loc dst, const void *src, size_t n);
/* Record zeroing n bytes (rounded up to words). */
void vk_stream_zero(struct vk_stream *s, struct vk_loc dst, size_t n);
/* Record a copy into the ring, flush, and copy out to the host. */
void vk_stream_read(struct vk_stream *s, void *dst, struct vk_loc src, size_t n);

/* ---------------------------------------------------------- pipelines */

enum vk_pipe {
    VK_PIPE_MATMUL_F32, VK_PIPE_MATMUL_F16, VK_PIPE_MATMUL_Q8_0, VK_PIPE_MATMUL_Q4_0,
    VK_PIPE_MATMUL_Q4_K, VK_PIPE_MATMUL_Q6_K,
    VK_PIPE_ROWS_F32, VK_PIPE_ROWS_F16, VK_PIPE_ROWS_Q8_0, VK_PIPE_ROWS_Q4_0,
    VK_PIPE_ROWS_Q4_K, VK_PIPE_ROWS_Q6_K,
    VK_PIPE_RMSNORM, VK_PIPE_ROPE, VK_PIPE_SOFTMAX, VK_PIPE_SILU_MUL, VK_PIPE_ADD,
    VK_PIPE_ADD_BIAS, VK_PIPE_STORE_KV, VK_PIPE_ATTENTION, VK_PIPE_GELU_MUL, VK_PIPE_SCALE,
    VK_PIPE_GATHER, VK_PIPE_SCATTER_ADD,
    VK_PIPE_COUNT
};

enum { VK_BINDINGS = 4, VK_PARAMS = 28 };

/* One dispatch: buffers by location, the op's parameters (after the four
 * word offsets of the push constants), and the workgroup grid. */
struct vk_dispatch {
    enum vk_pipe pipe;
    struct vk_loc buf[VK_BINDINGS]; /* .b NULL: unused */
    uint32_t p[VK_PARAMS - VK_BINDINGS];
    uint32_t groups[3];
};

bool vk_pipelines_init(struct vk_backend *b);
void vk_pipelines_free(struct vk_backend *b);
/* Record d into s (the pipeline made on first use) and a barrier after it,
 * so the next dispatch or copy sees its writes. */
void vk_stream_dispatch(struct vk_stream *s, const struct vk_dispatch *d);

/* ---------------------------------------------------------------- ops */

struct vk_ctx {
    struct backend_ctx base;
    struct vk_stream *s;
    struct vk_buf **allocs;
    int n_allocs;
};

static inline struct vk_ctx *vk_ctx_of(struct backend_ctx *c) { return (struct vk_ctx *)c; }
static inline struct vk_backend *vk_ctx_backend(struct backend_ctx *c) {
    return (struct vk_backend *)c->be;
}

/* vk_device.c */
enum ember_status vk_device_open(struct vk_backend *b, const char *want, struct ember_err *err);
void vk_device_close(struct vk_backend *b);
int vk_devices(const struct ember_options *o, struct backend_device *out, int max);
void vk_memory(const struct ember_backend *be, uint64_t *free_bytes, uint64_t *total);
/* A memory type index with these flags among `bits`, or -1. */
int vk_memory_type(const struct vk_backend *b, uint32_t bits, VkMemoryPropertyFlags want);

/* vk_backend.c: the type and row size of what the device copy of t holds
 * (t's own when it has none) */
int vk_tensor_type(const struct tensor *t, size_t *row_bytes);

/* vk_ops.c */
bool vk_supports_matmul(int type);
void vk_matmul(struct backend_ctx *c, int n_mats, float *const out[],
               const struct tensor *const w[], const float *x, int n);
void vk_get_rows(struct backend_ctx *c, float *out, const struct tensor *w, const int32_t *rows,
                 int n);
void vk_rmsnorm(struct backend_ctx *c, float *out, const float *x, const struct tensor *w, int n,
                int width, float eps);
void vk_rope(struct backend_ctx *c, float *x, int n, int n_heads, int head_dim,
             const int32_t *pos, const struct rope_params *rp);
void vk_softmax(struct backend_ctx *c, float *x, int n);
void vk_silu_mul(struct backend_ctx *c, float *g, const float *u, int n);
void vk_add(struct backend_ctx *c, float *x, const float *y, int n, int width);
void vk_add_bias(struct backend_ctx *c, float *x, const struct tensor *b, int n, int width);
void vk_gelu_mul(struct backend_ctx *c, float *g, const float *u, int n);
void vk_scale(struct backend_ctx *c, float *x, float s, int n);
void vk_gather(struct backend_ctx *c, float *out, const float *x, const int32_t *rows, int n,
               int width);
void vk_scatter_add(struct backend_ctx *c, float *x, const float *y, const int32_t *rows,
                    const float *w, int n, int width);
/* A vector tensor's place on the device: its upload, or a copy of its host
 * values in the ring (tensors prepare_weights did not see). */
struct vk_loc vk_tensor_loc(struct backend_ctx *c, const struct tensor *t, size_t bytes);
/* A grid for n workgroups in x (split into z past the device's limit). */
void vk_grid(uint32_t n, uint32_t groups[3]);
/* A float's bits, for a push constant. */
uint32_t vk_f32_bits(float f);

/* vk_attention.c */
void vk_attention(struct backend_ctx *c, const struct attn_args *a);
void vk_store_kv(struct backend_ctx *c, const struct kv_view *kv, const float *k, const float *v,
                 const int32_t *pos, const int32_t *seq, int n, int n_head_kv, int head_dim);

#endif
