// The service every manager runs in bench/compare. It records that it has started, then behaves
// as asked:
//   bcmp-service --marker FILE [--ignore-term] [--exit-now] [--spew BYTES]
// The start record is one fixed-width line, "%10d %20lld\n" (pid, CLOCK_REALTIME in ns), appended
// with O_APPEND in a single write so concurrent services never interleave, and so the harness
// can count starts from the file size alone.
//   --ignore-term  SIGTERM is ignored (the stop scenario: only SIGKILL ends it)
//   --exit-now     exit(1) straight after the record (the crash loop: a non-zero status so
//                  every manager counts it as a failure to respawn)
//   --spew BYTES   write numbered lines "%012d\n" to stdout as fast as possible, whole lines
//                  only (BYTES rounded down to a multiple of 13), then sleep
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { LINE = 13, MARK = 32 };

static void die(const char *what) {
    perror(what);
    exit(111);
}

static void record_start(const char *marker) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char line[MARK + 1];
    snprintf(line, sizeof line, "%10d %20lld\n", (int)getpid(),
             (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
    int fd = open(marker, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) die(marker);
    if (write(fd, line, MARK) != MARK) die("write marker");
    close(fd);
}

static void write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("write stdout");
        }
        buf += n;
        len -= (size_t)n;
    }
}

// Numbered lines in 64 KiB batches: large writes are what a chatty program does, and the
// loggers must split them back into lines themselves.
static void spew(long long bytes) {
    long long lines = bytes / LINE, next = 0;
    static char buf[(65536 / LINE) * LINE + 16];
    while (next < lines) {
        size_t len = 0;
        while (next < lines && len + LINE <= sizeof buf - 16) {
            // "%012lld\n" by hand: snprintf per line would dominate the writer's own cost
            long long v = next++;
            buf[len + LINE - 1] = '\n';
            for (int d = LINE - 2; d >= 0; d--, v /= 10) buf[len + d] = (char)('0' + v % 10);
            len += LINE;
        }
        write_all(STDOUT_FILENO, buf, len);
    }
}

int main(int argc, char **argv) {
    const char *marker = NULL;
    int ignore_term = 0, exit_now = 0;
    long long spew_bytes = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--marker") && i + 1 < argc) marker = argv[++i];
        else if (!strcmp(argv[i], "--ignore-term")) ignore_term = 1;
        else if (!strcmp(argv[i], "--exit-now")) exit_now = 1;
        else if (!strcmp(argv[i], "--spew") && i + 1 < argc) spew_bytes = atoll(argv[++i]);
        else {
            fprintf(stderr, "usage: %s --marker FILE [--ignore-term] [--exit-now] [--spew BYTES]\n",
                    argv[0]);
            return 100;
        }
    }
    if (!marker) {
        fprintf(stderr, "%s: --marker is required\n", argv[0]);
        return 100;
    }
    if (ignore_term) signal(SIGTERM, SIG_IGN);
    record_start(marker);
    if (exit_now) return 1;
    if (spew_bytes >= 0) spew(spew_bytes);
    for (;;) pause();
}
