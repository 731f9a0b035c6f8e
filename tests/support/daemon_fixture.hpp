// SPDX-License-Identifier: MIT
// A real tend in a private temporary tree, driven through the real tendctl: what a user sees.
//
// Each test gets /tmp/tend-it-XXXXXX with jobs/, run/ (the control socket), log/ (job logs) and
// tend.log (tend's own log). Every wait polls with a bounded timeout; tear-down ends tend with
// SIGTERM (then SIGKILL), and kills whatever a job may have left behind, failing the test if
// anything was.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/run_process.hpp"

extern char** environ;

namespace tend::test {

// Under AddressSanitizer tend runs several times slower, and freed memory waits in ASan's
// quarantine (256 MB by default) instead of being reused: waits are stretched and memory
// bounds get the quarantine as slack there. The plain build keeps the strict figures.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr int kSanitizerSlowdown = 5;
inline constexpr long kSanitizerRssSlackKb = 512L * 1024;
#else
inline constexpr int kSanitizerSlowdown = 1;
inline constexpr long kSanitizerRssSlackKb = 0;
#endif

using namespace std::chrono_literals;

class TendDaemonTest : public ::testing::Test {
  protected:
    using Clock = std::chrono::steady_clock;
    using Millis = std::chrono::milliseconds;

    void SetUp() override {
        char pattern[] = "/tmp/tend-it-XXXXXX";
        const char* made = ::mkdtemp(pattern);
        ASSERT_NE(made, nullptr) << "mkdtemp: " << std::strerror(errno);
        root_ = made;
        jobs_dir_ = root_ / "jobs";
        run_dir_ = root_ / "run";
        log_dir_ = root_ / "log";
        tend_log_ = root_ / "tend.log";
        std::filesystem::create_directories(jobs_dir_);
        if (kSanitizerSlowdown > 1) {
            // tend, tendctl and whatever of ours a job runs write their sanitizer reports here,
            // leaks found at exit included, where TearDown finds them: a daemon's stderr is
            // /dev/null.
            const std::string reports = "log_path=" + (root_ / "sanitizer").string();
            for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS"}) {
                const char* had = std::getenv(name);
                const std::string options =
                    had && *had ? std::string(had) + ":" + reports : reports;
                ::setenv(name, options.c_str(), 1);
            }
        }
    }

    void TearDown() override {
        stopTend();
        // Whatever still carries this session's TEND_SESSION was left behind by tend.
        std::vector<pid_t> leftovers;
        if (!root_.empty()) {
            leftovers = processesWithEnv({"TEND_SESSION=" + socketPath()});
        }
        if (!leftovers.empty()) {
            std::string described;
            for (pid_t pid : leftovers) {
                described += "\n  " + std::to_string(pid) + " " + commandLine(pid);
                ::kill(pid, SIGKILL);
            }
            ADD_FAILURE() << "processes left behind after tend ended:" << described;
            waitFor(
                [&] {
                    for (pid_t pid : leftovers) {
                        if (processAlive(pid)) {
                            return false;
                        }
                    }
                    return true;
                },
                5s);
        }
        if (!root_.empty()) {
            failOnSanitizerReports();
        }
        const std::string log = ::testing::Test::HasFailure() ? tendLog() : std::string();
        if (!root_.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(root_, ec);
        }
        if (!log.empty()) {
            std::cerr << "[ tend's log ]\n" << log << "[ end of tend's log ]\n";
        }
    }

    // Every sanitizer report written so far (sanitizer.<pid>), one after the other.
    std::string sanitizerReports() const {
        std::string text;
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(root_, ec)) {
            if (entry.path().filename().string().starts_with("sanitizer.")) {
                text += readFile(entry.path());
            }
        }
        return text;
    }

    // Sanitizer reports of the processes the test ran (sanitizer.<pid>), each a failure.
    void failOnSanitizerReports() const {
        if (sanitizer_reports_expected_) {
            return;
        }
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(root_, ec)) {
            const std::string name = entry.path().filename().string();
            if (name.starts_with("sanitizer.")) {
                ADD_FAILURE() << "a sanitizer report (" << name << "):\n" << readFile(entry.path());
            }
        }
    }

    // ---- The tree -----------------------------------------------------------------------------

    std::filesystem::path path(const std::string& relative) const { return root_ / relative; }
    std::string socketPath() const { return (run_dir_ / "control").string(); }

    std::filesystem::path jobPath(const std::string& name) const {
        return jobs_dir_ / (name + ".conf");
    }
    void writeJob(const std::string& name, const std::string& text) {
        const auto file = jobPath(name);
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << text;
    }

    void writeFile(const std::string& relative, const std::string& text, mode_t mode = 0644) {
        const auto file = root_ / relative;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << text;
        ::chmod(file.c_str(), mode);
    }

    static std::string readFile(const std::filesystem::path& file) {
        std::ifstream in(file, std::ios::binary);
        std::ostringstream out;
        out << in.rdbuf();
        return out.str();
    }

    // A writer's log of "line 1", "line 2" ...: how many lines there are, each once and in order,
    // a last one still being written left out; -1 (with a failure) when one is lost, doubled or
    // torn.
    static int numberedLines(const std::filesystem::path& file) {
        std::istringstream lines(readFile(file));
        std::string line;
        int expected = 1;
        while (std::getline(lines, line)) {
            if (lines.eof()) {
                break;  // a last line still being written
            }
            if (line != "line " + std::to_string(expected)) {
                ADD_FAILURE() << "line " << expected << " of the log is '" << line << "'";
                return -1;
            }
            ++expected;
        }
        return expected - 1;
    }

    std::string readLog(const std::string& job) const {
        return readFile(log_dir_ / (job + ".log"));
    }
    std::filesystem::path logPath(const std::string& job) const {
        return log_dir_ / (job + ".log");
    }
    std::string tendLog() const { return readFile(tend_log_); }

    // ---- tend ---------------------------------------------------------------------------------

    std::vector<std::string> tendArgs(bool foreground) const {
        std::vector<std::string> argv{TEND_BIN,
                                      "--jobs-dir",
                                      jobs_dir_.string(),
                                      "--runtime-dir",
                                      run_dir_.string(),
                                      "--log-dir",
                                      log_dir_.string(),
                                      "--log-file",
                                      tend_log_.string(),
                                      "--log-level",
                                      "debug"};
        if (foreground) {
            argv.emplace_back("--foreground");
        }
        argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
        return argv;
    }

    // Starts tend the way a session does: the launcher returns once the socket answers.
    // `wrapper` runs tend through another program first (`prlimit --nofile=64:64`, say).
    ::testing::AssertionResult startTend(std::vector<std::string> wrapper = {}) {
        for (auto& arg : tendArgs(false)) {
            wrapper.push_back(std::move(arg));
        }
        const pid_t launcher = spawnTend(wrapper);
        if (launcher <= 0) {
            return ::testing::AssertionFailure() << "cannot spawn " << TEND_BIN;
        }
        int status = 0;
        while (::waitpid(launcher, &status, 0) < 0 && errno == EINTR) {
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            return ::testing::AssertionFailure()
                   << "tend's launcher failed (status " << status
                   << "); its output: " << readFile(root_ / "tend.out")
                   << "\ntend's log: " << tendLog();
        }
        const std::string pid_text = readFile(run_dir_ / "tend.pid");
        tend_pid_ = static_cast<pid_t>(std::atoi(pid_text.c_str()));
        if (tend_pid_ <= 0 || !processAlive(tend_pid_)) {
            return ::testing::AssertionFailure() << "tend.pid holds '" << pid_text << "'";
        }
        return ::testing::AssertionSuccess();
    }

    // Starts tend with --foreground as this process's child, so that its exit status is ours
    // to see (session-end tests). Ready once `tendctl version` answers.
    ::testing::AssertionResult startTendForeground() {
        tend_child_ = spawnTend(tendArgs(true));
        if (tend_child_ <= 0) {
            return ::testing::AssertionFailure() << "cannot spawn " << TEND_BIN;
        }
        tend_pid_ = tend_child_;
        const bool ready = waitFor(
            [&] {
                if (!processAlive(tend_child_)) {
                    return true;
                }
                return std::filesystem::exists(run_dir_ / "tend.pid") &&
                       ctl("version").exit_code == 0;
            },
            10s);
        if (!ready || !processAlive(tend_child_)) {
            return ::testing::AssertionFailure()
                   << "tend --foreground did not become ready; its output: "
                   << readFile(root_ / "tend.out") << "\ntend's log: " << tendLog();
        }
        return ::testing::AssertionSuccess();
    }

    // Sends SIGTERM and waits (bounded) for tend to go. Returns tend's exit status when it is
    // this process's child (startTendForeground), else 0 if it went at all.
    std::optional<int> stopTend(std::chrono::milliseconds timeout = 20s) {
        if (tend_pid_ <= 0) {
            return std::nullopt;
        }
        const pid_t pid = tend_pid_;
        tend_pid_ = 0;
        std::optional<int> result;
        if (tend_child_ > 0) {
            ::kill(pid, SIGTERM);
            int status = 0;
            const auto deadline = Clock::now() + timeout;
            bool reaped = false;
            while (Clock::now() < deadline) {
                const pid_t r = ::waitpid(pid, &status, WNOHANG);
                if (r == pid) {
                    reaped = true;
                    break;
                }
                std::this_thread::sleep_for(10ms);
            }
            if (!reaped) {
                ADD_FAILURE() << "tend did not exit within "
                              << std::chrono::duration_cast<Millis>(timeout).count()
                              << " ms of SIGTERM; killing it";
                ::kill(pid, SIGKILL);
                while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
                }
            } else {
                result = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            tend_child_ = 0;
            return result;
        }
        if (processAlive(pid)) {
            ::kill(pid, SIGTERM);
        }
        if (!waitFor([&] { return !processAlive(pid); }, timeout)) {
            ADD_FAILURE() << "tend did not exit within "
                          << std::chrono::duration_cast<Millis>(timeout).count()
                          << " ms of SIGTERM; killing it";
            ::kill(pid, SIGKILL);
            waitFor([&] { return !processAlive(pid); }, 5s);
            return std::nullopt;
        }
        return 0;
    }

    // Waits (bounded) for tend, started with --foreground, to exit by itself: its exit status,
    // or nothing when it did not exit in time.
    std::optional<int> waitTendExit(std::chrono::milliseconds timeout = 20s) {
        if (tend_child_ <= 0) {
            return std::nullopt;
        }
        int status = 0;
        const auto deadline = Clock::now() + timeout;
        while (Clock::now() < deadline) {
            if (::waitpid(tend_child_, &status, WNOHANG) == tend_child_) {
                tend_child_ = 0;
                tend_pid_ = 0;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::sleep_for(10ms);
        }
        return std::nullopt;
    }

    pid_t tendPid() const { return tend_pid_; }

    // CPU time tend has used so far, user and system, in clock ticks (/proc/PID/stat).
    long long tendCpuTicks() const {
        std::istringstream in(readFile("/proc/" + std::to_string(tend_pid_) + "/stat"));
        std::string field;
        long long ticks = 0;
        for (int i = 1; i <= 15 && in >> field; ++i) {
            if (i == 14 || i == 15) {
                ticks += std::stoll(field);
            }
        }
        return ticks;
    }

    std::vector<std::string> extra_args_;  // more options for tend (`--exit-with PID`, ...)

    // A plugins.d of this test's own, as tend trusts one (owned by us, mode 0755).
    std::filesystem::path makePluginsDir(const std::string& name = "plugins.d") const {
        const std::filesystem::path dir = root_ / name;
        std::filesystem::create_directories(dir);
        std::filesystem::permissions(dir, std::filesystem::perms(0755));
        return dir;
    }

    // Copies a built plugin into `dir` as `as`.so, the way a user or a package installs one: to
    // a temporary name, then renamed into place.
    static void installPlugin(const std::filesystem::path& built, const std::filesystem::path& dir,
                              const std::string& as) {
        const std::filesystem::path temporary = dir / ("." + as + ".tmp");
        std::filesystem::copy_file(built, temporary,
                                   std::filesystem::copy_options::overwrite_existing);
        std::filesystem::permissions(temporary, std::filesystem::perms(0644));
        std::filesystem::rename(temporary, dir / (as + ".so"));
    }

    static std::vector<std::string> lines(const std::string& text) {
        std::vector<std::string> out;
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);) {
            out.push_back(line);
        }
        return out;
    }

    // Stops tend (SIGSTOP) so that it reads nothing until resumeTend(), and lets it go on.
    void pauseTend() {
        ::kill(tend_pid_, SIGSTOP);
        // The stop takes effect asynchronously: wait for /proc to say so.
        waitFor([&] {
            const std::string stat = readFile("/proc/" + std::to_string(tend_pid_) + "/stat");
            const auto close = stat.rfind(')');
            return close != std::string::npos && stat.size() > close + 2 && stat[close + 2] == 'T';
        });
    }
    void resumeTend() const { ::kill(tend_pid_, SIGCONT); }

    // Queues more events on `dir` than an inotify instance holds (fs.inotify.max_queued_events),
    // about a file whose name no watcher cares about. A paused tend then loses whatever else
    // happens in `dir` until it reads again, and learns only that its queue overflowed.
    static void overflowInotifyQueue(const std::filesystem::path& dir) {
        long limit = std::atol(readFile("/proc/sys/fs/inotify/max_queued_events").c_str());
        if (limit <= 0) {
            limit = 16384;
        }
        const std::string junk = (dir / "inotify-flood.tmp").string();
        // Each round queues at least two events (a close after writing, and a deletion).
        for (long i = 0; i < limit / 2 + 256; ++i) {
            const int fd = ::open(junk.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
            if (fd >= 0) {
                ::close(fd);
            }
            ::unlink(junk.c_str());
        }
    }

    // ---- tendctl ------------------------------------------------------------------------------

    template <typename... Args>
    ProcessResult ctl(Args&&... args) {
        std::vector<std::string> argv{TENDCTL_BIN, "--socket", socketPath()};
        (argv.emplace_back(std::forward<Args>(args)), ...);
        return runProcess(argv);
    }

    ProcessResult ctlArgs(const std::vector<std::string>& args) {
        std::vector<std::string> argv{TENDCTL_BIN, "--socket", socketPath()};
        argv.insert(argv.end(), args.begin(), args.end());
        return runProcess(argv);
    }

    template <typename... Args>
    std::string statusOf(const std::string& job, Args&&... env) {
        return ctl("status", job, std::forward<Args>(env)...).out;
    }

    // The main process in a status text ("job start/running, process N"), 0 without one.
    static pid_t pidIn(const std::string& status) {
        const std::string first = status.substr(0, status.find('\n'));
        // ", (post-start) process N" names another process: only ", process N" is the main one.
        const std::string marker = ", process ";
        const auto at = first.find(marker);
        if (at != std::string::npos) {
            const std::string digits = first.substr(at + marker.size());
            if (!digits.empty() && std::isdigit(static_cast<unsigned char>(digits[0]))) {
                return static_cast<pid_t>(std::stol(digits));
            }
        }
        return 0;
    }

    template <typename... Args>
    pid_t mainPidOf(const std::string& job, Args&&... env) {
        return pidIn(statusOf(job, std::forward<Args>(env)...));
    }

    // ---- Waiting ------------------------------------------------------------------------------

    static bool waitFor(const std::function<bool()>& predicate,
                        std::chrono::milliseconds timeout = 5s,
                        std::chrono::milliseconds every = 10ms) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            if (predicate()) {
                return true;
            }
            if (Clock::now() >= deadline) {
                return predicate();
            }
            std::this_thread::sleep_for(every);
        }
    }

    // Polls `tendctl status` until it contains `text`; returns the last status seen.
    template <typename... Args>
    std::string waitForStatus(const std::string& job, const std::string& text,
                              std::chrono::milliseconds timeout, Args&&... env) {
        std::string last;
        waitFor(
            [&] {
                last = statusOf(job, env...);
                return last.find(text) != std::string::npos;
            },
            timeout, 15ms);
        return last;
    }

    bool waitForFile(const std::filesystem::path& file, const std::string& text,
                     std::chrono::milliseconds timeout = 5s) {
        return waitFor([&] { return readFile(file).find(text) != std::string::npos; }, timeout);
    }

    // ---- Processes ----------------------------------------------------------------------------

    static std::optional<char> processState(pid_t pid) {
        const std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
        const auto paren = stat.rfind(')');
        if (paren == std::string::npos || paren + 2 >= stat.size()) {
            return std::nullopt;
        }
        return stat[paren + 2];
    }

    static pid_t parentOf(pid_t pid) {
        const std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
        const auto paren = stat.rfind(')');
        if (paren == std::string::npos) {
            return 0;
        }
        std::istringstream in(stat.substr(paren + 1));
        char state = 0;
        pid_t ppid = 0;
        in >> state >> ppid;
        return ppid;
    }

    // Alive: it exists and is not a zombie.
    static bool processAlive(pid_t pid) {
        if (pid <= 0 || ::kill(pid, 0) != 0) {
            return false;
        }
        const auto state = processState(pid);
        return state && *state != 'Z' && *state != 'X';
    }

    static std::string commandLine(pid_t pid) {
        std::string text = readFile("/proc/" + std::to_string(pid) + "/cmdline");
        for (char& c : text) {
            if (c == '\0') {
                c = ' ';
            }
        }
        return text;
    }

    static std::vector<pid_t> allPids() {
        std::vector<pid_t> out;
        DIR* proc = ::opendir("/proc");
        if (!proc) {
            return out;
        }
        while (const dirent* entry = ::readdir(proc)) {
            char* end = nullptr;
            const long pid = std::strtol(entry->d_name, &end, 10);
            if (pid > 0 && end && *end == '\0') {
                out.push_back(static_cast<pid_t>(pid));
            }
        }
        ::closedir(proc);
        return out;
    }

    // Live processes whose environment holds every one of `entries` (NAME=VALUE).
    static std::vector<pid_t> processesWithEnv(const std::vector<std::string>& entries) {
        std::vector<pid_t> out;
        for (pid_t pid : allPids()) {
            if (pid == ::getpid()) {
                continue;
            }
            const std::string env = readFile("/proc/" + std::to_string(pid) + "/environ");
            std::size_t found = 0;
            for (const auto& wanted : entries) {
                std::size_t start = 0;
                while (start < env.size()) {
                    std::size_t end = env.find('\0', start);
                    if (end == std::string::npos) {
                        end = env.size();
                    }
                    if (env.compare(start, end - start, wanted) == 0) {
                        ++found;
                        break;
                    }
                    start = end + 1;
                }
            }
            if (found == entries.size() && processAlive(pid)) {
                out.push_back(pid);
            }
        }
        return out;
    }

    // Live processes of one job of this session (they all carry UPSTART_JOB and TEND_SESSION).
    std::vector<pid_t> jobProcesses(const std::string& job) const {
        return processesWithEnv({"TEND_SESSION=" + socketPath(), "UPSTART_JOB=" + job});
    }

    // tend's zombie children: processes it has not reaped.
    static std::vector<pid_t> zombieChildrenOf(pid_t parent) {
        std::vector<pid_t> out;
        for (pid_t pid : allPids()) {
            if (parentOf(pid) == parent && processState(pid) == 'Z') {
                out.push_back(pid);
            }
        }
        return out;
    }

    static std::vector<pid_t> readPids(const std::filesystem::path& file) {
        std::vector<pid_t> out;
        std::istringstream in(readFile(file));
        long pid = 0;
        while (in >> pid) {
            out.push_back(static_cast<pid_t>(pid));
        }
        return out;
    }

    static std::size_t countOf(const std::string& text, const std::string& needle) {
        std::size_t count = 0;
        for (auto at = text.find(needle); at != std::string::npos;
             at = text.find(needle, at + needle.size())) {
            ++count;
        }
        return count;
    }

    std::filesystem::path root_;
    std::filesystem::path jobs_dir_;
    std::filesystem::path run_dir_;
    std::filesystem::path log_dir_;
    std::filesystem::path tend_log_;

    // tend's stdout and stderr go to a file: a daemon holding a pipe would hang whoever reads
    // it. No other descriptor of the test process leaks into tend.
    pid_t spawnTend(const std::vector<std::string>& argv) {
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        const std::string out = (root_ / "tend.out").string();
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                         0600);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
        posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif
        std::vector<char*> args;
        for (const auto& a : argv) {
            args.push_back(const_cast<char*>(a.c_str()));
        }
        args.push_back(nullptr);
        pid_t pid = 0;
        const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        return rc == 0 ? pid : -1;
    }

    // The test makes tend crash, or leak on purpose (a plugin that does what it must not).
    bool sanitizer_reports_expected_ = false;

  private:
    pid_t tend_pid_ = 0;
    pid_t tend_child_ = 0;  // tend itself, when started with --foreground
};

}  // namespace tend::test
