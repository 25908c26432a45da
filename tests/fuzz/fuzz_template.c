/*
 * fuzz_template.c — libFuzzer harness for the chat-template engine
 * (src/text/template*.c): byte 0 sets add_generation_prompt and picks one
 * of three conversations, the rest is the template source. Compiling
 * either fails with a message or gives a template that renders to a
 * NUL-terminated string of the reported length, or fails with a message;
 * never a crash, a leak or a hang (the step and size limits of template.h
 * bound every render).
 */
#include "fuzz_common.h"

#include "template.h"

static const struct chat_msg tmpl_conv[] = {
    {"system", "You are a helpful assistant."},
    {"user", "Hello! \"quotes\" {{ braces }} \xc3\xa9\xf0\x9f\xa6\x99\n"},
    {"assistant", "<think>\nhmm\n</think>\n\nHi."},
    {"user", "  Bye  "},
};

int FUZZ_ENTRY(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    struct template_vars v = {
        .messages = tmpl_conv + (data[0] >> 1) % 3,
        .n_messages = 4 - (data[0] >> 1) % 3,
        .add_generation_prompt = data[0] & 1,
        .bos_token = "<s>",
        .eos_token = "</s>",
    };
    struct template *t = NULL;
    struct ember_err err = {0};
    if (template_compile((const char *)data + 1, size - 1, &t, &err) != EMBER_OK) {
        FUZZ_CHECK(err.msg[0] && !t, "compile failed without a message");
        return 0;
    }
    char *out = NULL;
    size_t len = 0;
    if (template_render(t, &v, &out, &len, &err) == EMBER_OK)
        FUZZ_CHECK(out && out[len] == 0 && len <= TEMPLATE_MAX_OUT, "bad render result");
    else
        FUZZ_CHECK(err.msg[0] && !out, "render failed without a message");
    free(out);
    template_free(t);
    return 0;
}
