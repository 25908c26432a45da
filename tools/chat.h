/*
 * chat.h — the chat front end (chat.c), for main.c and `ember run`.
 */
#ifndef EMBER_CHAT_H
#define EMBER_CHAT_H

#include "run_opts.h"

/* `ember chat`: a conversation (a terminal, or messages piped one per line). */
int cmd_chat(int argc, char **argv);

/* A chat with run's options: one templated turn for prompt (run --chat,
 * or -cnv with a prompt and stdin not a terminal), else a conversation
 * whose first message is prompt (NULL: none). Returns an exit status. */
int run_chat(const struct run_opts *o, const char *prompt);

#endif
