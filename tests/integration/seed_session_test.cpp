// SPDX-License-Identifier: MIT
// The Upstart user session tend replaces (the reference's seed session), end to end: a real X
// server (Xvfb), an X session that starts tend through the shipped launcher
// (scripts/session/xsession.sh, as Xsession.d or ~/.xsession sources it), the shipped `dbus`
// job bringing up the session bus, and the shipped imapfilter job, unchanged, respawned each
// time its stand-in dies. Then the X session ends, and nothing of it is left.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spawn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "support/xvfb_fixture.hpp"

namespace tend::test {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

class SeedSession : public XvfbTest {
  protected:
    void SetUp() override {
        XvfbTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        // The user's tree: tend finds its runtime directory, logs and configuration by XDG.
        // One tend per user and display: this display's directory.
        run_dir_ = root_ / "tend" / ("display-" + x_.display().substr(1));
        log_dir_ = root_ / "cache" / "tend" / "log";
        config_ = root_ / "config";
        fs::create_directories(config_ / "tend" / "plugins.d");
        installPlugin(fs::path(TEND_PLUGINS_DIR) / "env-manager.so", config_ / "tend" / "plugins.d",
                      "env-manager");
        fs::create_directories(root_ / "bin");
        fs::copy_file(fs::path(TEND_SOURCE_DIR) / "tests/support/imapfilter-standin.sh",
                      root_ / "bin" / "imapfilter");
    }

    void TearDown() override {
        if (leader_ > 0) {
            ::kill(leader_, SIGKILL);
            reap(leader_);
        }
        XvfbTest::TearDown();
    }

    static void reap(pid_t pid) {
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }

    // Puts the shipped jobs where the user keeps them: dbus in tend's own directory, imapfilter
    // in `jobs_subdir` (tend/jobs.d, or upstart, Upstart's).
    void installShippedJobs(const std::string& jobs_subdir) {
        fs::create_directories(config_ / "tend" / "jobs.d");
        fs::create_directories(config_ / jobs_subdir);
        fs::copy_file(fs::path(TEND_JOBS_DIR) / "dbus.conf", config_ / "tend/jobs.d/dbus.conf");
        fs::copy_file(fs::path(TEND_JOBS_DIR) / "imapfilter.conf",
                      config_ / jobs_subdir / "imapfilter.conf");
    }

    // The X session: a shell that sources the launcher, then becomes the "desktop", with what
    // a display manager gives a session and nothing of the test's own (no bus, no tend).
    void startXSession() {
        const std::string tend_dir = fs::path(TEND_BIN).parent_path().string();
        const std::string tendctl_dir = fs::path(TENDCTL_BIN).parent_path().string();
        const std::string script =
            ". " + (fs::path(TEND_SOURCE_DIR) / "scripts/session/xsession.sh").string() +
            "\nexec sleep 1000\n";
        std::vector<std::string> env{"DISPLAY=" + x_.display(),
                                     "HOME=" + root_.string(),
                                     "XDG_RUNTIME_DIR=" + root_.string(),
                                     "XDG_CONFIG_HOME=" + config_.string(),
                                     "XDG_CACHE_HOME=" + (root_ / "cache").string(),
                                     "XDG_DATA_HOME=" + (root_ / "data").string(),
                                     "PATH=" + (root_ / "bin").string() + ":" + tend_dir + ":" +
                                         tendctl_dir + ":/usr/bin:/bin",
                                     "DESKTOP_SESSION=xfce",
                                     "LANG=C.UTF-8"};
        std::vector<char*> envp;
        for (auto& entry : env) {
            envp.push_back(entry.data());
        }
        envp.push_back(nullptr);
        const std::string errors = (root_ / "xsession-errors").string();
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, errors.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                         0600);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
        const char* argv[] = {"/bin/sh", "-c", script.c_str(), nullptr};
        ASSERT_EQ(::posix_spawn(&leader_, "/bin/sh", &actions, nullptr,
                                const_cast<char* const*>(argv), envp.data()),
                  0);
        posix_spawn_file_actions_destroy(&actions);
        ASSERT_TRUE(waitFor([&] { return ctl("version").exit_code == 0; }, 10s))
            << readFile(root_ / "xsession-errors");
        tend_ = static_cast<pid_t>(std::atoi(readFile(run_dir_ / "tend.pid").c_str()));
        ASSERT_GT(tend_, 0);
    }

    // The seed session's story, from `started dbus` to the respawns.
    void expectTheSeedSession() {
        // imapfilter starts on `started dbus`, once the bus answers and its address is out.
        ASSERT_TRUE(waitFor([&] { return countOf(readLog("imapfilter"), "connected;") >= 1; }, 10s))
            << readLog("imapfilter") << readFile(root_ / "xsession-errors");
        const ProcessResult env = ctl("list-env");
        EXPECT_THAT(
            env.out,
            HasSubstr("DBUS_SESSION_BUS_ADDRESS=unix:path=" + (root_ / "bus").string() + "\n"));
        EXPECT_THAT(readLog("imapfilter"), HasSubstr("imapfilter: -v connected; bus at unix:path=" +
                                                     (root_ / "bus").string() + "\n"));
        // It dies at random and is respawned each time: three deaths, four runs.
        ASSERT_TRUE(waitFor([&] { return countOf(readLog("imapfilter"), "connected;") >= 4; }, 30s))
            << readLog("imapfilter");
        EXPECT_GE(countOf(readLog("imapfilter"), "imapfilter: connection lost"), 3u);
        EXPECT_EQ(countOf(readLog("imapfilter"), "no session bus"), 0u);
        std::string status;
        ASSERT_TRUE(waitFor([&] {
            status = ctl("status", "imapfilter").out;
            return status.find("start/running, process") != std::string::npos;
        })) << status;
        EXPECT_THAT(status, MatchesRegex("imapfilter start/running, process [0-9]+\n"));
        EXPECT_THAT(ctl("status", "dbus").out, HasSubstr("dbus start/running, process "));
    }

    // The processes the session's jobs run now (the leader has TEND_SESSION too, from the
    // launcher; a real desktop dies with its X server, this stand-in does not).
    std::vector<pid_t> sessionProcesses() {
        auto session = processesWithEnv({"TEND_SESSION=" + socketPath()});
        std::erase(session, leader_);
        const pid_t bus = pidIn(ctl("status", "dbus").out);
        EXPECT_NE(std::find(session.begin(), session.end(), bus), session.end())
            << "the bus (" << bus << ") is not among the session's processes";
        return session;
    }

    // Once the X session has ended: tend gone, and every process of `session` gone.
    void expectTheSessionEnds(const std::vector<pid_t>& session) {
        ASSERT_TRUE(waitFor([&] { return !processAlive(tend_); }, 20s))
            << readFile(root_ / "xsession-errors");
        for (pid_t pid : session) {
            EXPECT_TRUE(waitFor([&] { return !processAlive(pid); }, 5s))
                << pid << " " << commandLine(pid);
        }
        const std::string errors = readFile(root_ / "xsession-errors");
        EXPECT_THAT(errors, HasSubstr("ending the session"));
        EXPECT_THAT(errors, HasSubstr("session ended"));
    }

    fs::path config_;
    pid_t leader_ = 0;
    pid_t tend_ = 0;
};

TEST_F(SeedSession, TheXSessionStartsTendAndLoggingOutEndsEverything) {
    installShippedJobs("tend/jobs.d");
    startXSession();
    expectTheSeedSession();
    const auto session = sessionProcesses();
    // Logout: the session's leader (the desktop) exits.
    ::kill(leader_, SIGTERM);
    reap(leader_);
    leader_ = 0;
    expectTheSessionEnds(session);
    EXPECT_THAT(readFile(root_ / "xsession-errors"), HasSubstr("the session leader (pid "));
}

// The user's job file where Upstart kept it, ~/.config/upstart; and the X server killed
// rather than a logout.
TEST_F(SeedSession, TheUpstartPathWorksAndTheXServerDyingEndsTheSession) {
    installShippedJobs("upstart");
    startXSession();
    expectTheSeedSession();
    const auto session = sessionProcesses();
    x_.stop(SIGKILL);
    expectTheSessionEnds(session);
    EXPECT_THAT(readFile(root_ / "xsession-errors"),
                HasSubstr("the X server of display " + x_.display() + " went away"));
}

}  // namespace
}  // namespace tend::test
