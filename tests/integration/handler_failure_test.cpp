// SPDX-License-Identifier: MIT
// A handler that throws out of tend's loop (an allocation that failed, a bug) ends neither tend
// nor its jobs. The handler may have left its own work undone: here the SIGUSR1 handler throws
// before it waits for the next signal, so the tend it ran in would never hear SIGTERM again.
// tend replaces itself with its state, as `tendctl reexec` does, and the next tend hears it.
// When the state cannot be saved, tend replaces itself without it and adopts its jobs.
// Built only with TEND_FAULT_POINTS (scripts/test): TEND_FAULT names the faults
// (daemon/fault_points.hpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "support/daemon_fixture.hpp"

namespace tend::test {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class HandlerFailure : public TendDaemonTest {
  protected:
    void SetUp() override {
        TendDaemonTest::SetUp();
        arm("sigusr1-throws");
    }
    static void arm(const char* faults) { ::setenv("TEND_FAULT", faults, 1); }
    void TearDown() override {
        ::unsetenv("TEND_FAULT");
        TendDaemonTest::TearDown();
    }

    // tend with `svc` (a sleeper) and `writer` (numbered lines), both running and the writer's
    // first 20 lines in its log.
    ::testing::AssertionResult startServiceAndWriter() {
        writeJob("svc", "start on startup\nexec sleep 1000\n");
        writeJob("writer",
                 "start on startup\nscript\n"
                 "  i=0; while :; do i=$((i+1)); echo \"line $i\"; sleep 0.002; done\n"
                 "end script\n");
        if (auto started = startTend(); !started) {
            return started;
        }
        if (!waitFor([&] { return mainPidOf("svc") > 0 && mainPidOf("writer") > 0; })) {
            return ::testing::AssertionFailure() << "svc or writer did not start\n" << tendLog();
        }
        if (!waitForFile(logPath("writer"), "line 20\n", 20s)) {
            return ::testing::AssertionFailure() << "the writer's first lines did not arrive";
        }
        return ::testing::AssertionSuccess();
    }

    int countInLog(const std::string& text) const {
        const std::string log = tendLog();
        int count = 0;
        for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) {
            ++count;
        }
        return count;
    }
};

TEST_F(HandlerFailure, TendReplacesItselfWithItsStateAndTheNextTendHearsSignalsAgain) {
    writeJob("svc", "start on startup\nexec sleep 1000\n");
    writeJob("inst", "start on half and whole\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    ASSERT_TRUE(waitFor([&] { return mainPidOf("svc") > 0; }));
    ASSERT_EQ(ctl("emit", "half").exit_code, 0);  // half of inst's `start on half and whole`
    const pid_t tend = tendPid();
    const pid_t svc = mainPidOf("svc");

    ASSERT_EQ(::kill(tend, SIGUSR1), 0);
    ASSERT_TRUE(waitFor([&] { return countInLog("job instance(s) carried over") == 1; }, 60s))
        << tendLog();
    EXPECT_THAT(tendLog(), HasSubstr("a handler of tend's loop failed: std::bad_alloc; tend "
                                     "replaces itself, keeping its jobs"));
    // The same process, the same job process, and the state carried over: the half of inst's
    // condition that had come true is still true.
    EXPECT_TRUE(processAlive(tend));
    EXPECT_EQ(mainPidOf("svc"), svc);
    EXPECT_THAT(statusOf("svc"), HasSubstr("svc start/running, process " + std::to_string(svc)));
    ASSERT_EQ(ctl("emit", "whole").exit_code, 0);
    EXPECT_TRUE(waitFor([&] { return mainPidOf("inst") > 0; })) << statusOf("inst");

    // The tend before would have ignored this: its wait for signals was never renewed. The
    // next tend ends the session, and the job with it.
    ::kill(tend, SIGTERM);
    EXPECT_TRUE(waitFor([&] { return !processAlive(tend); }, 30s)) << tendLog();
    EXPECT_TRUE(waitFor([&] { return !processAlive(svc); }, 10s));
    EXPECT_THAT(tendLog(), HasSubstr("SIGTERM: ending the session"));
}

TEST_F(HandlerFailure, EachFailureReplacesTendAgainAndNoJobIsLost) {
    writeJob("svc", "start on startup\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    ASSERT_TRUE(waitFor([&] { return mainPidOf("svc") > 0; }));
    const pid_t svc = mainPidOf("svc");
    for (int round = 1; round <= 3; ++round) {
        ASSERT_EQ(::kill(tendPid(), SIGUSR1), 0);
        ASSERT_TRUE(
            waitFor([&] { return countInLog("job instance(s) carried over") == round; }, 60s))
            << "round " << round << "\n"
            << tendLog();
    }
    EXPECT_EQ(countInLog("a handler of tend's loop failed: std::bad_alloc"), 3);
    EXPECT_EQ(mainPidOf("svc"), svc);
    EXPECT_EQ(ctl("stop", "svc").exit_code, 0);
    EXPECT_FALSE(processAlive(svc));
}

TEST_F(HandlerFailure, WhenTheStateCannotBeSavedTendReplacesItselfWithoutItAndAdoptsItsJobs) {
    arm("sigusr1-throws,reexec-save-throws");
    ASSERT_TRUE(startServiceAndWriter());
    const pid_t tend = tendPid();
    const pid_t svc = mainPidOf("svc");
    const pid_t writer = mainPidOf("writer");

    ASSERT_EQ(::kill(tend, SIGUSR1), 0);
    ASSERT_TRUE(waitFor(
        [&] {
            return tendLog().find("starting afresh and adopting the running jobs") !=
                   std::string::npos;
        },
        60s))
        << tendLog();
    EXPECT_THAT(tendLog(), HasSubstr("the state could not be saved: std::bad_alloc"));
    EXPECT_THAT(tendLog(), HasSubstr("replacing tend without its state: the next one adopts"));
    EXPECT_TRUE(processAlive(tend));
    EXPECT_EQ(mainPidOf("svc"), svc);
    EXPECT_EQ(mainPidOf("writer"), writer);
    // The writer's lines go on reaching its log, none lost or doubled across the exec.
    const int before = numberedLines(logPath("writer"));
    ASSERT_TRUE(waitFor([&] { return numberedLines(logPath("writer")) > before + 20; }, 20s));
    ::kill(tend, SIGTERM);
    EXPECT_TRUE(waitFor([&] { return !processAlive(tend); }, 30s)) << tendLog();
    EXPECT_TRUE(waitFor([&] { return !processAlive(svc); }, 10s));
}

TEST_F(HandlerFailure, AReexecThatCannotSaveItsStateLeavesTendAsItWas) {
    arm("reexec-save-throws");
    ASSERT_TRUE(startServiceAndWriter());
    const pid_t svc = mainPidOf("svc");

    const auto reexec = ctl("reexec");
    EXPECT_NE(reexec.exit_code, 0);
    EXPECT_THAT(reexec.out + reexec.err,
                HasSubstr("the state could not be saved: std::bad_alloc; tend runs on as it was"));
    // Its log capture runs again (the re-exec had paused it), and the jobs answer to it.
    const int before = numberedLines(logPath("writer"));
    ASSERT_TRUE(waitFor([&] { return numberedLines(logPath("writer")) > before + 20; }, 20s));
    EXPECT_EQ(ctl("stop", "svc").exit_code, 0);
    EXPECT_FALSE(processAlive(svc));
}

}  // namespace
}  // namespace tend::test
