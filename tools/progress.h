/*
 * progress.h — the one progress line of the tools: "[####    ] 12/30 what"
 * on stderr, redrawn in place, only when stderr is a terminal and only once
 * the work has run for the given delay (so quick steps print nothing).
 * quantize draws it per tensor; loading a model per step of model_load.
 */
#ifndef EMBER_PROGRESS_H
#define EMBER_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
    double t0_ms;    /* when progress_begin was called */
    double delay_ms; /* draw nothing before this much time has passed */
    bool tty;        /* stderr is a terminal */
    bool shown;      /* a line is on the screen */
};

void progress_begin(struct progress *p, double delay_ms);
/* Step done of total finished; what (may be NULL) is printed after the
 * count, at most 40 bytes of it. The line ends when done == total. */
void progress_update(struct progress *p, int64_t done, int64_t total, const char *what);
/* Finish a line left open (a failure before the last step). */
void progress_end(struct progress *p);

#endif
