/*
 * progress.c — the progress line of progress.h: a 30-column bar, the
 * count and a label, redrawn with "\r" on a terminal, never written when
 * stderr is a file or a pipe (logs stay clean).
 */
#include "progress.h"

#include <stdio.h>
#include <unistd.h>

#include "os.h"

void progress_begin(struct progress *p, double delay_ms) {
    p->t0_ms = os_now_ms();
    p->delay_ms = delay_ms;
    p->tty = isatty(STDERR_FILENO);
    p->shown = false;
}

void progress_update(struct progress *p, int64_t done, int64_t total, const char *what) {
    if (!p->tty || total <= 0) return;
    if (!p->shown && os_now_ms() - p->t0_ms < p->delay_ms) return;
    int w = 30, bar = (int)(w * (done < total ? done : total) / total);
    fprintf(stderr, "\r[%.*s%*s] %4lld/%lld %-40.40s", bar, "##############################", w - bar, "",
            (long long)done, (long long)total, what ? what : "");
    p->shown = true;
    if (done >= total) progress_end(p);
}

void progress_end(struct progress *p) {
    if (p->shown) fputc('\n', stderr);
    p->shown = false;
}
