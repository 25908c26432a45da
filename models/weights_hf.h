/*
 * weights_hf.h — a Hugging Face model directory as a weight source
 * (weights.h): config.json, the weights in model.safetensors or in the
 * shards model.safetensors.index.json lists (each mapped, never copied),
 * and tokenizer_config.json / generation_config.json when present.
 *
 * hf_open() translates config.json into GGUF's key vocabulary
 * ("llama.embedding_length", "llama.rope.freq_base", ...) and HF tensor
 * names into GGUF's ("model.layers.0.self_attn.q_proj.weight" ->
 * "blk.0.attn_q.weight", shapes reversed to GGUF's fastest-first order), so
 * models/ reads it like a GGUF file. The q/k rows stay in HF's rotate_half
 * order; the source says so (qk_rotate_half) and rope follows. 1-D tensors
 * (norms, biases) in F16/BF16 are converted to F32 copies (a few KB);
 * matrices are handed out as they are. rope_scaling of type llama3
 * becomes the tensor GGUF files carry for it, rope_freqs.weight (computed
 * here, half a head of F32 divisors). Tokenizer-side keys: the GGUF names
 * tokenizer.ggml.{bos,eos,padding}_token_id, tokenizer.ggml.add_{bos,eos}_token,
 * tokenizer.chat_template, plus hf.bos_token / hf.eos_token / hf.pad_token
 * (the token texts tokenizer_config.json names).
 *
 * GPTQ checkpoints (quantization_config in config.json or
 * quantize_config.json; weights_hf_gptq.h): each linear layer's qweight,
 * scales, qzeros and g_idx become one tensor of type GPTQ4/GPTQ8 under the
 * GGUF name of its .weight, its four parts pointing into the mapping
 * (weight_desc.parts), every shape and g_idx value checked here.
 *
 * Refused with a message naming the field: an unknown architecture,
 * rope_scaling of an unsupported type, biases or activations the llama
 * family does not have, sliding-window attention, GPTQ settings or parts
 * ember cannot run (weights_hf_gptq.h lists what it can).
 */
#ifndef EMBER_WEIGHTS_HF_H
#define EMBER_WEIGHTS_HF_H

#include "ember.h"
#include "weights.h"

struct hf_model;

/* Open the directory dir (kept by pointer: it must outlive the model). On
 * failure *out is NULL and err names the file and the field. */
enum ember_status hf_open(const char *dir, struct hf_model **out, struct ember_err *err);
void hf_close(struct hf_model *h);

struct weight_source weight_source_hf(const struct hf_model *h);

/* For reports (ember info): bytes and count of the safetensors files; the
 * i-th translated metadata key (NULL past the end) with its value printed
 * into val; the GGUF and HF names of the i-th tensor of the source (in
 * tensor_at's order, NULL past the end). */
uint64_t hf_file_bytes(const struct hf_model *h);
int hf_n_files(const struct hf_model *h);
const char *hf_meta_at(const struct hf_model *h, int i, char *val, size_t cap);
const char *hf_tensor_name(const struct hf_model *h, int64_t i, const char **hf_name);

#endif
