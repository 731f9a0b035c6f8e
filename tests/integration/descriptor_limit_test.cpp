// SPDX-License-Identifier: MIT
// The job-file watcher and the plugin manager when tend has no descriptor left: a file that
// cannot be opened or a directory that cannot be listed is not a broken file or a removed one.
// Nothing loaded goes away, and what could not be read is read once descriptors are free again,
// with no edit or reload asked for a second time.
//
// tend's last descriptors are taken the way a user's clients would take them: connections to its
// control socket, each answered once and then left open, each of which costs tend one, until
// tend cannot accept the next.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "support/daemon_fixture.hpp"

namespace tend {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

class DescriptorLimit : public test::TendDaemonTest {
  protected:
    void TearDown() override {
        releaseDescriptors();
        test::TendDaemonTest::TearDown();
    }

    // Connects clients, each asking for tend's version and then idle, until tend has spent its
    // reserve descriptor and cannot accept the next: from then on it holds every descriptor its
    // limit allows. Each answer proves tend accepted that client (the kernel completes a
    // connection before tend has taken it).
    ::testing::AssertionResult takeEveryDescriptor() {
        const std::string request = R"({"protocol":1,"command":"version"})"
                                    "\n";
        for (int i = 0; i < 200; ++i) {
            const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_un address{};
            address.sun_family = AF_UNIX;
            std::strncpy(address.sun_path, socketPath().c_str(), sizeof address.sun_path - 1);
            if (fd < 0 ||
                ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
                ::write(fd, request.data(), request.size()) !=
                    static_cast<ssize_t>(request.size())) {
                if (fd >= 0) {
                    ::close(fd);
                }
                return ::testing::AssertionFailure() << "connect: " << std::strerror(errno);
            }
            clients_.push_back(fd);
            bool answered = false;
            const bool settled = waitFor(
                [&] {
                    pollfd ready{fd, POLLIN, 0};
                    answered = ::poll(&ready, 1, 0) == 1;
                    return answered ||
                           tendLog().find("cannot accept control connections") != std::string::npos;
                },
                20s);
            if (!settled) {
                return ::testing::AssertionFailure()
                       << "tend neither answered client " << i << " nor said why:\n"
                       << tendLog();
            }
            if (!answered) {
                return ::testing::AssertionSuccess();
            }
        }
        return ::testing::AssertionFailure()
               << clients_.size() << " clients connected and tend still accepts:\n"
               << tendLog();
    }

    void releaseDescriptors() {
        for (const int fd : clients_) {
            ::close(fd);
        }
        clients_.clear();
    }

    std::string pidOf(const std::string& job) {
        const std::string status = statusOf(job);
        const auto at = status.find("process ");
        if (at == std::string::npos) {
            return {};
        }
        const std::string rest = status.substr(at + 8);
        return rest.substr(0, rest.find_first_not_of("0123456789"));
    }

    std::vector<int> clients_;
};

TEST_F(DescriptorLimit, JobFilesAndPluginsChangedWithNoDescriptorLeftApplyOnceThereAreSome) {
    writeJob("steady", "start on startup\nexec sleep 1000\n");
    writeJob("edited", "start on startup\nexec sleep 1000\n");
    const fs::path plugins = makePluginsDir();
    installPlugin(fs::path(TEND_TEST_PLUGINS_DIR) / "echo.so", plugins, "echo");
    ASSERT_TRUE(startTend({"/usr/bin/prlimit", "--nofile=64:64", "--", "/bin/sh", "-c",
                           "exec \"$@\" --plugins-dir " + plugins.string(), "sh"}));
    ASSERT_TRUE(waitFor(
        [&] {
            return statusOf("steady").find("start/running") != std::string::npos &&
                   statusOf("edited").find("start/running") != std::string::npos;
        },
        10s))
        << ctl("list").out << tendLog();
    ASSERT_THAT(ctl("plugins").out, HasSubstr("echo 1.2.3 running"));
    const std::string steady_pid = pidOf("steady");
    const std::string edited_pid = pidOf("edited");

    ASSERT_TRUE(takeEveryDescriptor());
    // An edit, a new job, a new plugin, and a reload (SIGHUP, as Upstart had it), each of which
    // needs a descriptor to open a file or list a directory.
    writeJob("edited", "start on startup\nenv EDITED=1\nexec sleep 1000\n");
    writeJob("added", "exec sleep 1000\n");
    installPlugin(fs::path(TEND_TEST_PLUGINS_DIR) / "idle.so", plugins, "idle");
    // The watcher's rescan says which of the two it met: the first looks at the whole tree.
    ASSERT_TRUE(waitFor(
        [&] {
            return tendLog().find("job files changed: ") != std::string::npos &&
                   tendLog().find("for want of descriptors or memory") != std::string::npos;
        },
        10s))
        << tendLog();
    ASSERT_EQ(::kill(tendPid(), SIGHUP), 0);
    ASSERT_TRUE(waitFor(
        [&] {
            const std::string log = tendLog();
            return log.find("SIGHUP: ") != std::string::npos &&
                   log.find("a job directory could not be listed for want of descriptors") !=
                       std::string::npos &&
                   log.find("cannot list plugin directory " + plugins.string() +
                            ": Too many open files; its plugins stay as they are") !=
                       std::string::npos;
        },
        10s))
        << tendLog();

    releaseDescriptors();
    // Tried again every second: nothing more is asked of tend.
    EXPECT_TRUE(waitFor(
        [&] {
            return statusOf("added").find("stop/waiting") != std::string::npos &&
                   statusOf("edited").find("definition changed") != std::string::npos &&
                   ctl("plugins").out.find("idle 1.0 running") != std::string::npos;
        },
        20s))
        << ctl("list").out << ctl("plugins").out << tendLog();
    // Nothing was taken for gone or broken meanwhile: the jobs kept their processes, and the
    // plugin that ran before runs on, never unloaded.
    EXPECT_EQ(pidOf("steady"), steady_pid);
    EXPECT_EQ(pidOf("edited"), edited_pid);
    EXPECT_THAT(ctl("plugins").out, HasSubstr("echo 1.2.3 running"));
    const std::string log = tendLog();
    EXPECT_THAT(log, Not(HasSubstr("removed steady")));
    EXPECT_THAT(log, Not(HasSubstr("missing steady")));
    EXPECT_THAT(log, Not(HasSubstr("its file is gone; unloading")));
    EXPECT_THAT(log, HasSubstr("job files tried again: "));
    EXPECT_EQ(ctl("version").exit_code, 0);
}

}  // namespace
}  // namespace tend
