/*
 * registry.c — the backends built into this binary, by name. The one place
 * outside a backend's own folder that knows which exist: CUDA (make CUDA=1)
 * behind `#if EMBER_CUDA`, Vulkan (issue [7]) behind `#if EMBER_VULKAN`.
 */
#include <stdio.h>
#include <string.h>

#include "backend.h"

extern const struct ember_backend_ops cpu_backend_ops;
#if EMBER_VULKAN
extern const struct ember_backend_ops vulkan_backend_ops;
#endif
#if EMBER_CUDA
extern const struct ember_backend_ops cuda_backend_ops;
#endif

static const struct ember_backend_ops *const backends[] = {
    &cpu_backend_ops,
#if EMBER_VULKAN
    &vulkan_backend_ops,
#endif
#if EMBER_CUDA
    &cuda_backend_ops,
#endif
};
#define N_BACKENDS (sizeof backends / sizeof backends[0])

const char *ember_backend_list(void) {
    static char list[128];
    if (!list[0])
        for (size_t i = 0; i < N_BACKENDS; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     backends[i]->name);
    return list;
}

enum ember_status ember_backend_new(const struct ember_options *o, struct ember_backend **out,
                                    struct ember_err *err) {
    *out = NULL;
    const char *name = o->backend ? o->backend : "cpu";
    for (size_t i = 0; i < N_BACKENDS; i++)
        if (!strcmp(name, backends[i]->name)) return backends[i]->init(o, out, err);
    return ember_fail(err, EMBER_EUNSUPPORTED, "unknown backend '%s' (built in: %s)", name,
                      ember_backend_list());
}

int ember_devices(const struct ember_options *o, struct ember_device *out, int max) {
    int n = 0;
    for (size_t i = 0; i < N_BACKENDS && n < max; i++) {
        struct backend_device d[16];
        int k = backends[i]->devices(o, d, (int)(sizeof d / sizeof d[0]));
        for (int j = 0; j < k && n < max; j++) out[n++] = (struct ember_device){backends[i]->name, d[j]};
    }
    return n;
}

void ember_backend_free(struct ember_backend *be) {
    if (be) be->ops->free(be);
}
