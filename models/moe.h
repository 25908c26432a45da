/*
 * moe.h — the internals of moe.c that its tests reach: a context's
 * routing scratch (host memory) and the host-side top-k routing.
 * Private to models/ and tests; arch.h declares what the forward calls.
 */
#ifndef EMBER_MOE_H
#define EMBER_MOE_H

#include <stdbool.h>
#include <stdint.h>

/* The most experts a row may use (expert_used_count; hparams.c checks). */
#define MOE_MAX_USED 64

/* Routing scratch of one context, sized for n_batch rows (cap). */
struct moe_state {
    int cap;                    /* rows a pass may have: n_batch */
    float *logits;              /* [cap][n_expert], then [cap] shared-gate logits */
    float *prob;                /* [n_expert]: one row's softmax */
    int32_t *rows;              /* [n_expert][cap]: the rows routed to each expert */
    float *w;                   /* [n_expert][cap]: their weights */
    int *count;                 /* [n_expert]: how many */
    int32_t *ident;             /* [cap]: 0, 1, ... (the shared expert's rows) */
    float *gate;                /* [cap]: the shared expert's sigmoid gates */
    uint64_t bytes_per_expert;  /* one expert's gate, up and down */
    uint64_t expert_bytes;      /* experts' bytes read, over all passes */
};

/* Top-k routing of n rows of router logits (row i at logits + i * stride,
 * n_expert of them, host memory): softmax over all experts, the k most
 * probable (the lower index first among equal ones), weighted by their
 * probabilities, divided by the k's sum when norm_w. Fills, per expert e,
 * count[e] rows in rows[e * cap ..] (ascending) with weights in
 * w[e * cap ..]; prob: scratch of n_expert. k <= MOE_MAX_USED. O(n k n_expert). */
void moe_route(const float *logits, int stride, int n, int n_expert, int k, bool norm_w,
               float *prob, int32_t *rows, float *w, int *count, int cap);

#endif
