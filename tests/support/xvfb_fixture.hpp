// SPDX-License-Identifier: MIT
// A real X server for a test: Xvfb on a display number it picks itself (-displayfd), so that
// tests running side by side never meet. Without Xvfb installed the tests that need it are
// skipped with the reason; with it, a server that does not come up fails them.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "support/daemon_fixture.hpp"

extern char** environ;

namespace tend::test {

class XvfbServer {
  public:
    static constexpr const char* kXvfb = "/usr/bin/Xvfb";

    XvfbServer() = default;
    XvfbServer(const XvfbServer&) = delete;
    XvfbServer& operator=(const XvfbServer&) = delete;
    ~XvfbServer() { stop(); }

    // Empty when the server runs; else why not. `skip` says the machine lacks Xvfb.
    std::string start(bool* skip = nullptr) {
        if (::access(kXvfb, X_OK) != 0) {
            if (skip) {
                *skip = true;
            }
            return "Xvfb is not installed (apt-get install xvfb)";
        }
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            return "pipe failed";
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], 3);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
        const char* argv[] = {kXvfb,     "-displayfd", "3",          "-nolisten", "tcp",
                              "-screen", "0",          "640x480x24", nullptr};
        const int rc =
            ::posix_spawn(&pid_, kXvfb, &actions, nullptr, const_cast<char* const*>(argv), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        if (rc != 0) {
            ::close(fds[0]);
            pid_ = 0;
            return "cannot start Xvfb";
        }
        // Xvfb writes its display number once it accepts clients.
        std::string number;
        char c = 0;
        while (::read(fds[0], &c, 1) == 1 && c != '\n') {
            number.push_back(c);
        }
        ::close(fds[0]);
        if (number.empty()) {
            stop();
            return "Xvfb did not say its display number";
        }
        display_ = ":" + number;
        return {};
    }

    // Kills the server, as a crash or a logout ends it.
    void stop(int signal = SIGTERM) {
        if (pid_ > 0) {
            ::kill(pid_, signal);
            int status = 0;
            while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
            pid_ = 0;
        }
    }

    const std::string& display() const { return display_; }
    pid_t pid() const { return pid_; }

  private:
    pid_t pid_ = 0;
    std::string display_;
};

// A test of tend with a real X server, started before each test and ended after it. Skipped,
// with the reason, where Xvfb is not installed.
class XvfbTest : public TendDaemonTest {
  protected:
    void SetUp() override {
        TendDaemonTest::SetUp();
        bool skip = false;
        const std::string error = x_.start(&skip);
        if (skip) {
            GTEST_SKIP() << error;
        }
        ASSERT_EQ(error, "");
    }

    void TearDown() override {
        TendDaemonTest::TearDown();
        x_.stop();
    }

    XvfbServer x_;
};

}  // namespace tend::test
