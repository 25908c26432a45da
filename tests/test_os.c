/*
 * test_os.c — os_posix.c pieces that need a made-up system to test: the
 * cgroup memory limit (v1, v2, a hybrid mount, ancestors, none) that
 * os_memory_available lowers its answer to, so a context a container could
 * never hold is refused before allocation instead of being killed later.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "os.h"

static char root[] = "/tmp/ember-test-os-XXXXXX";

/* Write text to root/rel, making its folders. */
static void put(const char *rel, const char *text) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(path, 0700);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static uint64_t limit(const char *self) {
    char p[1024];
    put("self", self);
    snprintf(p, sizeof p, "%s/self", root);
    return os_cgroup_memory_limit(root, p);
}

int main(void) {
    if (!mkdtemp(root)) {
        CHECK(0, "temporary folder");
        return CHECK_DONE();
    }
    CHECK(limit("0::/\n") == UINT64_MAX, "no memory.max anywhere: no limit");
    put("a/b/memory.max", "max\n");
    put("a/memory.max", "1073741824\n");
    CHECK(limit("0::/a/b\n") == 1073741824u, "v2: a parent's memory.max binds its child");
    put("a/b/memory.max", "268435456\n");
    CHECK(limit("0::/a/b\n") == 268435456u, "v2: the child's own, smaller limit");
    put("memory/x/memory.limit_in_bytes", "536870912\n");
    put("memory/memory.limit_in_bytes", "9223372036854771712\n");
    CHECK(limit("5:cpu:/\n4:memory:/x\n0::/\n") == 536870912u, "v1: memory.limit_in_bytes");
    put("unified/u/memory.max", "2147483648\n");
    CHECK(limit("4:memory:/\n0::/u\n") == 2147483648u, "hybrid: unified/'s memory.max");
    CHECK(limit("garbage\n::\n") == UINT64_MAX, "a malformed cgroup file: no limit");
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0, "clean up");
    const char *why = "";
    CHECK(os_memory_available(&why) > 0, "os_memory_available answers (%s)", why);
    return CHECK_DONE();
}
