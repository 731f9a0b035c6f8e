// SPDX-License-Identifier: MIT
// Crash-to-restart latency: the time from SIGKILL of a running service to its replacement
// having exec'd and reported in, under tend (respawn, no delay) and under the floor: this
// program itself waiting for the child and posix_spawn'ing it again. Both are measured the
// same way: the service writes "pid monotonic-ns" to a FIFO as its first act.
//
//   restart_latency --floor N
//   restart_latency --tend TEND TENDCTL N [--pace MS] [--default-pacing] [--floor-beside]
//                   [--idle JOBS] [--while PROG ARGS...]
//   restart_latency --service FIFO          (the service itself)
//
// --pace waits MS milliseconds after each restart before the next kill, so that N restarts
// spread over a stretch of time. --default-pacing leaves out `respawn delay 0`, so that tend
// paces respawns as it does by default under `respawn limit unlimited`, and the pace comes
// before each kill: how soon a service that stayed up MS milliseconds comes back. --while runs PROG
// ARGS... beside tend for the whole measurement (started before the first kill, then half a second
// to warm up; SIGINT after the last), with $TEND_SESSION naming tend's control socket:
// bench/control_load, to measure restarts on a busy tend. tend's session also holds `steady`, a job
// that only sleeps, for PROG to ask about. --floor-beside leaves the restarting to this program
// (the floor) while tend runs beside it and PROG keeps it busy: how much of a slower restart under
// load is the machine's, and how much is tend's. --idle runs JOBS more jobs beside the service,
// each a `console log` sleep (two pipes and a log file held in tend), all running before the
// first kill: whether a restart's cost grows with the jobs beside it. For that many descriptors
// it raises its own RLIMIT_NOFILE, which tend inherits, where it may.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

long long nowNs() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int service(const char* fifo) {
    const int fd = open(fifo, O_WRONLY | O_CLOEXEC);
    char line[64];
    const int n = std::snprintf(line, sizeof line, "%d %lld\n", getpid(), nowNs());
    if (fd < 0 || write(fd, line, static_cast<std::size_t>(n)) != n) {
        return 1;
    }
    close(fd);
    for (;;) {
        pause();
    }
}

struct Report {
    pid_t pid;
    long long ns;
};

Report readReport(FILE* in) {
    Report r{};
    if (std::fscanf(in, "%d %lld", &r.pid, &r.ns) != 2) {
        std::fprintf(stderr, "restart_latency: lost the service\n");
        std::exit(1);
    }
    return r;
}

pid_t spawn(const std::vector<std::string>& argv, char** env = environ) {
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), env) != 0) {
        std::perror("posix_spawn");
        std::exit(1);
    }
    return pid;
}

void summarize(const char* who, std::vector<double> ms) {
    std::sort(ms.begin(), ms.end());
    std::printf("%s: n=%zu median=%.3f ms min=%.3f ms max=%.3f ms\n", who, ms.size(),
                ms[ms.size() / 2], ms.front(), ms.back());
}

// Polls `tendctl list` until `want` jobs run (up to 5 minutes).
bool waitForRunning(const std::string& tendctl, const std::string& socket, int want) {
    const std::string command = tendctl + " --socket " + socket + " list | grep -c start/running";
    for (int i = 0; i < 3000; ++i) {
        FILE* out = popen(command.c_str(), "r");
        int running = 0;
        if (out) {
            if (std::fscanf(out, "%d", &running) != 1) {
                running = 0;
            }
            pclose(out);
        }
        if (running >= want) {
            return true;
        }
        usleep(100000);
    }
    return false;
}

std::string self() {
    char path[4096];
    const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    return std::string(path, static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::strcmp(argv[1], "--service") == 0) {
        return service(argv[2]);
    }
    char dir_template[] = "/tmp/tend-restart-XXXXXX";
    const std::string dir = mkdtemp(dir_template);
    const std::string fifo = dir + "/fifo";
    mkfifo(fifo.c_str(), 0600);
    const int fd = open(fifo.c_str(), O_RDWR | O_CLOEXEC);  // never sees EOF between services
    FILE* in = fdopen(fd, "r");
    std::vector<double> samples;
    bool failed = false;

    if (argc == 3 && std::strcmp(argv[1], "--floor") == 0) {
        const int n = std::atoi(argv[2]);
        pid_t child = spawn({self(), "--service", fifo});
        readReport(in);
        for (int i = 0; i < n; ++i) {
            const long long t0 = nowNs();
            kill(child, SIGKILL);
            waitpid(child, nullptr, 0);
            child = spawn({self(), "--service", fifo});
            const Report r = readReport(in);
            samples.push_back(static_cast<double>(r.ns - t0) / 1e6);
        }
        kill(child, SIGKILL);
        waitpid(child, nullptr, 0);
        summarize("floor (posix_spawn)", samples);
    } else if (argc >= 5 && std::strcmp(argv[1], "--tend") == 0) {
        const std::string tend = argv[2];
        const std::string tendctl = argv[3];
        const int n = std::atoi(argv[4]);
        int pace_ms = 0;
        int idle = 0;
        bool floor_beside = false;
        bool default_pacing = false;
        std::vector<std::string> load;
        for (int i = 5; i < argc; ++i) {
            if (std::strcmp(argv[i], "--pace") == 0 && i + 1 < argc) {
                pace_ms = std::atoi(argv[++i]);
            } else if (std::strcmp(argv[i], "--floor-beside") == 0) {
                floor_beside = true;
            } else if (std::strcmp(argv[i], "--idle") == 0 && i + 1 < argc) {
                idle = std::atoi(argv[++i]);
            } else if (std::strcmp(argv[i], "--default-pacing") == 0) {
                default_pacing = true;
            } else if (std::strcmp(argv[i], "--while") == 0 && i + 1 < argc) {
                load.assign(argv + i + 1, argv + argc);
                break;
            } else {
                std::fprintf(stderr, "restart_latency: unknown option '%s'\n", argv[i]);
                return 2;
            }
        }
        mkdir((dir + "/jobs").c_str(), 0700);
        std::ofstream(dir + "/jobs/crasher.conf")
            << "respawn\nrespawn limit unlimited\n"
            << (default_pacing ? "" : "respawn delay 0\n") << "console none\nexec " << self()
            << " --service " << fifo << "\n";
        std::ofstream(dir + "/jobs/steady.conf")
            << "start on startup\nconsole none\nexec sleep 1000000\n";
        for (int j = 0; j < idle; ++j) {
            std::ofstream(dir + "/jobs/idle" + std::to_string(j) + ".conf")
                << "start on startup\nconsole log\nexec sleep 1000000\n";
        }
        if (idle > 0) {
            const rlim_t want = static_cast<rlim_t>(idle) * 4 + 1024;
            rlimit files{};
            if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_max < want) {
                files.rlim_cur = files.rlim_max = want;
                setrlimit(RLIMIT_NOFILE, &files);  // root may; tend says so if it falls short
            }
        }
        const pid_t daemon =
            spawn({tend, "--jobs-dir", dir + "/jobs", "--runtime-dir", dir + "/run", "--log-dir",
                   dir + "/log", "--log-file", dir + "/tend.log", "--log-level", "warn"});
        waitpid(daemon, nullptr, 0);  // returns once tend is ready
        if (idle > 0 && !waitForRunning(tendctl, dir + "/run/control", idle + 1)) {
            std::fprintf(stderr, "restart_latency: the %d idle jobs did not all start\n", idle);
            failed = true;
        }
        pid_t floor_child = 0;
        if (floor_beside) {
            floor_child = spawn({self(), "--service", fifo});
        } else {
            const pid_t ctl =
                spawn({tendctl, "--socket", dir + "/run/control", "start", "-n", "crasher"});
            waitpid(ctl, nullptr, 0);
        }
        Report current = readReport(in);
        pid_t load_pid = 0;
        if (!load.empty()) {
            std::vector<std::string> env_text{"TEND_SESSION=" + dir + "/run/control"};
            for (char** e = environ; *e; ++e) {
                if (std::strncmp(*e, "TEND_SESSION=", 13) != 0) {
                    env_text.emplace_back(*e);
                }
            }
            std::vector<char*> env;
            for (auto& e : env_text) {
                env.push_back(e.data());
            }
            env.push_back(nullptr);
            load_pid = spawn(load, env.data());
            usleep(500000);
        }
        for (int i = 0; i < n; ++i) {
            if (default_pacing && pace_ms > 0) {
                // Each kill ends a run of the full pace: the stable run under test.
                usleep(static_cast<useconds_t>(pace_ms) * 1000);
            }
            const long long t0 = nowNs();
            kill(current.pid, SIGKILL);
            if (floor_beside) {
                waitpid(floor_child, nullptr, 0);
                floor_child = spawn({self(), "--service", fifo});
            }
            current = readReport(in);
            samples.push_back(static_cast<double>(current.ns - t0) / 1e6);
            if (!default_pacing && pace_ms > 0) {
                usleep(static_cast<useconds_t>(pace_ms) * 1000);
            }
        }
        if (floor_child > 0) {
            kill(floor_child, SIGKILL);
            waitpid(floor_child, nullptr, 0);
        }
        int load_status = 0;
        if (load_pid > 0) {
            kill(load_pid, SIGINT);
            waitpid(load_pid, &load_status, 0);
        }
        std::ifstream pid_file(dir + "/run/tend.pid");
        pid_t tend_pid = 0;
        pid_file >> tend_pid;
        kill(tend_pid, SIGTERM);
        for (int i = 0; i < 500 && kill(tend_pid, 0) == 0; ++i) {
            usleep(10000);
        }
        summarize(floor_beside     ? (load.empty() ? "floor beside an idle tend"
                                                   : "floor beside tend, under load")
                  : default_pacing ? "tend (default pacing)"
                  : load.empty()   ? "tend (respawn delay 0)"
                                   : "tend (respawn delay 0), under load",
                  samples);
        if (load_pid > 0 && !(WIFEXITED(load_status) && WEXITSTATUS(load_status) == 0)) {
            std::fprintf(stderr, "restart_latency: the load failed (status %d)\n", load_status);
            failed = true;
        }
    } else {
        std::fprintf(stderr,
                     "usage: restart_latency --floor N | --tend TEND TENDCTL N [--pace MS] "
                     "[--default-pacing] [--floor-beside] [--idle JOBS] [--while PROG ARGS...]\n");
        return 2;
    }
    std::string cleanup = "rm -rf " + dir;
    return std::system(cleanup.c_str()) == 0 && !failed ? 0 : 1;
}
