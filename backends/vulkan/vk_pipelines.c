/*
 * vk_pipelines.c — the compute pipelines: the shaders' SPIR-V (compiled by
 * glslc at build time into the build directory and embedded here), the
 * one descriptor set layout and pipeline layout they all share (four
 * storage buffers, 112 bytes of push constants: vk_impl.h), and each
 * pipeline made on its first use and kept for the instance's life.
 */
#include <stdlib.h>

#include "vk_impl.h"

/* Each header is glslc -mfmt=c output: a braced list of words. */
#define SPV(name) static const uint32_t spv_##name[] =
SPV(matmul_f32)
#include "matmul_f32.spv.h"
;
SPV(matmul_f16)
#include "matmul_f16.spv.h"
;
SPV(matmul_q8_0)
#include "matmul_q8_0.spv.h"
;
SPV(matmul_q4_0)
#include "matmul_q4_0.spv.h"
;
SPV(matmul_q4_k)
#include "matmul_q4_k.spv.h"
;
SPV(matmul_q6_k)
#include "matmul_q6_k.spv.h"
;
SPV(matmul_sg_f32)
#include "matmul_sg_f32.spv.h"
;
SPV(matmul_sg_f16)
#include "matmul_sg_f16.spv.h"
;
SPV(matmul_sg_q8_0)
#include "matmul_sg_q8_0.spv.h"
;
SPV(matmul_sg_q4_0)
#include "matmul_sg_q4_0.spv.h"
;
SPV(matmul_sg_q4_k)
#include "matmul_sg_q4_k.spv.h"
;
SPV(matmul_sg_q6_k)
#include "matmul_sg_q6_k.spv.h"
;
SPV(get_rows_f32)
#include "get_rows_f32.spv.h"
;
SPV(get_rows_f16)
#include "get_rows_f16.spv.h"
;
SPV(get_rows_q8_0)
#include "get_rows_q8_0.spv.h"
;
SPV(get_rows_q4_0)
#include "get_rows_q4_0.spv.h"
;
SPV(get_rows_q4_k)
#include "get_rows_q4_k.spv.h"
;
SPV(get_rows_q6_k)
#include "get_rows_q6_k.spv.h"
;
SPV(rmsnorm)
#include "rmsnorm.spv.h"
;
SPV(rope)
#include "rope.spv.h"
;
SPV(softmax)
#include "softmax.spv.h"
;
SPV(silu_mul)
#include "silu_mul.spv.h"
;
SPV(add)
#include "add.spv.h"
;
SPV(store_kv)
#include "store_kv.spv.h"
;
SPV(attention)
#include "attention.spv.h"
;
SPV(gelu_mul)
#include "gelu_mul.spv.h"
;
SPV(scale)
#include "scale.spv.h"
;
SPV(gather)
#include "gather.spv.h"
;
SPV(scatter_add)
#include "scatter_add.spv.h"
;

struct spv {
    const uint32_t *code;
    size_t bytes;
};
#define S(name) {spv_##name, sizeof spv_##name}
static const struct spv shaders[VK_PIPE_COUNT] = {
    [VK_PIPE_MATMUL_F32] = S(matmul_f32),   [VK_PIPE_MATMUL_F16] = S(matmul_f16),
    [VK_PIPE_MATMUL_Q8_0] = S(matmul_q8_0), [VK_PIPE_MATMUL_Q4_0] = S(matmul_q4_0),
    [VK_PIPE_MATMUL_Q4_K] = S(matmul_q4_k), [VK_PIPE_MATMUL_Q6_K] = S(matmul_q6_k),
    [VK_PIPE_ROWS_F32] = S(get_rows_f32),   [VK_PIPE_ROWS_F16] = S(get_rows_f16),
    [VK_PIPE_ROWS_Q8_0] = S(get_rows_q8_0), [VK_PIPE_ROWS_Q4_0] = S(get_rows_q4_0),
    [VK_PIPE_ROWS_Q4_K] = S(get_rows_q4_k), [VK_PIPE_ROWS_Q6_K] = S(get_rows_q6_k),
    [VK_PIPE_RMSNORM] = S(rmsnorm),         [VK_PIPE_ROPE] = S(rope),
    [VK_PIPE_SOFTMAX] = S(softmax),         [VK_PIPE_SILU_MUL] = S(silu_mul),
    [VK_PIPE_ADD] = S(add),                 [VK_PIPE_ADD_BIAS] = S(add),
    [VK_PIPE_STORE_KV] = S(store_kv),       [VK_PIPE_ATTENTION] = S(attention),
    [VK_PIPE_GELU_MUL] = S(gelu_mul),       [VK_PIPE_SCALE] = S(scale),
    [VK_PIPE_GATHER] = S(gather),           [VK_PIPE_SCATTER_ADD] = S(scatter_add),
};

/* The matmuls reducing with subgroup arithmetic, where the device has it
 * in compute shaders (vk_backend.subgroups). */
static const struct spv matmul_sg[VK_PIPE_MATMUL_Q6_K - VK_PIPE_MATMUL_F32 + 1] = {
    S(matmul_sg_f32), S(matmul_sg_f16), S(matmul_sg_q8_0), S(matmul_sg_q4_0), S(matmul_sg_q4_k),
    S(matmul_sg_q6_k),
};

bool vk_pipelines_init(struct vk_backend *b) {
    VkDescriptorSetLayoutBinding bind[VK_BINDINGS];
    for (int i = 0; i < VK_BINDINGS; i++)
        bind[i] = (VkDescriptorSetLayoutBinding){.binding = (uint32_t)i,
                                                 .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                                 .descriptorCount = 1,
                                                 .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo li = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                          .bindingCount = VK_BINDINGS,
                                          .pBindings = bind};
    if (vkCreateDescriptorSetLayout(b->device, &li, NULL, &b->set_layout) != VK_SUCCESS) return false;
    VkPushConstantRange pr = {VK_SHADER_STAGE_COMPUTE_BIT, 0, VK_PARAMS * sizeof(uint32_t)};
    VkPipelineLayoutCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                     .setLayoutCount = 1,
                                     .pSetLayouts = &b->set_layout,
                                     .pushConstantRangeCount = 1,
                                     .pPushConstantRanges = &pr};
    if (vkCreatePipelineLayout(b->device, &pi, NULL, &b->pipe_layout) != VK_SUCCESS) return false;
    b->pipes = calloc(VK_PIPE_COUNT, sizeof *b->pipes);
    return b->pipes != NULL;
}

void vk_pipelines_free(struct vk_backend *b) {
    for (int i = 0; b->pipes && i < VK_PIPE_COUNT; i++)
        if (b->pipes[i]) vkDestroyPipeline(b->device, b->pipes[i], NULL);
    free(b->pipes);
    if (b->pipe_layout) vkDestroyPipelineLayout(b->device, b->pipe_layout, NULL);
    if (b->set_layout) vkDestroyDescriptorSetLayout(b->device, b->set_layout, NULL);
}

/* The pipeline of p, compiled on first use (a model that never runs an op
 * never pays for its pipeline); VK_NULL_HANDLE when the driver refuses. */
VkPipeline vk_pipeline(struct vk_backend *b, enum vk_pipe p) {
    if (b->pipes[p]) return b->pipes[p];
    bool sg = b->subgroups && p >= VK_PIPE_MATMUL_F32 && p <= VK_PIPE_MATMUL_Q6_K;
    const struct spv *code = sg ? &matmul_sg[p - VK_PIPE_MATMUL_F32] : &shaders[p];
    VkShaderModuleCreateInfo mi = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                   .codeSize = code->bytes,
                                   .pCode = code->code};
    VkShaderModule mod;
    if (vkCreateShaderModule(b->device, &mi, NULL, &mod) != VK_SUCCESS) return VK_NULL_HANDLE;
    VkComputePipelineCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = mod,
                  .pName = "main"},
        .layout = b->pipe_layout};
    if (vkCreateComputePipelines(b->device, VK_NULL_HANDLE, 1, &ci, NULL, &b->pipes[p]) != VK_SUCCESS)
        b->pipes[p] = VK_NULL_HANDLE;
    vkDestroyShaderModule(b->device, mod, NULL);
    return b->pipes[p];
}
