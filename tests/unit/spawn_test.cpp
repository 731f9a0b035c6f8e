// SPDX-License-Identifier: MIT
// Starting a process while the parent holds many descriptors, as tend does with a pipe per job:
// the child gets its streams and nothing else, the parent's table is as it was, and no copy of
// a pipe's write end outlives the spawn (the job's reader would never see its end).
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sys/spawn.hpp"

namespace tend {
namespace {

// Reads `fd` to its end; false when no end came (a write end is still open somewhere).
bool readToEnd(int fd, std::string& out) {
    for (;;) {
        pollfd ready{fd, POLLIN, 0};
        if (::poll(&ready, 1, 30000) <= 0) {
            return false;
        }
        char buffer[4096];
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n == 0;
        }
        out.append(buffer, static_cast<std::size_t>(n));
    }
}

class SpawnBesideManyDescriptors : public ::testing::Test {
  protected:
    void SetUp() override {
        sys::reserveSpawnSlots();
        rlimit files{};
        ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
        const auto count = std::min<rlim_t>(1000, files.rlim_cur - 64);
        for (rlim_t i = 0; i < count; ++i) {
            const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            ASSERT_GE(fd, 0);
            held_.push_back(fd);
        }
    }
    void TearDown() override {
        for (const int fd : held_) {
            ::close(fd);
        }
    }

    // Runs `setup` with its output to a pipe; returns what it wrote, once the pipe has ended.
    std::string run(sys::ProcessSetup setup, bool separate_stderr = false,
                    std::string* stderr_text = nullptr) {
        int out[2];
        int err[2] = {-1, -1};
        EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
        if (separate_stderr) {
            EXPECT_EQ(::pipe2(err, O_CLOEXEC), 0);
        }
        setup.env = {"PATH=/usr/bin:/bin"};
        setup.output = sys::OutputMode::Fd;
        setup.output_fd = out[1];
        setup.error_fd = err[1];
        const sys::SpawnOutcome outcome = sys::spawnProcess(setup);
        ::close(out[1]);
        if (err[1] >= 0) {
            ::close(err[1]);
        }
        EXPECT_TRUE(outcome.ok()) << outcome.error;
        std::string text;
        EXPECT_TRUE(readToEnd(out[0], text)) << "stdout never ended: its write end stayed open";
        if (separate_stderr) {
            std::string errors;
            EXPECT_TRUE(readToEnd(err[0], errors)) << "stderr never ended";
            if (stderr_text) {
                *stderr_text = errors;
            }
            ::close(err[0]);
        }
        ::close(out[0]);
        if (outcome.ok()) {
            int status = 0;
            EXPECT_EQ(::waitpid(outcome.pid, &status, 0), outcome.pid);
            EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
        }
        return text;
    }

    std::vector<int> held_;
};

TEST_F(SpawnBesideManyDescriptors, TheChildHasItsThreeStreamsAndNothingElse) {
    struct stat stdin_before {};
    ASSERT_EQ(::fstat(0, &stdin_before), 0);
    sys::ProcessSetup setup;
    setup.argv = {"/bin/sh", "-c", "ls /proc/$$/fd; echo said on stderr >&2"};
    EXPECT_EQ(run(setup), "0\n1\n2\nsaid on stderr\n");

    // The parent's own descriptors are as they were.
    for (const int fd : held_) {
        ASSERT_GE(::fcntl(fd, F_GETFD), 0) << "descriptor " << fd << " was closed";
    }
    struct stat stdin_after {};
    ASSERT_EQ(::fstat(0, &stdin_after), 0);
    EXPECT_EQ(stdin_after.st_ino, stdin_before.st_ino);
    EXPECT_EQ(stdin_after.st_dev, stdin_before.st_dev);
}

TEST_F(SpawnBesideManyDescriptors, StderrWithAPipeOfItsOwnAndAScriptReachTheirPlaces) {
    sys::ProcessSetup setup;
    setup.argv = {"/bin/sh", "-e", "/proc/self/fd/9"};
    setup.script = "echo from the script\necho its error >&2\n";
    std::string errors;
    EXPECT_EQ(run(setup, true, &errors), "from the script\n");
    EXPECT_EQ(errors, "its error\n");
}

TEST_F(SpawnBesideManyDescriptors, ManySpawnsInARowEachEndTheirPipes) {
    sys::ProcessSetup setup;
    for (int i = 0; i < 20; ++i) {
        setup.argv = {"/bin/echo", std::to_string(i)};
        EXPECT_EQ(run(setup), std::to_string(i) + "\n");
    }
}

TEST_F(SpawnBesideManyDescriptors, AMissingDirectoryIsStillAStartFailureWithItsReason) {
    sys::ProcessSetup setup;
    setup.argv = {"/bin/true"};
    setup.cwd = "/nonexistent-directory-for-the-test";
    setup.env = {"PATH=/usr/bin:/bin"};
    const sys::SpawnOutcome outcome = sys::spawnProcess(setup);
    EXPECT_FALSE(outcome.ok());
    EXPECT_NE(outcome.error.find("No such file or directory"), std::string::npos) << outcome.error;
}

}  // namespace
}  // namespace tend
