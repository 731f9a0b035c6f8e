// SPDX-License-Identifier: MIT
// tend as a desktop session's manager, under a real X server (Xvfb): the session's events
// (xsession, desktop-start, then desktop-end before session-end), a job that needs DISPLAY, and
// every way the session ends: the X server going away, its leader exiting, and desktop-end
// emitted from inside the session. Each time every job stops and tend exits 0.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include "support/xvfb_fixture.hpp"

namespace tend::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

class DesktopSession : public XvfbTest {
  protected:
    void SetUp() override {
        XvfbTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        // tend takes its environment from the X session, as its launcher would give it.
        ::setenv("DISPLAY", x_.display().c_str(), 1);
        ::setenv("DESKTOP_SESSION", "xfce", 1);
        ::setenv("SESSIONTYPE", "xfce4-session", 1);
        home_ = std::getenv("HOME") ? std::getenv("HOME") : "";
        ::setenv("HOME", root_.c_str(), 1);  // the user's ~/.Xresources is the test's
    }

    void TearDown() override {
        ::unsetenv("DISPLAY");
        ::unsetenv("DESKTOP_SESSION");
        ::unsetenv("SESSIONTYPE");
        if (!home_.empty()) {
            ::setenv("HOME", home_.c_str(), 1);
        }
        XvfbTest::TearDown();
    }

    static void restoreEnv(const char* name, const std::optional<std::string>& value) {
        if (value) {
            ::setenv(name, value->c_str(), 1);
        } else {
            ::unsetenv(name);
        }
    }

    // A desktop application that stops through its `stop on desktop-end`, and records it.
    void writeDesktopJobs() {
        writeJob("on-xsession",
                 "start on xsession\ntask\n"
                 "exec sh -c 'echo \"session=$SESSION type=$SESSIONTYPE\"'\n");
        writeJob("needs-display", "start on desktop-start\ntask\nexec xdpyinfo\n");
        writeJob("desktop-app",
                 "start on desktop-start\nstop on desktop-end\n"
                 "exec sleep 1000\n"
                 "post-stop exec sh -c 'echo \"stopped by $UPSTART_STOP_EVENTS\" > " +
                     path("app.mark").string() + "'\n");
        writeJob("plain", "start on startup\nexec sleep 1000\n");
    }

    // After the session has ended: desktop-end came before session-end, each once, and no job
    // process is left.
    void expectEndedInOrder(const std::vector<pid_t>& session) {
        const std::string log = tendLog();
        const auto desktop_end = log.find("handling event desktop-end");
        const auto session_end = log.find("handling event session-end");
        ASSERT_NE(desktop_end, std::string::npos) << log;
        ASSERT_NE(session_end, std::string::npos) << log;
        EXPECT_LT(desktop_end, session_end);
        EXPECT_EQ(countOf(log, "handling event desktop-end"), 1u);
        EXPECT_THAT(log, HasSubstr("session ended"));
        EXPECT_EQ(readFile(path("app.mark")), "stopped by desktop-end\n");
        for (pid_t pid : session) {
            EXPECT_FALSE(processAlive(pid)) << pid << " " << commandLine(pid);
        }
    }

    // The job processes of this session, once desktop-app and plain run (and `keeper`, the
    // `session linger` job, when there is one: it is left out, since it outlives the session).
    std::vector<pid_t> runningSession() {
        EXPECT_TRUE(waitFor([&] {
            return statusOf("desktop-app").find("start/running") != std::string::npos &&
                   statusOf("plain").find("start/running") != std::string::npos &&
                   (!std::filesystem::exists(jobPath("keeper")) || mainPidOf("keeper") > 0);
        })) << tendLog();
        auto session = processesWithEnv({"TEND_SESSION=" + socketPath()});
        if (std::filesystem::exists(jobPath("keeper"))) {
            keeper_ = mainPidOf("keeper");
            std::erase(session, keeper_);
        }
        return session;
    }

    // The `session linger` job's process is still there after the session ended; then it goes,
    // so that nothing is left behind by the test.
    void expectKeeperOutlivedTheSession() {
        ASSERT_GT(keeper_, 0);
        EXPECT_TRUE(processAlive(keeper_)) << "the session linger job ended with the session";
        ::kill(keeper_, SIGKILL);
        waitFor([&] { return !processAlive(keeper_); });
    }
    pid_t keeper_ = 0;

    std::string home_;
};

TEST_F(DesktopSession, TheXServerGoingAwayEndsTheSessionAfterItsEvents) {
    writeDesktopJobs();
    writeJob("keeper", "start on startup\nsession linger\nexec sleep 1000\n");
    ASSERT_TRUE(startTendForeground());
    ASSERT_TRUE(waitFor([&] { return !readLog("on-xsession").empty(); })) << tendLog();
    EXPECT_EQ(readLog("on-xsession"), "session=xfce type=xfce4-session\n");
    // The job that needs DISPLAY sees the display.
    ASSERT_TRUE(waitForFile(logPath("needs-display"), "name of display:")) << tendLog();
    EXPECT_THAT(readLog("needs-display"), HasSubstr(x_.display()));
    const auto session = runningSession();
    EXPECT_GE(session.size(), 2u);

    x_.stop(SIGKILL);
    const auto status = waitTendExit();
    ASSERT_TRUE(status.has_value()) << tendLog();
    EXPECT_EQ(*status, 0);
    EXPECT_THAT(tendLog(), HasSubstr("the X server of display " + x_.display() +
                                     " went away: ending the session"));
    expectEndedInOrder(session);
    expectKeeperOutlivedTheSession();
}

TEST_F(DesktopSession, DesktopEndFromInsideTheSessionEndsIt) {
    writeDesktopJobs();
    ASSERT_TRUE(startTendForeground());
    const auto session = runningSession();
    EXPECT_EQ(ctl("emit", "desktop-end").exit_code, 0) << tendLog();
    const auto status = waitTendExit();
    ASSERT_TRUE(status.has_value()) << tendLog();
    EXPECT_EQ(*status, 0);
    EXPECT_THAT(tendLog(), HasSubstr("desktop-end: ending the session"));
    expectEndedInOrder(session);
}

TEST_F(DesktopSession, TheSessionLeaderExitingEndsIt) {
    const ProcessResult leader_start =
        runProcess({"/bin/sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $!"});
    const pid_t leader = static_cast<pid_t>(std::atoi(leader_start.out.c_str()));
    ASSERT_GT(leader, 0);
    extra_args_ = {"--exit-with", std::to_string(leader)};
    writeDesktopJobs();
    writeJob("keeper", "start on startup\nsession linger\nexec sleep 1000\n");
    ASSERT_TRUE(startTendForeground());
    const auto session = runningSession();
    ::kill(leader, SIGKILL);
    const auto status = waitTendExit();
    ASSERT_TRUE(status.has_value()) << tendLog();
    EXPECT_EQ(*status, 0);
    EXPECT_THAT(tendLog(), HasSubstr("the session leader (pid " + std::to_string(leader) +
                                     ") exited: ending the session"));
    expectEndedInOrder(session);
    expectKeeperOutlivedTheSession();
}

// The shipped xresources job: it needs DISPLAY, and loads ~/.Xresources into the server.
TEST_F(DesktopSession, TheShippedXresourcesJobLoadsTheUsersResources) {
    std::filesystem::copy_file(std::filesystem::path(TEND_JOBS_DIR) / "xresources.conf",
                               jobs_dir_ / "xresources.conf");
    writeFile(".Xresources", "tend.test: shipped-job\n");
    ASSERT_TRUE(startTendForeground());
    ProcessResult query;
    EXPECT_TRUE(waitFor([&] {
        query = runProcess({"/usr/bin/xrdb", "-display", x_.display(), "-query"});
        return query.out.find("tend.test:\tshipped-job") != std::string::npos;
    })) << query.out
        << query.err << tendLog();
    EXPECT_THAT(tendLog(), Not(HasSubstr("xresources main process terminated with status")));
}

// A second tend in the same session says which one runs, and leaves it alone.
TEST_F(DesktopSession, ASecondTendInTheSessionIsRefusedAndNamesTheFirst) {
    writeDesktopJobs();
    ASSERT_TRUE(startTendForeground());
    runningSession();
    const pid_t first = tendPid();
    std::vector<std::string> argv = tendArgs(true);
    const ProcessResult second = runProcess(argv);
    EXPECT_EQ(second.exit_code, 1);
    EXPECT_THAT(second.err, HasSubstr("tend: tend is already running for this session (pid " +
                                      std::to_string(first) + ") on " + socketPath()));
    EXPECT_EQ(readFile(run_dir_ / "tend.pid"), std::to_string(first) + "\n");
    // The first tend's services run on (its tasks end by themselves).
    for (const char* job : {"desktop-app", "plain"}) {
        const std::string status = statusOf(job);
        EXPECT_THAT(status, HasSubstr("start/running")) << job;
        EXPECT_TRUE(processAlive(pidIn(status))) << status;
    }
    EXPECT_EQ(stopTend(), 0);
}

// One tend per user and display: two desktops of one user each get a tend of their own, found
// by tendctl through DISPLAY, and a second tend for a display is refused.
TEST_F(DesktopSession, EachDisplayHasATendOfItsOwnAndTendctlFindsIt) {
    XvfbServer other;
    ASSERT_EQ(other.start(), "");
    const char* runtime_env = std::getenv("XDG_RUNTIME_DIR");
    const std::optional<std::string> runtime_before =
        runtime_env ? std::optional<std::string>(runtime_env) : std::nullopt;
    const std::filesystem::path runtime = root_ / "xdg-runtime";
    std::filesystem::create_directories(runtime);
    ::setenv("XDG_RUNTIME_DIR", runtime.c_str(), 1);
    ::unsetenv("TEND_SESSION");
    writeJob("plain", "start on startup\nexec sleep 1000\n");
    // As a session starts it: no --runtime-dir, the display from DISPLAY or --display.
    std::vector<std::string> argv = tendArgs(true);
    const auto dir_arg = std::find(argv.begin(), argv.end(), "--runtime-dir");
    argv.erase(dir_arg, dir_arg + 2);
    const auto tendFor = [&](const std::string& display) {
        std::vector<std::string> with = argv;
        with.insert(with.end(), {"--display", display});
        return with;
    };
    const auto socketOf = [&](const std::string& display) {
        return runtime / "tend" / ("display-" + display.substr(1)) / "control";
    };
    const auto ctlWith = [&](const std::vector<std::string>& env, const std::string& command,
                             const std::string& arg = "") {
        std::vector<std::string> ctl_argv{TENDCTL_BIN, command};
        if (!arg.empty()) {
            ctl_argv.push_back(arg);
        }
        return runProcess(ctl_argv, env);
    };
    // Whose job runs `plain`: the tend that is its parent.
    const auto tendOfPlain = [&](const std::vector<std::string>& env) -> pid_t {
        const ProcessResult status = ctlWith(env, "status", "plain");
        const pid_t job = pidIn(status.out);
        std::ifstream proc("/proc/" + std::to_string(job) + "/status");
        for (std::string line; std::getline(proc, line);) {
            if (line.starts_with("PPid:")) {
                return static_cast<pid_t>(std::atoi(line.c_str() + 5));
            }
        }
        return 0;
    };
    const pid_t first = spawnTend(tendFor(x_.display()));
    const pid_t second = spawnTend(tendFor(other.display()));
    ASSERT_GT(first, 0);
    ASSERT_GT(second, 0);
    const std::vector<std::string> on_first{"DISPLAY=" + x_.display()};
    const std::vector<std::string> on_second{"DISPLAY=" + other.display() + ".0"};
    // Each display's job, run by that display's tend: until the first tend's socket is there,
    // tendctl on its display finds the only desktop tend there is, the second.
    const bool both_up =
        waitFor([&] { return tendOfPlain(on_first) == first && tendOfPlain(on_second) == second; });
    EXPECT_TRUE(both_up) << readFile(root_ / "tend.out") << tendLog();
    std::vector<std::string> print = tendFor(x_.display());
    print.push_back("--print-socket");
    EXPECT_EQ(runProcess(print).out, socketOf(x_.display()).string() + "\n");
    if (both_up) {
        EXPECT_EQ(tendOfPlain(on_first), first);
        EXPECT_EQ(tendOfPlain(on_second), second);
        // A second tend for the first display is refused and names the first.
        const ProcessResult again = runProcess(tendFor(x_.display()));
        EXPECT_EQ(again.exit_code, 1);
        EXPECT_THAT(again.err,
                    HasSubstr("already running for this session (pid " + std::to_string(first) +
                              ") on " + socketOf(x_.display()).string()));
        // From outside any desktop, with two of them, tendctl cannot choose and says where it
        // looked; with one left, it finds that one.
        const std::vector<std::string> outside{"DISPLAY="};
        EXPECT_EQ(ctlWith(outside, "status", "plain").exit_code, 1);
        ::kill(second, SIGTERM);
        int status = 0;
        ::waitpid(second, &status, 0);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
        EXPECT_EQ(tendOfPlain(outside), first);
    }
    for (const pid_t tend : {first, second}) {
        if (::kill(tend, SIGTERM) == 0) {
            int status = 0;
            ::waitpid(tend, &status, 0);
            EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
        }
    }
    restoreEnv("XDG_RUNTIME_DIR", runtime_before);
}

// `--display none`, or no DISPLAY at all: no desktop events, and the X server is none of
// tend's business.
TEST_F(DesktopSession, WithoutADisplayThereIsNoDesktop) {
    extra_args_ = {"--display", "none"};
    writeDesktopJobs();
    ASSERT_TRUE(startTendForeground());
    ASSERT_TRUE(
        waitFor([&] { return statusOf("plain").find("start/running") != std::string::npos; }));
    x_.stop(SIGKILL);
    EXPECT_THAT(statusOf("desktop-app"), HasSubstr("stop/waiting"));
    EXPECT_EQ(stopTend(), 0);
    EXPECT_EQ(countOf(tendLog(), "handling event desktop-end"), 0u);
    EXPECT_EQ(countOf(tendLog(), "handling event xsession"), 0u);
}

}  // namespace
}  // namespace tend::test
