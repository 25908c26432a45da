/*
 * template.h — chat templates: the Jinja subset that models' own
 * `tokenizer.chat_template` strings use, compiled once and rendered many
 * times into the prompt text.
 *
 * Rendering follows what Hugging Face transformers does in
 * apply_chat_template (jinja2's ImmutableSandboxedEnvironment with
 * trim_blocks and lstrip_blocks on, a trailing newline of the template
 * dropped, loop controls, raise_exception, strftime_now, a tojson that
 * leaves non-ASCII and HTML alone), so a template renders byte for byte as
 * the model's authors tested it. The variables are messages, tools (none),
 * documents (none), add_generation_prompt, bos_token and eos_token.
 *
 * Deliberate differences from jinja2: integers are 64-bit (overflow is an
 * error), the attribute or item of an undefined value is undefined instead
 * of an error, and there is no file, environment or import access at all.
 * Rendering is bounded: TEMPLATE_MAX_STEPS evaluation steps, TEMPLATE_MAX_OUT
 * bytes of any string, TEMPLATE_MAX_DEPTH levels of nesting; past any it
 * stops with an error. A compiled template is read-only: several threads
 * may render it at once.
 */
#ifndef EMBER_TEMPLATE_H
#define EMBER_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "ember.h"

#define TEMPLATE_MAX_STEPS 10000000L     /* evaluation steps per render */
#define TEMPLATE_MAX_OUT ((size_t)16 << 20) /* bytes of any string built */
#define TEMPLATE_MAX_DEPTH 1000          /* nesting of evaluation (a macro call counts 8) */

struct json_value;
struct tm;

struct chat_msg {
    const char *role;
    const char *content;
};

struct template;

/* Parse src[0..len). EMBER_EINVAL with "line N: ..." for a syntax error or
 * an unknown tag, filter or test; *out is NULL then. O(len). */
enum ember_status template_compile(const char *src, size_t len,
                                   struct template **out,
                                   struct ember_err *err);
void template_free(struct template *t);

struct template_vars {
    const struct chat_msg *messages;
    int n_messages;
    bool add_generation_prompt;
    const char *bos_token, *eos_token; /* "" when the model has none */
    /* Optional. The time strftime_now() formats; NULL leaves strftime_now
     * undefined (templates then use their own fallback date). */
    const struct tm *now;
    /* Optional, OpenAI-style: messages as a JSON array of objects (tool
     * calls, content parts and all), used instead of messages[] when set;
     * tools as a JSON array, else tools is none. */
    const struct json_value *messages_json;
    const struct json_value *tools_json;
};

/* Render into a malloc'd NUL-terminated string (*out, *len). EMBER_EINVAL
 * with the message for raise_exception(), a type error, an undefined value
 * used in arithmetic or a limit reached; *out is NULL then. */
enum ember_status template_render(const struct template *t,
                                  const struct template_vars *v, char **out,
                                  size_t *len, struct ember_err *err);

/* Built-in templates for --chat-template NAME (chatml, llama3, gemma, phi3,
 * mistral, zephyr, ...): the template text, NULL for an unknown name.
 * template_builtin_name(i) lists them: NULL past the last. */
const char *template_builtin(const char *name);
const char *template_builtin_name(int i);

#endif
