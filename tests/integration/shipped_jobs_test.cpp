// SPDX-License-Identifier: MIT
// The jobs shipped in jobs.d, as the user gets them, run by a real tend with the standard
// plugins they need: the SSH agent publishing its socket, and the hourly log rotation trigger.
// (The dbus and imapfilter jobs are the seed session's test; xresources runs under Xvfb in the
// desktop session's; keyring-ready with dbus-bridge's tests.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "env_manager_fixture.hpp"

namespace tend::test {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

class ShippedJobs : public EnvManager {
  protected:
    void installShipped(const std::string& job) {
        fs::copy_file(fs::path(TEND_JOBS_DIR) / (job + ".conf"), jobs_dir_ / (job + ".conf"));
    }

    // What a session gives tend: a runtime directory, tendctl on the PATH, and no agent yet.
    ::testing::AssertionResult startSession() {
        return startWithPlugin(
            {"-u", "SSH_AUTH_SOCK", "XDG_RUNTIME_DIR=" + root_.string(),
             "PATH=" + fs::path(TENDCTL_BIN).parent_path().string() + ":/usr/bin:/bin"});
    }
};

TEST_F(ShippedJobs, SshAgentRunsAnAgentAndPublishesItsSocket) {
    installShipped("ssh-agent");
    writeJob("after-agent",
             "start on started ssh-agent\ntask\n"
             "exec sh -c 'echo \"sock=$SSH_AUTH_SOCK\"'\n");
    ASSERT_TRUE(startSession());
    const std::string socket = (root_ / "ssh-agent.socket").string();
    ASSERT_TRUE(waitFor([&] { return !readLog("after-agent").empty(); }, 10s)) << tendLog();
    EXPECT_EQ(readLog("after-agent"), "sock=" + socket + "\n");
    EXPECT_THAT(ctl("list-env").out, HasSubstr("SSH_AUTH_SOCK=" + socket + "\n"));
    EXPECT_THAT(statusOf("ssh-agent"), HasSubstr("ssh-agent start/running, process "));
    // The agent answers there: no identities yet (ssh-add's 1), not "no agent" (2).
    const ProcessResult listed =
        runProcess({"/usr/bin/env", "SSH_AUTH_SOCK=" + socket, "/usr/bin/ssh-add", "-l"});
    EXPECT_EQ(listed.exit_code, 1) << listed.out << listed.err;
    // It is the job's own process: stopping the job ends the agent.
    ASSERT_EQ(ctl("stop", "ssh-agent").exit_code, 0);
    const ProcessResult gone =
        runProcess({"/usr/bin/env", "SSH_AUTH_SOCK=" + socket, "/usr/bin/ssh-add", "-l"});
    EXPECT_EQ(gone.exit_code, 2);
}

TEST_F(ShippedJobs, RotateLogsEmitsTheEventThatRotatesEveryLog) {
    installShipped("rotate-logs");
    installPlugin(fs::path(TEND_PLUGINS_DIR) / "logrotate.so", plugins_, "logrotate");
    writeJob("chatty",
             "start on startup\nscript\n  while :; do echo chat; sleep 0.05; done\n"
             "end script\n");
    ASSERT_TRUE(startSession());
    ASSERT_TRUE(waitForFile(logPath("chatty"), "chat\n"));
    // Started with the session on the hourly period; again with a short one.
    EXPECT_THAT(statusOf("rotate-logs"), HasSubstr("start/running"));
    ASSERT_EQ(ctl("stop", "rotate-logs").exit_code, 0);
    ASSERT_EQ(ctl("start", "rotate-logs", "EVERY=0.2").exit_code, 0) << tendLog();
    // Again and again, on its period: tend's own log rotates with the rest.
    EXPECT_TRUE(waitFor([&] { return fs::exists(log_dir_ / "chatty.log.2.gz"); }, 10s))
        << tendLog();
    // Its newest rotation is .1.gz until the next one renames it .2.gz (atomically), so one of
    // the two is there once the first has been placed, whatever the worker is doing right now.
    EXPECT_TRUE(waitFor(
        [&] { return fs::exists(root_ / "tend.log.1.gz") || fs::exists(root_ / "tend.log.2.gz"); },
        10s))
        << tendLog();
}

}  // namespace
}  // namespace tend::test
