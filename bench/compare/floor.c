// "The floor": the least a supervisor can do, which makes it the lower bound bench/compare
// measures every manager against. Any supervisor must, per child, create a process that starts
// set up as a service should (new session, clean signal state, no inherited descriptors) and
// learn whether its exec worked; to supervise, it must reap and respawn, and to stop, signal
// and escalate. The floor does exactly that and nothing else:
// - one posix_spawn per child. glibc's posix_spawn is a CLONE_VM|CLONE_VFORK clone that returns
//   once the child has exec'd, and its return value is exec's error: exec is confirmed with no
//   pipe, no read and no descriptor at all (tend's vfork gives it the same);
// - the child is set up as tend sets up its own (core/src/sys/spawn.cpp): setsid, an empty
//   signal mask, every disposition back to default, stdin /dev/null, stdout and stderr the log
//   or /dev/null, every other descriptor closed (glibc 2.36 also leaves its two internal
//   signals, 32 and 33, ignored after the exec, which no service uses);
// - the floor holds no descriptor per child, so each spawn copies the same few descriptors at
//   N = 10 as at N = 5,000; its only state per child is its pid, in a hash set, so reaping and
//   stopping cost O(1) per child; no configuration, no logger, no pipe between service and log.
// Whatever a manager measures beyond this is its own cost.
//   bcmp-floor [--respawn] [--kill-timeout SECONDS] [--stdout FILE] [--ready FILE] N CMD [ARG...]
//   --respawn          respawn a child the moment it is reaped (no back-off, no limit)
//   --kill-timeout S   on SIGTERM: SIGTERM every child, SIGKILL what is left after S seconds
//                      (default 2), then exit 0
//   --stdout FILE      the children's stdout and stderr (default /dev/null): the log scenario
//                      hands the file straight to the service
//   --ready FILE       fan-out: create FILE once ready, and spawn the N only on SIGUSR1, so
//                      that the harness times the floor from its trigger as it times tend
//                      from its event
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char **child_argv;
static posix_spawn_file_actions_t actions;
static posix_spawnattr_t attr;

// The live children: pid keys, open addressing with linear probing, 0 = empty.
static pid_t *live;
static size_t live_mask;
static long alive;

static void die(const char *what) {
    perror(what);
    exit(111);
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static size_t home(pid_t pid) {
    return ((uint32_t)pid * 2654435761u) & live_mask;
}

static void live_add(pid_t pid) {
    size_t i = home(pid);
    while (live[i]) i = (i + 1) & live_mask;
    live[i] = pid;
    alive++;
}

// Removes pid if it is one of ours (backward-shift deletion keeps every probe chain whole);
// returns whether it was.
static int live_remove(pid_t pid) {
    size_t i = home(pid);
    while (live[i] != pid) {
        if (!live[i]) return 0;
        i = (i + 1) & live_mask;
    }
    for (size_t j = (i + 1) & live_mask; live[j]; j = (j + 1) & live_mask) {
        size_t h = home(live[j]);
        // the entry at j may fill the hole at i unless its home lies cyclically in (i, j]
        int stays = i < j ? (h > i && h <= j) : (h > i || h <= j);
        if (!stays) live[i] = live[j], i = j;
    }
    live[i] = 0;
    alive--;
    return 1;
}

// The file actions and attributes every child shares, built once.
static void prepare(int out_fd) {
    if (posix_spawn_file_actions_init(&actions) ||
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0) ||
        posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO) ||
        posix_spawn_file_actions_adddup2(&actions, out_fd, STDERR_FILENO) ||
        posix_spawn_file_actions_addclosefrom_np(&actions, 3))
        die("posix_spawn_file_actions");
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    if (posix_spawnattr_init(&attr) || posix_spawnattr_setsigmask(&attr, &none) ||
        posix_spawnattr_setsigdefault(&attr, &all) ||
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF))
        die("posix_spawnattr");
}

static void spawn_one(void) {
    pid_t pid;
    int err = posix_spawn(&pid, child_argv[0], &actions, &attr, child_argv, environ);
    if (err) {
        errno = err;
        die(child_argv[0]);
    }
    live_add(pid);
}

static void signal_all(int sig) {
    for (size_t i = 0; i <= live_mask; i++)
        if (live[i]) kill(live[i], sig);
}

static void reap(int respawn) {
    pid_t pid;
    while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
        if (live_remove(pid) && respawn) spawn_one();
}

// SIGTERM every child, wait up to kill_timeout for them, SIGKILL the rest, reap all. A child
// is SIGKILLed only while unreaped, so its pid cannot have been reused.
static void stop_all(const sigset_t *set, double kill_timeout) {
    signal_all(SIGTERM);
    double deadline = now_ms() + kill_timeout * 1e3;
    int killed = 0;
    for (;;) {
        reap(0);
        if (alive == 0) return;
        double left = deadline - now_ms();
        if (!killed && left <= 0) {
            signal_all(SIGKILL);
            killed = 1;
            continue;
        }
        if (killed || left > 1000) left = 1000;
        if (left < 1) left = 1;
        struct timespec ts = {(time_t)(left / 1e3), ((long)left % 1000) * 1000000L};
        sigtimedwait(set, NULL, &ts);
    }
}

int main(int argc, char **argv) {
    int respawn = 0;
    double kill_timeout = 2;
    const char *out_path = "/dev/null", *ready_path = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--respawn")) respawn = 1;
        else if (!strcmp(argv[i], "--kill-timeout") && i + 1 < argc) kill_timeout = atof(argv[++i]);
        else if (!strcmp(argv[i], "--stdout") && i + 1 < argc) out_path = argv[++i];
        else if (!strcmp(argv[i], "--ready") && i + 1 < argc) ready_path = argv[++i];
        else break;
    }
    if (argc - i < 2) {
        fprintf(stderr, "usage: bcmp-floor [--respawn] [--kill-timeout S] [--stdout FILE] "
                        "[--ready FILE] N CMD [ARG...]\n");
        return 100;
    }
    long n = atol(argv[i]);
    child_argv = argv + i + 1;
    int out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_fd < 0) die(out_path);
    prepare(out_fd);
    size_t size = 16;
    while (size < 2 * (size_t)n) size *= 2;
    live_mask = size - 1;
    live = calloc(size, sizeof *live);
    if (!live) die("calloc");

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);

    if (ready_path) {
        int fd = open(ready_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) die(ready_path);
        close(fd);
        int sig;
        while ((sig = sigwaitinfo(&set, NULL)) != SIGUSR1)
            if (sig == SIGTERM || sig == SIGINT) return 0;
    }
    double t0 = now_ms();
    for (long k = 0; k < n; k++) spawn_one();
    fprintf(stderr, "bcmp-floor: %ld children exec'd in %.3f ms\n", n, now_ms() - t0);

    for (;;) {
        int sig = sigwaitinfo(&set, NULL);
        if (sig == SIGTERM || sig == SIGINT) {
            stop_all(&set, kill_timeout);
            return 0;
        }
        if (sig == SIGCHLD) reap(respawn);
    }
}
