// SPDX-License-Identifier: MIT
// A plugin whose call never returns holds tend's loop for good; one whose code crashes would take
// tend down. The hang watch, or the fatal signal's handler (daemon/crash_exec.hpp), has tend
// replace itself with its binary: the same pid, so the jobs stay its children; the next tend
// adopts them and their output pipes, and refuses the plugin, saying why.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "support/plugin_fixture.hpp"

namespace tend::test {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class PluginHang : public TendPlugins {
  protected:
    // `faulty` and echo loaded; svc (a service) and writer (a numbered line every 2 ms)
    // running, the writer's log begun. Tests ASSERT_NO_FATAL_FAILURE it.
    void startWithServiceAndWriter(const std::string& faulty) {
        install(faulty);
        install("echo");
        writeJob("svc", "start on startup\nexec sleep 1000\n");
        writeJob("writer",
                 "start on startup\nscript\n"
                 "  i=0; while :; do i=$((i+1)); echo \"line $i\"; sleep 0.002; done\n"
                 "end script\n");
        ASSERT_TRUE(startWithPlugins());
        ASSERT_TRUE(waitFor([&] { return mainPidOf("svc") > 0 && mainPidOf("writer") > 0; }));
        ASSERT_TRUE(waitForFile(logPath("writer"), "line 20\n", 20s));
    }

    // Sets `faulty` off (`emit fault`) and checks what both ways out share: the plugin failed,
    // and the same tend process runs on with the same jobs and the other plugin. Returns why
    // the plugin failed.
    std::string setOffAndExpectTheSameTendWithoutIt(const std::string& faulty) {
        const pid_t tend = tendPid();
        const pid_t svc = mainPidOf("svc");
        const pid_t writer = mainPidOf("writer");
        ctl("emit", "--no-wait", "fault");  // its answer is lost with the loop or the program
        EXPECT_TRUE(waitFor([&] { return stateOf(faulty).first == "failed"; }, 60s)) << tendLog();
        EXPECT_THAT(tendLog(), HasSubstr("starting afresh and adopting the running jobs"));
        // The same process, the same jobs: tend replaced its program, not itself.
        EXPECT_TRUE(processAlive(tend));
        EXPECT_EQ(tendPid(), tend);
        EXPECT_EQ(mainPidOf("svc"), svc);
        EXPECT_EQ(mainPidOf("writer"), writer);
        EXPECT_EQ(stateOf("echo").first, "running") << "the other plugin did not come back";
        return stateOf(faulty).second;
    }

    // The plugin's event now does nothing, and tend answers and stops a job.
    void expectTheEventInertAndAStopDone() {
        const pid_t svc = mainPidOf("svc");
        EXPECT_EQ(ctl("emit", "fault").exit_code, 0);
        EXPECT_EQ(ctl("stop", "svc").exit_code, 0);
        EXPECT_FALSE(processAlive(svc));
    }
};

TEST_F(PluginHang, ACallThatNeverReturnsIsCutOffAndTendRunsOnWithItsJobsWithoutThePlugin) {
    extra_args_ = {"--plugin-hang-limit", "2"};
    ASSERT_NO_FATAL_FAILURE(startWithServiceAndWriter("hangs_in_callback"));
    EXPECT_THAT(setOffAndExpectTheSameTendWithoutIt("hangs_in_callback"),
                HasSubstr("a call into it (an event callback) did not return in 2 s; tend "
                          "replaced itself to run on without it"));

    // The writer's lines go on reaching its log, none lost or doubled across the exec.
    const int before = numberedLines(logPath("writer"));
    ASSERT_TRUE(waitFor([&] { return numberedLines(logPath("writer")) > before + 20; }, 20s));
    EXPECT_GT(numberedLines(logPath("writer")), 0);
    expectTheEventInertAndAStopDone();
}

// The same way out for a plugin whose code crashes (a store to an unmapped address in an event
// callback, SIGSEGV): tend replaces its program in the same process, without the plugin.
TEST_F(PluginHang, APluginThatCrashesIsCutOffAndTendRunsOnWithItsJobsWithoutIt) {
    ASSERT_NO_FATAL_FAILURE(startWithServiceAndWriter("segfault_in_callback"));
    EXPECT_THAT(setOffAndExpectTheSameTendWithoutIt("segfault_in_callback"),
                HasSubstr("it crashed (SIGSEGV) in a call into it (an event callback); tend "
                          "replaced itself to run on without it"));

    // The writer's lines go on reaching its log. (Lines the old program had read and not yet
    // written are lost with it: a crash gives no time to write them.)
    const auto lastLine = [&] {
        const std::string log = readFile(logPath("writer"));
        const auto at = log.rfind("line ", log.size() > 1 ? log.size() - 2 : 0);
        return at == std::string::npos ? 0 : std::atoi(log.c_str() + at + 5);
    };
    const int before = lastLine();
    ASSERT_TRUE(waitFor([&] { return lastLine() > before + 20; }, 20s)) << tendLog();
    expectTheEventInertAndAStopDone();
}

TEST_F(PluginHang, ARefusedPluginIsNotLoadedAndSaysWhy) {
    install("echo");
    extra_args_ = {"--refuse-plugin", "echo=it hung before"};
    ASSERT_TRUE(startWithPlugins());
    EXPECT_EQ(stateOf("echo"),
              std::make_pair(std::string("failed"), std::string("it hung before")));
    EXPECT_THAT(tendLog(), HasSubstr("plugin echo: not loaded: it hung before"));
}

TEST(PluginHangOptions, ALimitThatIsNoNumberOfSecondsAndAReasonlessRefusalAreUsageErrors) {
    const ProcessResult limit = runProcess({TEND_BIN, "--plugin-hang-limit", "soon"});
    EXPECT_EQ(limit.exit_code, 2);
    EXPECT_EQ(limit.err, "tend: --plugin-hang-limit needs seconds, not 'soon'\n");
    const ProcessResult rescan = runProcess({TEND_BIN, "--rescan-interval", "-1"});
    EXPECT_EQ(rescan.exit_code, 2);
    EXPECT_EQ(rescan.err, "tend: --rescan-interval needs seconds, not '-1'\n");
    const ProcessResult refuse = runProcess({TEND_BIN, "--refuse-plugin", "echo"});
    EXPECT_EQ(refuse.exit_code, 2);
    EXPECT_EQ(refuse.err, "tend: --refuse-plugin needs NAME=REASON, not 'echo'\n");
}

}  // namespace
}  // namespace tend::test
