// "The floor": the least a supervisor can do. It posix_spawns N copies of a command, confirms
// each has exec'd, and then only waits. It is what bench/compare measures every manager
// against, so it does each job the managers do in the most direct way and nothing else:
//   bcmp-floor [--respawn] [--kill-timeout SECONDS] [--stdout FILE] N CMD [ARG...]
//   --respawn          respawn a child the moment it is reaped (no back-off, no limit)
//   --kill-timeout S   on SIGTERM: SIGTERM every child, SIGKILL what is left after S seconds
//                      (default 2), then exit 0
//   --stdout FILE      the children's stdout and stderr (default /dev/null): the log scenario
//                      hands the file straight to the service, with no pipe or logger between
// Exec is confirmed through a CLOEXEC pipe per child: the child holds the write end until exec
// closes it, so the parent's read returns 0 exactly when the exec has happened. All N are
// spawned before any read, so the confirmations overlap as a real manager's would.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char **child_argv;
static int out_fd;
static pid_t *slots;
static long nslots;

static void die(const char *what) {
    perror(what);
    exit(111);
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

// Spawns one child into slot i and returns the read end of its exec pipe.
static int spawn_one(long i) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) die("pipe2");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out_fd, STDERR_FILENO);
    // The floor blocks the signals it waits for; children must start with a clean mask and
    // default dispositions, as they would under any manager.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGCHLD);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int err = posix_spawn(&slots[i], child_argv[0], &fa, &attr, child_argv, environ);
    if (err) {
        errno = err;
        die(child_argv[0]);
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(p[1]);
    return p[0];
}

// Blocks until the child behind fd has exec'd (EOF); anything read is an exec failure.
static void confirm_exec(int fd) {
    char c;
    ssize_t n;
    while ((n = read(fd, &c, 1)) < 0 && errno == EINTR) {}
    if (n != 0) {
        fprintf(stderr, "bcmp-floor: a child failed to exec\n");
        exit(111);
    }
    close(fd);
}

static long slot_of(pid_t pid) {
    for (long i = 0; i < nslots; i++)
        if (slots[i] == pid) return i;
    return -1;
}

// SIGTERM every child, wait up to kill_timeout for them, SIGKILL the rest, reap all.
static void stop_all(const sigset_t *set, double kill_timeout) {
    long alive = 0;
    for (long i = 0; i < nslots; i++)
        if (slots[i] > 0 && kill(slots[i], SIGTERM) == 0) alive++;
    double deadline = now_ms() + kill_timeout * 1e3;
    int killed = 0;
    while (alive > 0) {
        pid_t pid;
        while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
            long i = slot_of(pid);
            if (i >= 0) slots[i] = 0, alive--;
        }
        if (alive == 0) break;
        double left = deadline - now_ms();
        if (!killed && left <= 0) {
            for (long i = 0; i < nslots; i++)
                if (slots[i] > 0) kill(slots[i], SIGKILL);
            killed = 1;
            continue;
        }
        if (left < 1) left = 1;
        struct timespec ts = {(time_t)(left / 1e3), (long)((long)left % 1000) * 1000000L};
        if (killed) ts = (struct timespec){1, 0};
        sigtimedwait(set, NULL, &ts);
    }
}

int main(int argc, char **argv) {
    int respawn = 0;
    double kill_timeout = 2;
    const char *out_path = "/dev/null";
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--respawn")) respawn = 1;
        else if (!strcmp(argv[i], "--kill-timeout") && i + 1 < argc) kill_timeout = atof(argv[++i]);
        else if (!strcmp(argv[i], "--stdout") && i + 1 < argc) out_path = argv[++i];
        else break;
    }
    if (argc - i < 2) {
        fprintf(stderr, "usage: bcmp-floor [--respawn] [--kill-timeout S] [--stdout FILE] N CMD [ARG...]\n");
        return 100;
    }
    nslots = atol(argv[i]);
    child_argv = argv + i + 1;
    // N exec pipes are open at once; the soft descriptor limit (often 1024) must not cap N.
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_fd < 0) die(out_path);
    slots = calloc((size_t)nslots, sizeof *slots);
    int *pipes = calloc((size_t)nslots, sizeof *pipes);
    if (!slots || !pipes) die("calloc");

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);

    double t0 = now_ms();
    for (long k = 0; k < nslots; k++) pipes[k] = spawn_one(k);
    for (long k = 0; k < nslots; k++) confirm_exec(pipes[k]);
    fprintf(stderr, "bcmp-floor: %ld children exec'd in %.3f ms\n", nslots, now_ms() - t0);

    for (;;) {
        int sig = sigwaitinfo(&set, NULL);
        if (sig == SIGTERM || sig == SIGINT) {
            stop_all(&set, kill_timeout);
            return 0;
        }
        if (sig != SIGCHLD) continue;
        pid_t pid;
        while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
            long k = slot_of(pid);
            if (k < 0) continue;
            slots[k] = 0;
            if (respawn) confirm_exec(spawn_one(k));
        }
    }
}
