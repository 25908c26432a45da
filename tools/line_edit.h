/*
 * line_edit.h — the chat's line editor, written here (no readline): raw
 * terminal input with cursor keys, Home/End, Backspace/Delete, word and
 * line deletion, UTF-8 aware; history with Up/Down, kept in a file; a
 * message over several lines (a trailing backslash, a """ block, or a
 * bracketed paste, which arrives as one message whatever it holds).
 *
 * Only for a terminal: the front end reads plain lines when stdin is not
 * one. The terminal is in raw mode only inside line_edit_read, and is
 * restored on every way out, including line_edit_restore from a signal
 * handler or atexit.
 *
 * Keys: Left/Right, Ctrl-B/F (by character), Alt-B/F (by word), Home/End,
 * Ctrl-A/E, Backspace, Delete, Ctrl-W (word before the cursor), Ctrl-U
 * (line before the cursor), Ctrl-K (after), Up/Down, Ctrl-P/N (history),
 * Ctrl-L (clear screen), Enter (send, or a new line after a trailing \ or
 * inside a """ block), Ctrl-C (clear the line; on an empty one: quit),
 * Ctrl-D (delete under the cursor; on an empty line: end of input).
 */
#ifndef EMBER_LINE_EDIT_H
#define EMBER_LINE_EDIT_H

#include <stdbool.h>

enum le_result { LE_LINE, LE_EOF, LE_INTERRUPT, LE_ERROR };

struct line_edit;

/* An editor on the terminal at fds in/out; history_path NULL: no history
 * file; color: the user's text in colour as llama.cpp shows it. NULL when
 * out of memory. */
struct line_edit *line_edit_new(int in, int out, const char *history_path, bool color);
void line_edit_free(struct line_edit *e);

/* Read one message after the prompt. LE_LINE: *text is the message
 * (malloc'd, without the """ markers or the final newline); LE_EOF (Ctrl-D
 * on an empty line or end of input), LE_INTERRUPT (Ctrl-C on an empty
 * line), LE_ERROR (a read or terminal error). */
enum le_result line_edit_read(struct line_edit *e, const char *prompt, char **text);

/* Put the terminal back as it was (async-signal-safe). */
void line_edit_restore(void);

#endif
