/*
 * line_edit.c — the line editor (line_edit.h).
 *
 * Sections: terminal mode, the edit buffer, drawing, history, keys.
 *
 * Drawing redraws the whole message on every change: back up to the row
 * where the prompt started, clear to the end of the screen, write the
 * prompt and the text (a "... " prompt after each newline), then move the
 * cursor to its place. Where things land is computed by walking the text
 * with the terminal's width, one column per code point (combining marks
 * and wide characters are not told apart: a wrong count only misplaces the
 * cursor, never the text).
 */
#include "line_edit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

enum { HISTORY_MAX = 1000 };
static const char CONT_PROMPT[] = "... ";

/* ---------------------------------------------------------- terminal mode */

static struct termios saved;
static int saved_fd = -1;
static volatile int raw_on;

void line_edit_restore(void) {
    if (!raw_on) return;
    static const char off[] = "\x1b[?2004l"; /* bracketed paste off */
    if (write(saved_fd, off, sizeof off - 1) < 0) { /* nothing to do about it */ }
    tcsetattr(saved_fd, TCSAFLUSH, &saved);
    raw_on = 0;
}

static bool raw_mode(int fd, int out) {
    if (tcgetattr(fd, &saved) < 0) return false;
    saved_fd = fd;
    struct termios t = saved;
    t.c_iflag &= ~(tcflag_t)(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
    t.c_cflag |= CS8;
    t.c_lflag &= ~(tcflag_t)(ECHO | ICANON | IEXTEN | ISIG); /* Ctrl-C arrives as a byte */
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSAFLUSH, &t) < 0) return false;
    raw_on = 1;
    static const char on[] = "\x1b[?2004h";
    return write(out, on, sizeof on - 1) == (ssize_t)(sizeof on - 1);
}

static int term_cols(int out) {
    struct winsize ws;
    return ioctl(out, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
}

/* ------------------------------------------------------------ edit buffer */

struct line_edit {
    int in, out;
    bool color;
    char *path;
    char *buf; /* the message being edited, NUL-terminated */
    size_t len, cap, pos; /* pos: the cursor, a byte offset at a character start */
    const char *prompt;
    int cur_row;          /* the cursor's row below the prompt's, as last drawn */
    char **hist;
    int n_hist, hist_at;  /* hist_at == n_hist: the message being written */
    char *draft;          /* that message while browsing history */
    char *out_buf;        /* what one redraw writes */
    size_t out_len, out_cap;
};

static bool reserve(char **p, size_t *cap, size_t need) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 128;
    while (c < need) c *= 2;
    char *n = realloc(*p, c);
    if (!n) return false;
    *p = n;
    *cap = c;
    return true;
}

static bool insert(struct line_edit *e, const char *s, size_t n) {
    if (!reserve(&e->buf, &e->cap, e->len + n + 1)) return false;
    memmove(e->buf + e->pos + n, e->buf + e->pos, e->len - e->pos);
    memcpy(e->buf + e->pos, s, n);
    e->len += n;
    e->pos += n;
    e->buf[e->len] = 0;
    return true;
}

static void erase(struct line_edit *e, size_t from, size_t to) {
    memmove(e->buf + from, e->buf + to, e->len - to);
    e->len -= to - from;
    e->buf[e->len] = 0;
    if (e->pos >= to) e->pos -= to - from;
    else if (e->pos > from) e->pos = from;
}

static bool set_text(struct line_edit *e, const char *s) {
    size_t n = strlen(s);
    if (!reserve(&e->buf, &e->cap, n + 1)) return false;
    memcpy(e->buf, s, n + 1);
    e->len = e->pos = n;
    return true;
}

static bool is_cont(unsigned char c) { return (c & 0xc0) == 0x80; }

static size_t prev_char(const struct line_edit *e, size_t i) {
    while (i > 0 && is_cont((unsigned char)e->buf[--i])) {}
    return i;
}

static size_t next_char(const struct line_edit *e, size_t i) {
    if (i < e->len) i++;
    while (i < e->len && is_cont((unsigned char)e->buf[i])) i++;
    return i;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }

static size_t prev_word(const struct line_edit *e, size_t i) {
    while (i > 0 && is_space(e->buf[i - 1])) i--;
    while (i > 0 && !is_space(e->buf[i - 1])) i--;
    return i;
}

static size_t next_word(const struct line_edit *e, size_t i) {
    while (i < e->len && is_space(e->buf[i])) i++;
    while (i < e->len && !is_space(e->buf[i])) i++;
    return i;
}

/* ---------------------------------------------------------------- drawing */

static void put(struct line_edit *e, const char *s, size_t n) {
    if (!reserve(&e->out_buf, &e->out_cap, e->out_len + n)) return;
    memcpy(e->out_buf + e->out_len, s, n);
    e->out_len += n;
}

static void puts_(struct line_edit *e, const char *s) { put(e, s, strlen(s)); }

static bool flush_out(struct line_edit *e) {
    size_t done = 0;
    while (done < e->out_len) {
        ssize_t w = write(e->out, e->out_buf + done, e->out_len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        done += (size_t)w;
    }
    e->out_len = 0;
    return true;
}

/* Row and column after writing text[0..n) from (*row, *col), wrapping at
 * cols; a row just filled counts as the start of the next. */
static void advance(const char *text, size_t n, int cols, int *row, int *col) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if (is_cont(c)) continue;
        if (c == '\n') {
            ++*row;
            *col = (int)sizeof CONT_PROMPT - 1;
            continue;
        }
        if (++*col >= cols) ++*row, *col = 0;
    }
}

static void refresh(struct line_edit *e) {
    int cols = term_cols(e->out);
    char seq[32];
    if (e->cur_row > 0) snprintf(seq, sizeof seq, "\x1b[%dA", e->cur_row), puts_(e, seq);
    puts_(e, "\r\x1b[J");
    puts_(e, e->prompt);
    if (e->color) puts_(e, "\x1b[32m");
    for (size_t i = 0; i < e->len; i++) {
        if (e->buf[i] == '\n') {
            puts_(e, e->color ? "\x1b[0m\r\n" : "\r\n");
            puts_(e, CONT_PROMPT);
            if (e->color) puts_(e, "\x1b[32m");
        } else {
            put(e, e->buf + i, 1);
        }
    }
    if (e->color) puts_(e, "\x1b[0m");
    int er = 0, ec = 0, cr = 0, cc = 0;
    advance(e->prompt, strlen(e->prompt), cols, &er, &ec);
    cr = er, cc = ec;
    advance(e->buf, e->len, cols, &er, &ec);
    advance(e->buf, e->pos, cols, &cr, &cc);
    /* the text ended exactly at the right margin: the terminal is waiting
     * to wrap; make it go to the next row so the counts above hold */
    if (ec == 0 && e->len && e->buf[e->len - 1] != '\n') puts_(e, "\r\n");
    if (er > cr) snprintf(seq, sizeof seq, "\x1b[%dA", er - cr), puts_(e, seq);
    puts_(e, "\r");
    if (cc > 0) snprintf(seq, sizeof seq, "\x1b[%dC", cc), puts_(e, seq);
    e->cur_row = cr;
    flush_out(e);
}

/* Leave the cursor below the whole message. */
static void finish_line(struct line_edit *e) {
    e->pos = e->len;
    refresh(e);
    puts_(e, "\r\n");
    flush_out(e);
    e->cur_row = 0;
}

/* ---------------------------------------------------------------- history */

/* One entry per file line; newlines and backslashes escaped. */
static void history_load(struct line_edit *e) {
    FILE *f = e->path ? fopen(e->path, "r") : NULL;
    if (!f) return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0 && e->n_hist < HISTORY_MAX) {
        size_t o = 0;
        for (ssize_t i = 0; i < n && line[i] != '\n'; i++) {
            if (line[i] == '\\' && i + 1 < n) {
                i++;
                line[o++] = (char)(line[i] == 'n' ? '\n' : line[i]);
            } else {
                line[o++] = line[i];
            }
        }
        line[o] = 0;
        if (o && (e->hist[e->n_hist] = strdup(line))) e->n_hist++;
    }
    free(line);
    fclose(f);
}

static void history_add(struct line_edit *e, const char *s) {
    if (!*s || (e->n_hist && !strcmp(e->hist[e->n_hist - 1], s))) return;
    char *d = strdup(s);
    if (!d) return;
    if (e->n_hist == HISTORY_MAX) {
        free(e->hist[0]);
        memmove(e->hist, e->hist + 1, (HISTORY_MAX - 1) * sizeof *e->hist);
        e->n_hist--;
    }
    e->hist[e->n_hist++] = d;
    FILE *f = e->path ? fopen(e->path, "a") : NULL;
    if (!f) return;
    for (const char *p = s; *p; p++) {
        if (*p == '\n') fputs("\\n", f);
        else if (*p == '\\') fputs("\\\\", f);
        else fputc(*p, f);
    }
    fputc('\n', f);
    fclose(f);
}

static void history_move(struct line_edit *e, int d) {
    int to = e->hist_at + d;
    if (to < 0 || to > e->n_hist) return;
    if (e->hist_at == e->n_hist) {
        free(e->draft);
        e->draft = strdup(e->buf ? e->buf : "");
    }
    e->hist_at = to;
    set_text(e, to == e->n_hist ? (e->draft ? e->draft : "") : e->hist[to]);
}

struct line_edit *line_edit_new(int in, int out, const char *history_path, bool color) {
    struct line_edit *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->in = in;
    e->out = out;
    e->color = color;
    e->hist = calloc(HISTORY_MAX, sizeof *e->hist);
    e->path = history_path ? strdup(history_path) : NULL;
    if (!e->hist || (history_path && !e->path) || !set_text(e, "")) {
        line_edit_free(e);
        return NULL;
    }
    history_load(e);
    return e;
}

void line_edit_free(struct line_edit *e) {
    if (!e) return;
    for (int i = 0; e->hist && i < e->n_hist; i++) free(e->hist[i]);
    free(e->hist);
    free(e->path);
    free(e->buf);
    free(e->draft);
    free(e->out_buf);
    free(e);
}

/* ------------------------------------------------------------------- keys */

static int read_byte(int fd) {
    unsigned char c;
    for (;;) {
        ssize_t n = read(fd, &c, 1);
        if (n == 1) return c;
        if (n < 0 && errno == EINTR) continue;
        return -1;
    }
}

/* An escape sequence after ESC: a CSI/SS3 final byte with its number
 * ("3~" gives 3, '~'), or an Alt-key. *final 0: unknown. */
static int read_escape(int fd, int *final) {
    int c = read_byte(fd), num = 0;
    *final = 0;
    if (c == '[' || c == 'O') {
        int d;
        while ((d = read_byte(fd)) >= 0 && ((d >= '0' && d <= '9') || d == ';'))
            if (d != ';') num = num * 10 + (d - '0');
        *final = d < 0 ? 0 : d;
        return num;
    }
    *final = c < 0 ? 0 : 0x100 | c; /* Alt + c */
    return 0;
}

/* A """ block still open, or a trailing backslash: Enter adds a line. */
static bool wants_more(struct line_edit *e) {
    if (e->len >= 3 && !strncmp(e->buf, "\"\"\"", 3))
        return !(e->len >= 6 && !strcmp(e->buf + e->len - 3, "\"\"\""));
    if (e->len && e->buf[e->len - 1] == '\\') {
        e->buf[--e->len] = 0;
        e->pos = e->len;
        return true;
    }
    return false;
}

/* The message without its """ markers. */
static char *take_text(struct line_edit *e) {
    size_t from = 0, to = e->len;
    if (e->len >= 6 && !strncmp(e->buf, "\"\"\"", 3)) {
        from = 3 + (e->buf[3] == '\n');
        to = e->len - 3;
        if (to > from && e->buf[to - 1] == '\n') to--;
        if (to < from) to = from;
    }
    char *t = malloc(to - from + 1);
    if (t) memcpy(t, e->buf + from, to - from), t[to - from] = 0;
    return t;
}

/* Bytes of a bracketed paste up to ESC [ 201 ~, inserted as they are
 * (carriage returns as newlines). */
static bool read_paste(struct line_edit *e) {
    for (;;) {
        int c = read_byte(e->in);
        if (c < 0) return false;
        if (c == 0x1b) {
            int fin, num = read_escape(e->in, &fin);
            if (fin == '~' && num == 201) return true;
            continue;
        }
        char ch = (char)(c == '\r' ? '\n' : c);
        if (!insert(e, &ch, 1)) return false;
    }
}

/* One key; returns -1 to keep editing, else the result. */
static int key(struct line_edit *e, int c) {
    switch (c) {
    case 1: e->pos = 0; break;                                 /* Ctrl-A */
    case 2: e->pos = prev_char(e, e->pos); break;              /* Ctrl-B */
    case 3:                                                    /* Ctrl-C */
        if (!e->len) return LE_INTERRUPT;
        e->pos = e->len;
        refresh(e);
        puts_(e, "^C\r\n");
        flush_out(e);
        e->cur_row = 0;
        set_text(e, "");
        break;
    case 4:                                                    /* Ctrl-D */
        if (!e->len) return LE_EOF;
        erase(e, e->pos, next_char(e, e->pos));
        break;
    case 5: e->pos = e->len; break;                            /* Ctrl-E */
    case 6: e->pos = next_char(e, e->pos); break;              /* Ctrl-F */
    case 8: case 127:                                          /* Backspace */
        erase(e, prev_char(e, e->pos), e->pos);
        break;
    case 11: erase(e, e->pos, e->len); break;                  /* Ctrl-K */
    case 12: puts_(e, "\x1b[H\x1b[2J"); e->cur_row = 0; break; /* Ctrl-L */
    case 14: history_move(e, 1); break;                        /* Ctrl-N */
    case 16: history_move(e, -1); break;                       /* Ctrl-P */
    case 21: erase(e, 0, e->pos); break;                       /* Ctrl-U */
    case 23: erase(e, prev_word(e, e->pos), e->pos); break;    /* Ctrl-W */
    case '\r': case '\n':
        if (wants_more(e)) {
            e->pos = e->len;
            insert(e, "\n", 1);
            break;
        }
        return LE_LINE;
    default:
        if (c >= 0x20 || c == '\t') {
            char ch = (char)c;
            insert(e, &ch, 1);
        }
        break;
    }
    return -1;
}

static int escape_key(struct line_edit *e) {
    int fin, num = read_escape(e->in, &fin);
    switch (fin) {
    case 'A': history_move(e, -1); break;
    case 'B': history_move(e, 1); break;
    case 'C': e->pos = next_char(e, e->pos); break;
    case 'D': e->pos = prev_char(e, e->pos); break;
    case 'H': e->pos = 0; break;
    case 'F': e->pos = e->len; break;
    case 0x100 | 'b': e->pos = prev_word(e, e->pos); break;
    case 0x100 | 'f': e->pos = next_word(e, e->pos); break;
    case 0x100 | 127: erase(e, prev_word(e, e->pos), e->pos); break;
    case '~':
        if (num == 1 || num == 7) e->pos = 0;
        else if (num == 4 || num == 8) e->pos = e->len;
        else if (num == 3) erase(e, e->pos, next_char(e, e->pos));
        else if (num == 200 && !read_paste(e)) return LE_ERROR;
        break;
    default: break;
    }
    return -1;
}

enum le_result line_edit_read(struct line_edit *e, const char *prompt, char **text) {
    *text = NULL;
    if (!raw_mode(e->in, e->out)) return LE_ERROR;
    e->prompt = prompt;
    e->cur_row = 0;
    e->hist_at = e->n_hist;
    set_text(e, "");
    refresh(e);
    int r = -1;
    while (r < 0) {
        int c = read_byte(e->in);
        if (c < 0) r = e->len ? LE_LINE : LE_EOF;
        else r = c == 0x1b ? escape_key(e) : key(e, c);
        if (r < 0 || r == LE_LINE) refresh(e);
    }
    if (r == LE_LINE) {
        finish_line(e);
        *text = take_text(e);
        if (!*text) r = LE_ERROR;
        else history_add(e, *text);
    } else {
        puts_(e, "\r\n");
        flush_out(e);
    }
    line_edit_restore();
    return (enum le_result)r;
}
