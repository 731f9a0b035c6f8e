// SPDX-License-Identifier: MIT
// Whole-process cost of running commands: each round spawns every command N times in a row
// (posix_spawn, then waitpid, stdout to /dev/null), and the rounds interleave the commands, so
// that a burst of noise on the machine lands on all of them alike. Prints per command the
// median over rounds of the mean time per run, the median and 99th percentile of single runs,
// and its ratio to the first command.
//
//   spawn_time N ROUNDS CMD [ARGS...] [::: CMD [ARGS...]]...
//
// A run that exits other than 0 stops the measurement: a failing command is no benchmark.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

extern char** environ;

namespace {

long long nowNs() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct Command {
    std::vector<char*> argv;  // null-terminated
    std::string label;
    std::vector<double> round_means_us;
    std::vector<double> runs_us;
};

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

double percentile(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    return values[std::min(values.size() - 1, static_cast<std::size_t>(p * values.size()))];
}

// One run of `command`; its wall time in microseconds.
double runOnce(Command& command, const posix_spawn_file_actions_t& actions) {
    const long long t0 = nowNs();
    pid_t pid = 0;
    if (posix_spawn(&pid, command.argv[0], &actions, nullptr, command.argv.data(), environ) != 0) {
        std::perror(command.argv[0]);
        std::exit(1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    const long long t1 = nowNs();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "spawn_time: '%s' failed (status %d)\n", command.label.c_str(),
                     status);
        std::exit(1);
    }
    return static_cast<double>(t1 - t0) / 1e3;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: spawn_time N ROUNDS CMD [ARGS...] [::: CMD [ARGS...]]...\n");
        return 2;
    }
    const int n = std::atoi(argv[1]);
    const int rounds = std::atoi(argv[2]);
    std::vector<Command> commands(1);
    for (int i = 3; i < argc; ++i) {
        if (std::strcmp(argv[i], ":::") == 0) {
            commands.emplace_back();
            continue;
        }
        Command& command = commands.back();
        if (!command.label.empty()) {
            command.label += ' ';
        }
        command.label += argv[i];
        command.argv.push_back(argv[i]);
    }
    for (Command& command : commands) {
        if (command.argv.empty()) {
            std::fprintf(stderr, "spawn_time: an empty command\n");
            return 2;
        }
        command.argv.push_back(nullptr);
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);

    for (Command& command : commands) {
        runOnce(command, actions);  // page cache and the dynamic loader's caches are warm
    }
    for (int round = 0; round < rounds; ++round) {
        for (Command& command : commands) {
            const long long t0 = nowNs();
            for (int i = 0; i < n; ++i) {
                command.runs_us.push_back(runOnce(command, actions));
            }
            command.round_means_us.push_back(static_cast<double>(nowNs() - t0) / 1e3 / n);
        }
    }
    const double base = median(commands.front().round_means_us);
    for (const Command& command : commands) {
        const double mean = median(command.round_means_us);
        std::printf(
            "%s: %d x %d runs: median of round means %.1f us (rounds %.1f..%.1f); "
            "single runs median %.1f us, p99 %.1f us; %.2fx the first\n",
            command.label.c_str(), rounds, n, mean,
            *std::min_element(command.round_means_us.begin(), command.round_means_us.end()),
            *std::max_element(command.round_means_us.begin(), command.round_means_us.end()),
            median(command.runs_us), percentile(command.runs_us, 0.99), mean / base);
    }
    posix_spawn_file_actions_destroy(&actions);
    return 0;
}
