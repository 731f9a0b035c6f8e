// Measuring helpers for bench/compare, in C so that polling and parsing cost the machine little
// while a manager is being timed. Times are CLOCK_REALTIME, the clock the services stamp their
// start records with (see service.c: one 32-byte line per start).
//   bcmp-tool subreaper CMD [ARG...]         run CMD as a child subreaper: reap every orphan
//   bcmp-tool wait-lines FILE N TIMEOUT_MS   until FILE holds N start records; exit 1 on timeout
//   bcmp-tool wait-gone FILE T0_US CAP_MS    until every pid recorded in FILE has exited;
//                                            prints "ms_since_T0 still_alive total" (CAP_MS 0:
//                                            only count those alive now)
//   bcmp-tool wait-exit PID TIMEOUT_MS       until PID has exited; exit 1 on timeout
//   bcmp-tool wait-bytes DIR BYTES CAP_MS STALL_MS
//                                            until DIR's log files hold BYTES; prints
//                                            "realtime_ns bytes"; exit 1 if it stalled or capped
//   bcmp-tool check-log DIR BYTES            numbered lines in DIR's log files; prints
//                                            "expected found missing duplicated torn"
//   bcmp-tool procstat PID...                the first PID is the manager; prints "mgr_rss_kb
//                                            mgr_pss_kb all_rss_kb all_pss_kb cpu_ticks vcsw procs"
//   bcmp-tool respawn-stats FILE END_NS      prints "starts median_ms min_ms last_start_age_ms"
// Log files in DIR are those named "current", "@*" (svlogd, s6-log and multilog rotations) or
// "*.log*" (tend, supervisord, the floor): the loggers' lock, state and config files are not.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { MARK = 32, LINE = 13 };

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static void raise_nofile(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

// Reads every start record of a marker file: pids and/or timestamps (either may be NULL).
static long read_marks(const char *path, pid_t **pids, long long **stamps) {
    FILE *f = fopen(path, "r");
    long n = 0, cap = 0;
    if (pids) *pids = NULL;
    if (stamps) *stamps = NULL;
    if (!f) return 0;
    int pid;
    long long ns;
    while (fscanf(f, "%d %lld", &pid, &ns) == 2) {
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            if (pids) *pids = realloc(*pids, cap * sizeof **pids);
            if (stamps) *stamps = realloc(*stamps, cap * sizeof **stamps);
        }
        if (pids) (*pids)[n] = pid;
        if (stamps) (*stamps)[n] = ns;
        n++;
    }
    fclose(f);
    return n;
}

// The harness runs under this so that processes orphaned by a manager it killed are reaped
// here rather than left as zombies under a PID 1 that may not reap.
static int subreaper(char **argv) {
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    pid_t child = fork();
    if (child < 0) return 111;
    if (child == 0) {
        execvp(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    // Ctrl-C reaches the whole foreground group: the harness handles it; we keep reaping.
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    int status, code = 111;
    pid_t pid;
    while ((pid = wait(&status)) != child)
        if (pid < 0 && errno != EINTR) return code;
    code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    // The harness has killed what it started; reap the last of it, but never hang on an
    // orphan that outlived it.
    for (int i = 0; i < 500; i++) {
        while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {}
        if (pid < 0) return code;  // ECHILD: nothing left
        sleep_ms(10);
    }
    fprintf(stderr, "bcmp-tool: orphans still running after the harness exited\n");
    return code ? code : 1;
}

static int wait_lines(const char *path, long n, long timeout_ms) {
    long long deadline = now_ns() + timeout_ms * 1000000LL;
    while (file_size(path) / MARK < n) {
        if (now_ns() > deadline) {
            fprintf(stderr, "bcmp-tool: %ld of %ld started after %ld ms\n", file_size(path) / MARK,
                    n, timeout_ms);
            return 1;
        }
        sleep_ms(1);
    }
    return 0;
}

// pidfds, not pids: a pid can be reused, the pidfd names the very process, and poll() says
// when it has exited (whether or not anyone has reaped it yet).
static int wait_gone(const char *path, long long t0_us, long cap_ms) {
    raise_nofile();
    pid_t *pids;
    long n = read_marks(path, &pids, NULL);
    struct pollfd *fds = calloc(n ? n : 1, sizeof *fds);
    long alive = 0;
    for (long i = 0; i < n; i++) {
        int fd = (int)syscall(SYS_pidfd_open, pids[i], 0);
        if (fd < 0) continue;  // already gone
        fds[alive].fd = fd;
        fds[alive].events = POLLIN;
        alive++;
    }
    long long deadline = t0_us * 1000LL + cap_ms * 1000000LL;
    // poll at least once, so that a cap already past still tells the living from the dead
    while (alive > 0) {
        long left = (long)((deadline - now_ns()) / 1000000LL);
        if (left < 0) left = 0;
        if (poll(fds, alive, left) > 0) {
            for (long i = 0; i < alive;) {
                if (fds[i].revents) {
                    close(fds[i].fd);
                    fds[i] = fds[--alive];
                } else {
                    i++;
                }
            }
        }
        if (left == 0) break;
    }
    printf("%.1f %ld %ld\n", (now_ns() - t0_us * 1000LL) / 1e6, alive, n);
    return 0;
}

// The manager may not be our child (tend daemonises): a pidfd sees its exit all the same.
static int wait_exit(pid_t pid, long timeout_ms) {
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0) return errno == ESRCH ? 0 : 111;
    struct pollfd p = {fd, POLLIN, 0};
    int ready;
    while ((ready = poll(&p, 1, (int)timeout_ms)) < 0 && errno == EINTR) {}
    close(fd);
    if (ready > 0) return 0;
    fprintf(stderr, "bcmp-tool: pid %d still running after %ld ms\n", (int)pid, timeout_ms);
    return 1;
}

static int is_log_name(const char *name) {
    return !strcmp(name, "current") || name[0] == '@' || strstr(name, ".log") != NULL;
}

static long long log_bytes(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    long long total = 0;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)))
        if (is_log_name(e->d_name)) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            total += file_size(path);
        }
    closedir(d);
    return total;
}

static int wait_bytes(const char *dir, long long want, long cap_ms, long stall_ms) {
    long long start = now_ns(), last_change = start, seen = -1;
    for (;;) {
        long long have = log_bytes(dir), now = now_ns();
        if (have >= want) {
            printf("%lld %lld\n", now, have);
            return 0;
        }
        if (have != seen) seen = have, last_change = now;
        if (now - start > cap_ms * 1000000LL || now - last_change > stall_ms * 1000000LL) {
            printf("%lld %lld\n", now, have);
            return 1;
        }
        sleep_ms(1);
    }
}

// Every line must be exactly 12 digits and a newline, each number from 0 to expected-1 once.
// Order across files is not checked (rotated files are named differently by every logger).
static int check_log(const char *dir, long long bytes) {
    long long expected = bytes / LINE, found = 0, dup = 0, torn = 0;
    uint8_t *seen = calloc((size_t)expected / 8 + 1, 1);
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096], line[64];
    while (d && (e = readdir(d))) {
        if (!is_log_name(e->d_name)) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        while (fgets(line, sizeof line, f)) {
            size_t len = strlen(line);
            int ok = len == LINE && line[LINE - 1] == '\n';
            for (int i = 0; ok && i < LINE - 1; i++) ok = line[i] >= '0' && line[i] <= '9';
            long long v = ok ? atoll(line) : -1;
            if (!ok || v >= expected) {
                torn++;
                // a line longer than the buffer: skip the rest of it, it counts once
                while (len == sizeof line - 1 && line[len - 1] != '\n' && fgets(line, sizeof line, f))
                    len = strlen(line);
                continue;
            }
            if (seen[v / 8] & (1u << (v % 8))) {
                dup++;
            } else {
                seen[v / 8] |= (uint8_t)(1u << (v % 8));
                found++;
            }
        }
        fclose(f);
    }
    if (d) closedir(d);
    printf("%lld %lld %lld %lld %lld\n", expected, found, expected - found, dup, torn);
    return 0;
}

// Rss and Pss from smaps_rollup (kB); 0 when the process is gone or unreadable.
static void mem_of(pid_t pid, long *rss, long *pss) {
    char path[64], line[256];
    *rss = *pss = 0;
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
    FILE *f = fopen(path, "r");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        sscanf(line, "Rss: %ld", rss);
        sscanf(line, "Pss: %ld", pss);
    }
    fclose(f);
}

// utime + stime (clock ticks) of the whole process, and voluntary switches over its threads.
static void cpu_of(pid_t pid, long *ticks, long *vcsw) {
    char path[64], buf[1024];
    *ticks = *vcsw = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f) {
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        fclose(f);
        char *p = strrchr(buf, ')');
        unsigned long ut = 0, st = 0;
        // after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
            *ticks = (long)(ut + st);
    }
    snprintf(path, sizeof path, "/proc/%d/task/*/status", pid);
    glob_t g;
    if (glob(path, 0, NULL, &g) != 0) return;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        FILE *s = fopen(g.gl_pathv[i], "r");
        if (!s) continue;
        long v;
        while (fgets(buf, sizeof buf, s))
            if (sscanf(buf, "voluntary_ctxt_switches: %ld", &v) == 1) *vcsw += v;
        fclose(s);
    }
    globfree(&g);
}

static int procstat(int n, char **pids) {
    long mrss = 0, mpss = 0, arss = 0, apss = 0, ticks = 0, vcsw = 0;
    for (int i = 0; i < n; i++) {
        pid_t pid = atoi(pids[i]);
        long rss, pss, t, v;
        mem_of(pid, &rss, &pss);
        cpu_of(pid, &t, &v);
        if (i == 0) mrss = rss, mpss = pss;
        arss += rss, apss += pss, ticks += t, vcsw += v;
    }
    printf("%ld %ld %ld %ld %ld %ld %d\n", mrss, mpss, arss, apss, ticks, vcsw, n);
    return 0;
}

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static int respawn_stats(const char *path, long long end_ns) {
    long long *t;
    long n = read_marks(path, NULL, &t);
    if (n == 0) {
        printf("0 - - -\n");
        return 0;
    }
    qsort(t, n, sizeof *t, cmp_ll);
    double age = (end_ns - t[n - 1]) / 1e6;
    if (n < 2) {
        printf("1 - - %.1f\n", age);
        return 0;
    }
    long long *gap = malloc((n - 1) * sizeof *gap);
    for (long i = 1; i < n; i++) gap[i - 1] = t[i] - t[i - 1];
    qsort(gap, n - 1, sizeof *gap, cmp_ll);
    long m = n - 1;
    double median = m % 2 ? gap[m / 2] : (gap[m / 2 - 1] + gap[m / 2]) / 2.0;
    printf("%ld %.3f %.3f %.1f\n", n, median / 1e6, gap[0] / 1e6, age);
    return 0;
}

int main(int argc, char **argv) {
    const char *cmd = argc > 1 ? argv[1] : "";
    if (!strcmp(cmd, "subreaper") && argc > 2) return subreaper(argv + 2);
    if (!strcmp(cmd, "wait-lines") && argc == 5)
        return wait_lines(argv[2], atol(argv[3]), atol(argv[4]));
    if (!strcmp(cmd, "wait-gone") && argc == 5)
        return wait_gone(argv[2], atoll(argv[3]), atol(argv[4]));
    if (!strcmp(cmd, "wait-exit") && argc == 4) return wait_exit(atoi(argv[2]), atol(argv[3]));
    if (!strcmp(cmd, "wait-bytes") && argc == 6)
        return wait_bytes(argv[2], atoll(argv[3]), atol(argv[4]), atol(argv[5]));
    if (!strcmp(cmd, "check-log") && argc == 4) return check_log(argv[2], atoll(argv[3]));
    if (!strcmp(cmd, "procstat") && argc > 2) return procstat(argc - 2, argv + 2);
    if (!strcmp(cmd, "respawn-stats") && argc == 4) return respawn_stats(argv[2], atoll(argv[3]));
    fprintf(stderr, "bcmp-tool: unknown or malformed command '%s' (see the comment in tool.c)\n", cmd);
    return 100;
}
