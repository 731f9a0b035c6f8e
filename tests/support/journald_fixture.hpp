// SPDX-License-Identifier: MIT
// A real systemd-journald for a test binary, in a private mount namespace: what a test of a
// journal client needs, with nothing of the machine's journal touched.
//
// JournaldSandbox::setUp() (once per test suite) moves the whole test process into a mount
// namespace of its own (unshare(CLONE_NEWNS), then / private), mounts a tmpfs over /run/systemd
// and binds a temporary directory over /var/log/journal, writes a drop-in configuration (no
// kernel log, no rate limit, no forwarding) and the `flushed` flag, so that journald writes
// straight to /var/log/journal, and starts /lib/systemd/systemd-journald. Every process the test
// starts (tend, its jobs, journalctl) inherits the namespace and so reaches that journald.
// tearDown() ends journald and unmounts. Only mounts are private in a mount namespace: it mounts
// over directories that exist and never creates one outside its temporary directory.
//
// Since the namespace is the whole process's, tests that use this belong in a test binary of
// their own. It needs root: without it the tests are skipped (reported as skipped); as root, a
// namespace or journald that cannot be set up fails them with the reason.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/run_process.hpp"

namespace tend::test {

class JournaldSandbox {
  public:
    static constexpr const char* kJournald = "/lib/systemd/systemd-journald";
    static constexpr const char* kSocket = "/run/systemd/journal/socket";

    // Empty when the journald runs; else why not.
    std::string setUp() {
        if (::geteuid() != 0) {
            return skip_ = "needs root (a mount namespace over /run/systemd and /var/log/journal)";
        }
        char pattern[] = "/tmp/tend-journald-XXXXXX";
        if (!::mkdtemp(pattern)) {
            return fail("mkdtemp");
        }
        dir_ = pattern;
        std::filesystem::create_directories(dir_ / "journal");
        if (::unshare(CLONE_NEWNS) != 0) {
            return fail("unshare(CLONE_NEWNS)");
        }
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
            return fail("making / private");
        }
        if (::mount("tmpfs", "/run/systemd", "tmpfs", 0, "mode=755") != 0) {
            return fail("mounting a tmpfs on /run/systemd");
        }
        mounted_run_ = true;
        if (::mount((dir_ / "journal").c_str(), "/var/log/journal", nullptr, MS_BIND, nullptr) !=
            0) {
            return fail("binding a directory over /var/log/journal");
        }
        mounted_journal_ = true;
        std::filesystem::create_directories("/run/systemd/journal");
        std::filesystem::create_directories("/run/systemd/journald.conf.d");
        std::ofstream("/run/systemd/journal/flushed");
        std::ofstream("/run/systemd/journald.conf.d/test.conf")
            << "[Journal]\nStorage=persistent\nReadKMsg=no\nRateLimitBurst=0\n"
               "ForwardToSyslog=no\nForwardToWall=no\nForwardToConsole=no\nForwardToKMsg=no\n"
               "Audit=no\n";
        return startJournald();
    }

    // Starts journald (again) and waits for its socket. Empty when it runs.
    std::string startJournald() {
        // A socket file left by a journald that was killed: journald binds anew.
        ::unlink(kSocket);
        const std::string out = (dir_ / "journald.out").string();
        pid_ = ::fork();
        if (pid_ < 0) {
            return fail("fork");
        }
        if (pid_ == 0) {
            const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
            }
            // No argument: journald takes any argv[1] as the name of a journal namespace.
            ::execl(kJournald, kJournald, static_cast<char*>(nullptr));
            ::_exit(127);
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        struct stat st {};
        while (::stat(kSocket, &st) != 0) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = 0;
                return "systemd-journald exited (status " + std::to_string(status) +
                       ") before its socket appeared; its output is in " + out;
            }
            if (std::chrono::steady_clock::now() > deadline) {
                return "systemd-journald's socket did not appear within 20 s; its output is in " +
                       out;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return {};
    }

    // Ends journald with `signal` and waits for it. Its socket file stays behind, as it would.
    void stopJournald(int signal = SIGTERM) {
        if (pid_ <= 0) {
            return;
        }
        ::kill(pid_, signal);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = 0;
    }

    void tearDown(bool keep) {
        stopJournald();
        if (mounted_journal_) {
            ::umount2("/var/log/journal", MNT_DETACH);
        }
        if (mounted_run_) {
            ::umount2("/run/systemd", MNT_DETACH);
        }
        if (dir_.empty()) {
            return;
        }
        if (keep) {
            std::cerr << "[ journald ] the journal is kept in " << dir_ << "\n";
        } else {
            std::error_code ec;
            std::filesystem::remove_all(dir_, ec);
        }
    }

    // Every entry whose fields match all of `matches` (`FIELD=VALUE`), oldest first, as
    // `journalctl -o json --all` gives them: a value that is not UTF-8 comes as an array of
    // bytes (see bytes()).
    std::vector<nlohmann::json> entries(const std::vector<std::string>& matches) const {
        std::vector<std::string> argv{
            "/usr/bin/journalctl",      "--no-pager", "--all", "-o", "json", "--directory",
            (dir_ / "journal").string()};
        argv.insert(argv.end(), matches.begin(), matches.end());
        const ProcessResult result = runProcess(argv);
        std::vector<nlohmann::json> out;
        std::size_t start = 0;
        while (start < result.out.size()) {
            std::size_t end = result.out.find('\n', start);
            if (end == std::string::npos) {
                end = result.out.size();
            }
            if (end > start) {
                out.push_back(
                    nlohmann::json::parse(result.out.substr(start, end - start), nullptr, false));
            }
            start = end + 1;
        }
        return out;
    }

    // A field's value as bytes, whether journalctl gave it as a string or an array of bytes.
    static std::string bytes(const nlohmann::json& value) {
        if (value.is_string()) {
            return value.get<std::string>();
        }
        std::string out;
        if (value.is_array()) {
            for (const auto& byte : value) {
                out.push_back(static_cast<char>(byte.get<int>()));
            }
        }
        return out;
    }

    const std::string& skipReason() const { return skip_; }
    const std::filesystem::path& dir() const { return dir_; }
    pid_t pid() const { return pid_; }

  private:
    std::string fail(const std::string& what) { return what + ": " + std::strerror(errno); }

    std::filesystem::path dir_;
    std::string skip_;
    pid_t pid_ = 0;
    bool mounted_run_ = false;
    bool mounted_journal_ = false;
};

}  // namespace tend::test
