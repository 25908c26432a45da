/*
 * template_builtin.c — chat templates by name, for models whose file has
 * none (--chat-template NAME). Each is written here from the format its
 * family documents, as a Jinja template rendered by the same engine, so a
 * built-in and a model's own template behave alike: a system message goes
 * where the format puts it (folded into the first user turn where the
 * format has no system role), the generation prompt opens an assistant
 * turn.
 */
#include <string.h>

#include "template.h"

static const struct {
    const char *name, *text;
} builtins[] = {
    /* <|im_start|>role\ncontent<|im_end|>\n (OpenAI's ChatML, Qwen, ...) */
    {"chatml",
     "{%- for message in messages %}"
     "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
     "{%- endfor %}"
     "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"},
    /* Llama 3.x: header ids around the role, <|eot_id|> after each turn */
    {"llama3",
     "{{- bos_token }}"
     "{%- for message in messages %}"
     "{{- '<|start_header_id|>' + message.role + '<|end_header_id|>\\n\\n' + message.content | trim"
     " + '<|eot_id|>' }}"
     "{%- endfor %}"
     "{%- if add_generation_prompt %}"
     "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"},
    /* Llama 2 chat: [INST] turns, the system prompt in <<SYS>> inside the first */
    {"llama2",
     "{%- set ns = namespace(system='') %}"
     "{%- for message in messages %}"
     "{%- if message.role == 'system' %}"
     "{%- set ns.system = '<<SYS>>\\n' + message.content + '\\n<</SYS>>\\n\\n' %}"
     "{%- elif message.role == 'user' %}"
     "{{- bos_token + '[INST] ' + ns.system + message.content | trim + ' [/INST]' }}"
     "{%- set ns.system = '' %}"
     "{%- elif message.role == 'assistant' %}"
     "{{- ' ' + message.content | trim + ' ' + eos_token }}"
     "{%- endif %}"
     "{%- endfor %}"},
    /* Gemma: <start_of_turn>user|model, no system role (prefixed to the first user turn) */
    {"gemma",
     "{{- bos_token }}"
     "{%- set ns = namespace(system='') %}"
     "{%- for message in messages %}"
     "{%- if message.role == 'system' %}"
     "{%- set ns.system = message.content | trim + '\\n\\n' %}"
     "{%- else %}"
     "{%- set role = 'model' if message.role == 'assistant' else message.role %}"
     "{{- '<start_of_turn>' + role + '\\n' + ns.system + message.content | trim + '<end_of_turn>\\n' }}"
     "{%- set ns.system = '' %}"
     "{%- endif %}"
     "{%- endfor %}"
     "{%- if add_generation_prompt %}{{- '<start_of_turn>model\\n' }}{%- endif %}"},
    /* Phi-3: <|role|>\ncontent<|end|>\n */
    {"phi3",
     "{%- for message in messages %}"
     "{{- '<|' + message.role + '|>\\n' + message.content + '<|end|>\\n' }}"
     "{%- endfor %}"
     "{%- if add_generation_prompt %}{{- '<|assistant|>\\n' }}{%- else %}{{- eos_token }}{%- endif %}"},
    /* Mistral instruct: [INST] user [/INST] answer</s>, system before the first user text */
    {"mistral",
     "{{- bos_token }}"
     "{%- set ns = namespace(system='') %}"
     "{%- for message in messages %}"
     "{%- if message.role == 'system' %}"
     "{%- set ns.system = message.content + '\\n\\n' %}"
     "{%- elif message.role == 'user' %}"
     "{{- '[INST] ' + ns.system + message.content + ' [/INST]' }}"
     "{%- set ns.system = '' %}"
     "{%- elif message.role == 'assistant' %}"
     "{{- ' ' + message.content + eos_token }}"
     "{%- endif %}"
     "{%- endfor %}"},
    /* Zephyr: <|role|>\ncontent</s>\n */
    {"zephyr",
     "{%- for message in messages %}"
     "{{- '<|' + message.role + '|>\\n' + message.content + eos_token + '\\n' }}"
     "{%- endfor %}"
     "{%- if add_generation_prompt %}{{- '<|assistant|>\\n' }}{%- endif %}"},
};

#define N_BUILTINS (int)(sizeof builtins / sizeof builtins[0])

const char *template_builtin(const char *name) {
    for (int i = 0; i < N_BUILTINS; i++)
        if (!strcmp(builtins[i].name, name)) return builtins[i].text;
    return NULL;
}

const char *template_builtin_name(int i) { return i >= 0 && i < N_BUILTINS ? builtins[i].name : NULL; }
