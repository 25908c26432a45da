/*
 * vk_stream.c — command streams: one command buffer recording a context's
 * work (or the instance's uploads and KV copies), submitted only when a
 * result is needed or a resource runs out, so a layer is one submit, not
 * one per op.
 *
 * A stream owns a host-visible ring: uploads are staged there and copied
 * by the GPU at their place in the stream, small per-call arrays (positions,
 * block tables) are read from it by shaders, and downloads land there. It
 * and the descriptor pool are reset after each submit completes.
 */
#include <stdlib.h>
#include <string.h>

#include "vk_impl.h"

enum { RING_BYTES = 16 << 20, SETS_PER_SUBMIT = 2048 };

struct vk_stream *vk_stream_new(struct vk_backend *b) {
    struct vk_stream *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->b = b;
    VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                  .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                  .queueFamilyIndex = b->queue_family};
    VkDescriptorPoolSize ps = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, SETS_PER_SUBMIT * VK_BINDINGS};
    VkDescriptorPoolCreateInfo di = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                     .maxSets = SETS_PER_SUBMIT,
                                     .poolSizeCount = 1,
                                     .pPoolSizes = &ps};
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    bool ok = vkCreateCommandPool(b->device, &pi, NULL, &s->pool) == VK_SUCCESS &&
              vkCreateDescriptorPool(b->device, &di, NULL, &s->dpool) == VK_SUCCESS &&
              vkCreateFence(b->device, &fi, NULL, &s->fence) == VK_SUCCESS;
    if (ok) {
        VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                          .commandPool = s->pool,
                                          .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                          .commandBufferCount = 1};
        ok = vkAllocateCommandBuffers(b->device, &ai, &s->cmd) == VK_SUCCESS;
    }
    s->sets_cap = SETS_PER_SUBMIT;
    s->ring = ok ? vk_buf_new(b, RING_BYTES, VK_MEM_HOST) : NULL;
    struct vk_stream **list = ok && s->ring ? realloc(b->streams, (size_t)(b->n_streams + 1) * sizeof *list) : NULL;
    if (!list) {
        vk_stream_free(s);
        return NULL;
    }
    b->streams = list;
    b->streams[b->n_streams++] = s;
    return s;
}

void vk_stream_free(struct vk_stream *s) {
    if (!s) return;
    struct vk_backend *b = s->b;
    if (s->recording) vk_stream_flush(s);
    for (int i = 0; i < b->n_streams; i++)
        if (b->streams[i] == s) b->streams[i] = b->streams[--b->n_streams];
    vk_buf_free(b, s->ring);
    if (s->fence) vkDestroyFence(b->device, s->fence, NULL);
    if (s->dpool) vkDestroyDescriptorPool(b->device, s->dpool, NULL);
    if (s->pool) vkDestroyCommandPool(b->device, s->pool, NULL);
    free(s);
}

/* Start recording if not yet; false after a device error. */
static bool stream_begin(struct vk_stream *s) {
    if (s->b->failed) return false;
    if (s->recording) return true;
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    if (vkBeginCommandBuffer(s->cmd, &bi) != VK_SUCCESS) {
        s->b->failed = true;
        return false;
    }
    s->recording = true;
    return true;
}

bool vk_stream_flush(struct vk_stream *s) {
    struct vk_backend *b = s->b;
    if (s->recording) {
        s->recording = false;
        VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                           .pCommandBuffers = &s->cmd};
        if (vkEndCommandBuffer(s->cmd) != VK_SUCCESS ||
            vkQueueSubmit(b->queue, 1, &si, s->fence) != VK_SUCCESS ||
            vkWaitForFences(b->device, 1, &s->fence, VK_TRUE, UINT64_MAX) != VK_SUCCESS)
            b->failed = true;
        vkResetFences(b->device, 1, &s->fence);
        vkResetCommandBuffer(s->cmd, 0);
    }
    vkResetDescriptorPool(b->device, s->dpool, 0);
    s->sets_used = 0;
    s->ring_used = 0;
    return !b->failed;
}

void vk_sync_all(struct vk_backend *b) {
    for (int i = 0; i < b->n_streams; i++) vk_stream_flush(b->streams[i]);
}

void vk_stream_reserve(struct vk_stream *s, size_t bytes, int sets) {
    if (s->ring_used + ((bytes + 15) & ~(size_t)15) + 16 * (size_t)sets > s->ring->bytes ||
        s->sets_used + sets > s->sets_cap)
        vk_stream_flush(s);
}

void *vk_stream_ring(struct vk_stream *s, size_t n, struct vk_loc *loc) {
    size_t need = (n + 15) & ~(size_t)15;
    if (need > s->ring->bytes) return NULL;
    if (s->ring_used + need > s->ring->bytes) vk_stream_flush(s);
    *loc = (struct vk_loc){s->ring, s->ring_used};
    s->ring_used += need;
    return (uint8_t *)s->ring->map + loc->off;
}

/* Transfers and dispatches in one stream see each other's writes. */
static void stream_barrier(struct vk_stream *s) {
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                           VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT |
                                           VK_ACCESS_HOST_READ_BIT};
    VkPipelineStageFlags st = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(s->cmd, st, st | VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
}

void vk_stream_copy(struct vk_stream *s, struct vk_loc dst, struct vk_loc src, size_t n) {
    if (!dst.b || !src.b || !n || !stream_begin(s)) return;
    VkBufferCopy r = {src.off, dst.off, n};
    vkCmdCopyBuffer(s->cmd, src.b->buffer, dst.b->buffer, 1, &r);
    stream_barrier(s);
}

/* Through the ring in pieces of at most half of it. */
void vk_stream_write(struct vk_stream *s, struct vk_loc dst, const void *src, size_t n) {
    size_t piece = s->ring->bytes / 2;
    for (size_t done = 0; dst.b && done < n; done += piece) {
        size_t k = n - done < piece ? n - done : piece;
        struct vk_loc at;
        void *p = vk_stream_ring(s, k, &at);
        if (!p) return;
        memcpy(p, (const uint8_t *)src + done, k);
        vk_stream_copy(s, (struct vk_loc){dst.b, dst.off + done}, at, k);
    }
}

void vk_stream_read(struct vk_stream *s, void *dst, struct vk_loc src, size_t n) {
    size_t piece = s->ring->bytes / 2;
    for (size_t done = 0; done < n; done += piece) {
        size_t k = n - done < piece ? n - done : piece;
        struct vk_loc at;
        void *p = src.b ? vk_stream_ring(s, k, &at) : NULL;
        if (!p) { /* not our address: the host gets zeros, never garbage */
            memset((uint8_t *)dst + done, 0, n - done);
            return;
        }
        vk_stream_copy(s, at, (struct vk_loc){src.b, src.off + done}, k);
        if (!vk_stream_flush(s)) memset(p, 0, k);
        memcpy((uint8_t *)dst + done, p, k);
    }
}

/* A descriptor set for d's buffers, flushing first when the pool is
 * spent; VK_NULL_HANDLE after a device error. */
static VkDescriptorSet stream_set(struct vk_stream *s, const struct vk_dispatch *d) {
    struct vk_backend *b = s->b;
    if (s->sets_used == s->sets_cap) vk_stream_flush(s);
    VkDescriptorSetAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                      .descriptorPool = s->dpool,
                                      .descriptorSetCount = 1,
                                      .pSetLayouts = &b->set_layout};
    VkDescriptorSet set;
    if (vkAllocateDescriptorSets(b->device, &ai, &set) != VK_SUCCESS) return VK_NULL_HANDLE;
    s->sets_used++;
    VkDescriptorBufferInfo bi[VK_BINDINGS];
    VkWriteDescriptorSet w[VK_BINDINGS];
    for (int i = 0; i < VK_BINDINGS; i++) {
        const struct vk_buf *buf = d->buf[i].b ? d->buf[i].b : b->dummy;
        bi[i] = (VkDescriptorBufferInfo){buf->buffer, 0, VK_WHOLE_SIZE};
        w[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                      .dstSet = set,
                                      .dstBinding = (uint32_t)i,
                                      .descriptorCount = 1,
                                      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                      .pBufferInfo = &bi[i]};
    }
    vkUpdateDescriptorSets(b->device, VK_BINDINGS, w, 0, NULL);
    return set;
}

/* Defined in vk_pipelines.c: the pipeline, made on first use. */
VkPipeline vk_pipeline(struct vk_backend *b, enum vk_pipe p);

void vk_stream_dispatch(struct vk_stream *s, const struct vk_dispatch *d) {
    struct vk_backend *b = s->b;
    for (int i = 0; i < 3; i++)
        if (!d->groups[i]) return;
    VkPipeline pipe = vk_pipeline(b, d->pipe);
    if (!pipe) {
        b->failed = true;
        return;
    }
    VkDescriptorSet set = stream_set(s, d);
    if (!set || !stream_begin(s)) {
        b->failed = true;
        return;
    }
    uint32_t pc[VK_PARAMS];
    for (int i = 0; i < VK_BINDINGS; i++) pc[i] = (uint32_t)(d->buf[i].off / 4);
    memcpy(pc + VK_BINDINGS, d->p, sizeof d->p);
    vkCmdBindPipeline(s->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipe);
    vkCmdBindDescriptorSets(s->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, b->pipe_layout, 0, 1, &set, 0, NULL);
    vkCmdPushConstants(s->cmd, b->pipe_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof pc, pc);
    vkCmdDispatch(s->cmd, d->groups[0], d->groups[1], d->groups[2]);
    stream_barrier(s);
}

void vk_stream_zero(struct vk_stream *s, struct vk_loc dst, size_t n) {
    if (!dst.b || !n || !stream_begin(s)) return;
    vkCmdFillBuffer(s->cmd, dst.b->buffer, dst.off, (n + 3) & ~(size_t)3, 0);
    stream_barrier(s);
}
