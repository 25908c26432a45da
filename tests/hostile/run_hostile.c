/*
 * run_hostile.c — runs `ember run -m FILE -p hi -n 1` on every case that
 * tests/hostile/gen_hostile.py describes and checks how each one ends.
 *
 * Each case must end within the timeout (2 s) with exit status 1 and exactly
 * one stderr line starting "ember: error: " ("any" cases may instead exit 0,
 * with no error line), with nothing on stdout for a failure, and with a peak
 * RSS below 64 MB plus the file's size (plus --rss-slack MB, which the
 * sanitizer build needs for its shadow memory). The runner rebuilds each
 * case file from the source model (truncation, integer patch, or a written
 * head plus the source's tail) into a per-worker path, so thousands of cases
 * cost little disk; workers run in parallel, one ember each.
 *
 * usage: run_hostile EMBER SOURCE.gguf CASEDIR [-j N] [--rss-slack MB]
 *                    [--timeout SEC] [--trunc-stride N] [--keep]
 * Prints "ok ..." per case kind and "not ok ..." per failing case (the
 * first 40), in tests/run.sh's protocol; exit status 1 on any failure.
 * --keep copies each failing case to CASEDIR/failed-LINE.gguf;
 * --trunc-stride N runs only every Nth truncation inside the header (the
 * sanitizer build, whose process start costs ~20 ms, uses it: test_gguf
 * covers every header offset in-process there). HOSTILE_RSS_SLACK_MB adds to
 * the RSS budget; HOSTILE_VERBOSE=1 lists the cases that ran (exit 0).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 64
#define MAX_REPORTED 40
#define BASE_RSS_KB (64L * 1024)

struct hcase {
    bool any;          /* exit 0 is acceptable too */
    char kind;         /* 't'runc, 'p'atch, 'f'ile */
    uint64_t a, b, c;  /* trunc: a = length; patch: a off, b width, c value;
                          file: c = tail offset */
    char name[64];     /* file: the head's file name */
    char *desc;
    int line;
};

struct worker {
    struct hcase *hc;
    double start_ms;
    uint64_t size;
    pid_t pid;         /* 0: idle */
    bool killed;
    char path[4096], out[4096], err[4096];
};

static const char *casedir;
static uint8_t *src;
static uint64_t src_size;
static int n_fail, n_any_ok;
static long max_rss_kb;
static double max_ms;
static bool keep;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void on_alarm(int sig) { (void)sig; }

static uint8_t *slurp(const char *path, uint64_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return NULL;
    }
    uint8_t *p = malloc((size_t)st.st_size + 1);
    if (p && fread(p, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *n = (uint64_t)st.st_size;
    return p;
}

static bool write_all(int fd, const uint8_t *p, uint64_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) return false;
        p += w;
        n -= (uint64_t)w;
    }
    return true;
}

/* Write the case's file to path; returns its size, or -1. */
static int64_t make_case(const struct hcase *hc, const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
    bool ok = true;
    uint64_t size = 0;
    if (hc->kind == 't') {
        size = hc->a < src_size ? hc->a : src_size;
        ok = write_all(fd, src, size);
    } else if (hc->kind == 'p') {
        uint8_t v[8];
        for (int i = 0; i < 8; i++) v[i] = (uint8_t)(hc->c >> (8 * i));
        ok = hc->a + hc->b <= src_size && hc->b <= 8 && write_all(fd, src, hc->a) &&
             write_all(fd, v, hc->b) &&
             write_all(fd, src + hc->a + hc->b, src_size - hc->a - hc->b);
        size = src_size;
    } else {
        char p[4200];
        uint64_t n = 0;
        snprintf(p, sizeof p, "%s/%s", casedir, hc->name);
        uint8_t *head = slurp(p, &n);
        ok = head && write_all(fd, head, n);
        free(head);
        size = n;
        if (ok && hc->c) {
            ok = hc->c <= src_size && write_all(fd, src + hc->c, src_size - hc->c);
            size += src_size - hc->c;
        }
    }
    if (close(fd) != 0) ok = false;
    return ok ? (int64_t)size : -1;
}

static void fail(const struct hcase *hc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fail(const struct hcase *hc, const char *fmt, ...) {
    if (++n_fail > MAX_REPORTED) return;
    va_list ap;
    va_start(ap, fmt);
    printf("not ok hostile case %d (%s): ", hc->line, hc->desc);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
    fflush(stdout);
}

/* Judge a finished case. */
static void judge(struct worker *w, int status, const struct rusage *ru) {
    const struct hcase *hc = w->hc;
    double ms = now_ms() - w->start_ms;
    long rss = ru->ru_maxrss;
    long slack_kb = 0;
    const char *s = getenv("HOSTILE_RSS_SLACK_MB");
    if (s) slack_kb = strtol(s, NULL, 10) * 1024;
    if (rss > max_rss_kb) max_rss_kb = rss;
    if (ms > max_ms) max_ms = ms;
    uint64_t n_err = 0, n_out = 0;
    uint8_t *err = slurp(w->err, &n_err);
    uint8_t *out = slurp(w->out, &n_out);
    if (err) err[n_err] = 0;
    int lines = 0;
    for (uint64_t i = 0; err && i < n_err; i++) lines += err[i] == '\n';
    bool one_error = err && lines == 1 && !strncmp((char *)err, "ember: error: ", 14) &&
                     err[n_err - 1] == '\n';
    bool any_error = err && (strstr((char *)err, "error") || strstr((char *)err, "ERROR") ||
                             strstr((char *)err, "Sanitizer"));
    bool bad = true;
    if (w->killed) {
        fail(hc, "still running after the timeout (killed)");
    } else if (WIFSIGNALED(status)) {
        fail(hc, "killed by signal %d; stderr: %.300s", WTERMSIG(status), err ? (char *)err : "");
    } else if (WEXITSTATUS(status) == 1) {
        if (!one_error)
            fail(hc, "exit 1 but stderr is not one 'ember: error:' line: %.300s",
                 err ? (char *)err : "");
        else if (n_out)
            fail(hc, "exit 1 but %llu bytes on stdout", (unsigned long long)n_out);
        else
            bad = false;
    } else if (WEXITSTATUS(status) == 0 && hc->any) {
        if (any_error) fail(hc, "exit 0 with an error on stderr: %.300s", (char *)err);
        else {
            bad = false;
            n_any_ok++;
            if (getenv("HOSTILE_VERBOSE")) printf("# exit 0: case %d (%s)\n", hc->line, hc->desc);
        }
    } else {
        fail(hc, "exit %d (want 1%s); stderr: %.300s", WEXITSTATUS(status),
             hc->any ? " or 0" : "", err ? (char *)err : "");
    }
    if (!bad && rss > BASE_RSS_KB + slack_kb + (long)(w->size / 1024)) {
        fail(hc, "peak RSS %ld KB, over 64 MB + the file's %llu KB", rss,
             (unsigned long long)(w->size / 1024));
        bad = true;
    }
    if (bad && keep) {
        char p[4200];
        snprintf(p, sizeof p, "%s/failed-%d.gguf", casedir, hc->line);
        rename(w->path, p);
    }
    free(err);
    free(out);
}

static void start(struct worker *w, struct hcase *hc, const char *ember) {
    int64_t size = make_case(hc, w->path);
    if (size < 0) {
        fprintf(stderr, "run_hostile: cannot write %s: %s\n", w->path, strerror(errno));
        exit(2);
    }
    w->hc = hc;
    w->size = (uint64_t)size;
    w->killed = false;
    w->start_ms = now_ms();
    pid_t pid = fork();
    if (pid < 0) {
        perror("run_hostile: fork");
        exit(2);
    }
    if (pid == 0) {
        int o = open(w->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(w->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int in = open("/dev/null", O_RDONLY);
        if (o < 0 || e < 0 || in < 0) _exit(127);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        execl(ember, "ember", "run", "-m", w->path, "-p", "hi", "-n", "1", (char *)NULL);
        _exit(127);
    }
    w->pid = pid;
}

static int parse_cases(const char *path, struct hcase **out) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0, cap = 0;
    struct hcase *v = NULL;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    int lineno = 0;
    while ((len = getline(&line, &lcap, f)) > 0) {
        lineno++;
        if (line[len - 1] == '\n') line[--len] = 0;
        if (!len) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            v = realloc(v, (size_t)cap * sizeof *v);
            if (!v) exit(2);
        }
        struct hcase *hc = &v[n];
        memset(hc, 0, sizeof *hc);
        char expect[8], kind[8], arg[128];
        int used = 0;
        if (sscanf(line, "%7s %7s %127s %n", expect, kind, arg, &used) < 3) {
            fprintf(stderr, "run_hostile: %s:%d: bad line\n", path, lineno);
            exit(2);
        }
        hc->any = !strcmp(expect, "any");
        hc->kind = kind[0];
        hc->line = lineno;
        hc->desc = strdup(line + used);
        /* trunc N | patch OFF:WIDTH:VALUE | file NAME:TAIL */
        char *end = arg;
        bool ok = false;
        if (hc->kind == 't') {
            hc->a = strtoull(arg, &end, 10);
            ok = end != arg && !*end;
        } else if (hc->kind == 'p') {
            hc->a = strtoull(arg, &end, 10);
            if (*end == ':') hc->b = strtoull(end + 1, &end, 10);
            if (*end == ':') hc->c = strtoull(end + 1, &end, 10);
            ok = !*end && hc->b >= 1 && hc->b <= 8;
        } else if (hc->kind == 'f') {
            char *colon = strchr(arg, ':');
            if (colon && (size_t)(colon - arg) < sizeof hc->name) {
                memcpy(hc->name, arg, (size_t)(colon - arg));
                hc->name[colon - arg] = 0;
                hc->c = strtoull(colon + 1, &end, 10);
                ok = end != colon + 1 && !*end;
            }
        }
        if (!ok) {
            fprintf(stderr, "run_hostile: %s:%d: bad case '%s'\n", path, lineno, arg);
            exit(2);
        }
        n++;
    }
    free(line);
    fclose(f);
    *out = v;
    return n;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: run_hostile EMBER SOURCE.gguf CASEDIR [-j N] [--timeout SEC] [--keep]\n");
        return 2;
    }
    const char *ember = argv[1];
    casedir = argv[3];
    long jobs = sysconf(_SC_NPROCESSORS_ONLN);
    double timeout_ms = 2000;
    long stride = 1;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "-j") && i + 1 < argc) jobs = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) timeout_ms = strtod(argv[++i], NULL) * 1e3;
        else if (!strcmp(argv[i], "--keep")) keep = true;
        else if (!strcmp(argv[i], "--trunc-stride") && i + 1 < argc) stride = strtol(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "run_hostile: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (jobs < 1) jobs = 1;
    if (jobs > MAX_WORKERS) jobs = MAX_WORKERS;
    if (!(src = slurp(argv[2], &src_size))) {
        fprintf(stderr, "run_hostile: cannot read %s\n", argv[2]);
        return 2;
    }
    char cpath[4200];
    snprintf(cpath, sizeof cpath, "%s/cases.txt", casedir);
    struct hcase *cases = NULL;
    int n = parse_cases(cpath, &cases);
    if (n <= 0) {
        fprintf(stderr, "run_hostile: no cases in %s\n", cpath);
        free(cases);
        return 2;
    }
    if (stride > 1) { /* keep every stride-th header truncation */
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (cases[i].kind != 't' || strncmp(cases[i].desc, "truncated at ", 13) ||
                i % stride == 0)
                cases[m++] = cases[i];
            else
                free(cases[i].desc);
        }
        n = m;
    }

    /* A 50 ms interval timer interrupts wait4 so timeouts are noticed. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 50000}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, NULL);

    static struct worker ws[MAX_WORKERS];
    for (int k = 0; k < jobs; k++) {
        snprintf(ws[k].path, sizeof ws[k].path, "%s/slot%d.gguf", casedir, k);
        snprintf(ws[k].out, sizeof ws[k].out, "%s/slot%d.out", casedir, k);
        snprintf(ws[k].err, sizeof ws[k].err, "%s/slot%d.err", casedir, k);
    }
    double t0 = now_ms();
    int next = 0, running = 0, n_by_kind[3] = {0};
    while (next < n || running) {
        for (int k = 0; k < jobs && next < n; k++) {
            if (ws[k].pid) continue;
            start(&ws[k], &cases[next++], ember);
            running++;
        }
        int status;
        struct rusage ru;
        pid_t pid = wait4(-1, &status, 0, &ru);
        if (pid < 0) {
            if (errno != EINTR) {
                perror("run_hostile: wait4");
                exit(2);
            }
            double t = now_ms();
            for (int k = 0; k < jobs; k++)
                if (ws[k].pid && !ws[k].killed && t - ws[k].start_ms > timeout_ms) {
                    kill(ws[k].pid, SIGKILL);
                    ws[k].killed = true;
                }
            continue;
        }
        for (int k = 0; k < jobs; k++) {
            if (ws[k].pid != pid) continue;
            judge(&ws[k], status, &ru);
            char kind = ws[k].hc->kind;
            n_by_kind[kind == 't' ? 0 : kind == 'p' ? 1 : 2]++;
            ws[k].pid = 0;
            running--;
        }
    }
    double secs = (now_ms() - t0) / 1e3;
    if (n_fail > MAX_REPORTED) printf("not ok hostile: %d more failing cases not shown\n", n_fail - MAX_REPORTED);
    if (!n_fail) {
        printf("ok hostile truncations: %d files cut inside the header or the data\n", n_by_kind[0]);
        printf("ok hostile integer fields: %d header/metadata/tensor fields set to 0, 1, 2^31, 2^32, 2^63, 2^64-1\n",
               n_by_kind[1]);
        printf("ok hostile rebuilt files: %d structural cases (arrays, strings, tensors, hyper-parameters)\n",
               n_by_kind[2]);
    }
    printf("%s hostile: %d cases, %d failed, %d ran legitimately (exit 0); max %.0f ms, max RSS %ld KB; %.1f s with %ld workers\n",
           n_fail ? "not ok" : "ok", n, n_fail, n_any_ok, max_ms, max_rss_kb, secs, jobs);
    for (int k = 0; k < jobs; k++) {
        unlink(ws[k].path);
        unlink(ws[k].out);
        unlink(ws[k].err);
    }
    for (int i = 0; i < n; i++) free(cases[i].desc);
    free(cases);
    free(src);
    fflush(stdout);
    return n_fail ? 1 : 0;
}
