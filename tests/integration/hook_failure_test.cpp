// SPDX-License-Identifier: MIT
// Hooks that fail or crash, and a main process that dies while a hook runs, against the real
// tend (docs/reliability.md, scenario 5). As Upstart did: a failing pre-start or post-stop fails
// the job and says so in its `stopped` event; a failing post-start or pre-stop is logged and the
// job goes on; a main process that dies during post-start is respawned once the hook is over.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "support/daemon_fixture.hpp"

namespace tend {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

class TendHookFailures : public test::TendDaemonTest {
  protected:
    // A task that writes the `stopped` event of `job` to its log, whatever its result.
    void watchStopped(const std::string& job) {
        writeJob("watch-" + job, "start on stopped " + job +
                                     "\ntask\nexec echo \"stopped RESULT=$RESULT PROCESS=$PROCESS "
                                     "EXIT_STATUS=$EXIT_STATUS EXIT_SIGNAL=$EXIT_SIGNAL\"\n");
    }
    std::string path_of(const std::string& relative) const { return path(relative).string(); }
};

TEST_F(TendHookFailures, AFailingPostStartIsLoggedAndTheJobRuns) {
    writeJob("hooked", "exec sleep 1000\npost-start exec sh -c 'exit 3'\n");
    ASSERT_TRUE(startTend());
    const test::ProcessResult started = ctl("start", "hooked");
    EXPECT_EQ(started.exit_code, 0) << started.err;
    EXPECT_THAT(started.out, MatchesRegex("hooked start/running, process [0-9]+\n"));
    EXPECT_THAT(tendLog(), MatchesRegex("(.|\n)*hooked post-start process \\([0-9]+\\) terminated "
                                        "with status 3(.|\n)*"));
}

TEST_F(TendHookFailures, APostStartKilledBySignalIsLoggedAndTheJobRuns) {
    writeJob("hooked", "exec sleep 1000\npost-start exec sh -c 'kill -SEGV $$'\n");
    ASSERT_TRUE(startTend());
    const test::ProcessResult started = ctl("start", "hooked");
    EXPECT_EQ(started.exit_code, 0) << started.err;
    EXPECT_THAT(started.out, MatchesRegex("hooked start/running, process [0-9]+\n"));
    EXPECT_THAT(tendLog(), HasSubstr("post-start process"));
    EXPECT_THAT(tendLog(), HasSubstr("killed by SEGV signal"));
}

// The main process crashes while post-start still runs: post-start is ended at once (it would
// wait for a service that is gone) and the job respawns; the second time round it runs.
TEST_F(TendHookFailures, TheMainProcessDyingDuringPostStartRespawnsTheJob) {
    const std::string crashed = path_of("crashed-once");
    const std::string second = path_of("second-round");
    // Post-start waits for a main process that says it is up; the first one crashes instead.
    writeJob("flaky",
             "respawn\n"
             "script\n"
             "  if [ ! -e " +
                 crashed + " ]; then touch " + crashed +
                 "; exit 1; fi\n"
                 "  touch " +
                 second +
                 "\n"
                 "  exec sleep 1000\n"
                 "end script\n"
                 "post-start script\n"
                 "  while [ ! -e " +
                 second +
                 " ]; do sleep 0.05; done\n"
                 "end script\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "--no-wait", "flaky").exit_code, 0);
    const std::string status = waitForStatus("flaky", "start/running", 30s);
    EXPECT_THAT(status, MatchesRegex("flaky start/running, process [0-9]+\n")) << tendLog();
    EXPECT_TRUE(fs::exists(crashed));
    EXPECT_THAT(tendLog(), HasSubstr("flaky main process ended, respawning"));
    EXPECT_THAT(tendLog(), HasSubstr("flaky post-start process"));
    // The first round's post-start is gone, not left waiting beside the second round.
    EXPECT_TRUE(waitFor([&] { return processesWithEnv({"UPSTART_JOB=flaky"}).size() == 1; }, 10s))
        << processesWithEnv({"UPSTART_JOB=flaky"}).size() << " processes of flaky";
}

TEST_F(TendHookFailures, AFailingPreStopIsLoggedAndTheJobStillStops) {
    writeJob("hooked", "exec sleep 1000\npre-stop exec sh -c 'exit 4'\n");
    watchStopped("hooked");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "hooked").exit_code, 0);
    const test::ProcessResult stopped = ctl("stop", "hooked");
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
    EXPECT_EQ(stopped.out, "hooked stop/waiting\n");
    EXPECT_THAT(tendLog(), HasSubstr("pre-stop process"));
    EXPECT_THAT(tendLog(), HasSubstr("terminated with status 4"));
    EXPECT_TRUE(waitForFile(logPath("watch-hooked"), "stopped RESULT=ok PROCESS= ", 10s))
        << readLog("watch-hooked");
}

// The main process of a respawning job ends while pre-stop runs (pre-stop told it to): that is
// the stop going as asked, not a crash to respawn from or a failure.
TEST_F(TendHookFailures, TheMainProcessEndingDuringPreStopEndsTheStop) {
    const std::string pid_file = path_of("main.pid");
    writeJob("polite",
             "respawn\n"
             "script\n"
             "  echo $$ > " +
                 pid_file +
                 "\n"
                 "  exec sleep 1000\n"
                 "end script\n"
                 "pre-stop exec sh -c 'kill -TERM $(cat " +
                 pid_file + "); sleep 0.2'\n");
    watchStopped("polite");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "polite").exit_code, 0);
    ASSERT_TRUE(waitFor([&] { return fs::exists(pid_file); }, 10s));
    const test::ProcessResult stopped = ctl("stop", "polite");
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
    EXPECT_EQ(stopped.out, "polite stop/waiting\n");
    EXPECT_TRUE(waitForFile(logPath("watch-polite"), "stopped RESULT=ok", 10s))
        << readLog("watch-polite");
    EXPECT_THAT(tendLog(), Not(HasSubstr("polite main process ended, respawning")));
    EXPECT_EQ(statusOf("polite"), "polite stop/waiting\n");
}

TEST_F(TendHookFailures, AFailingPostStopFailsTheJobWithItsStatus) {
    writeJob("hooked", "exec sleep 1000\npost-stop exec sh -c 'exit 2'\n");
    watchStopped("hooked");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "hooked").exit_code, 0);
    ctl("stop", "hooked");
    EXPECT_EQ(waitForStatus("hooked", "stop/waiting", 10s), "hooked stop/waiting\n");
    EXPECT_TRUE(waitForFile(logPath("watch-hooked"),
                            "stopped RESULT=failed PROCESS=post-stop EXIT_STATUS=2 EXIT_SIGNAL=\n",
                            10s))
        << readLog("watch-hooked") << tendLog();
    // The next start is a fresh one: the failure does not stick.
    const test::ProcessResult again = ctl("start", "hooked");
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_THAT(again.out, MatchesRegex("hooked start/running, process [0-9]+\n"));
}

TEST_F(TendHookFailures, APostStopKilledBySignalFailsTheJobWithItsSignal) {
    writeJob("hooked", "exec sleep 1000\npost-stop exec sh -c 'kill -SEGV $$'\n");
    watchStopped("hooked");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "hooked").exit_code, 0);
    ctl("stop", "hooked");
    EXPECT_EQ(waitForStatus("hooked", "stop/waiting", 10s), "hooked stop/waiting\n");
    EXPECT_TRUE(
        waitForFile(logPath("watch-hooked"),
                    "stopped RESULT=failed PROCESS=post-stop EXIT_STATUS= EXIT_SIGNAL=SEGV\n", 10s))
        << readLog("watch-hooked") << tendLog();
    EXPECT_THAT(tendLog(), HasSubstr("post-stop process"));
    EXPECT_THAT(tendLog(), HasSubstr("killed by SEGV signal"));
    // tend goes on: the job starts afresh.
    const test::ProcessResult again = ctl("start", "hooked");
    EXPECT_EQ(again.exit_code, 0) << again.err;
}

TEST_F(TendHookFailures, APreStartKilledBySignalFailsTheStart) {
    writeJob("hooked", "exec sleep 1000\npre-start exec sh -c 'kill -KILL $$'\n");
    watchStopped("hooked");
    ASSERT_TRUE(startTend());
    const test::ProcessResult started = ctl("start", "hooked");
    EXPECT_EQ(started.exit_code, 1);
    EXPECT_THAT(started.err, HasSubstr("pre-start process"));
    EXPECT_EQ(waitForStatus("hooked", "stop/waiting", 10s), "hooked stop/waiting\n");
    EXPECT_TRUE(
        waitForFile(logPath("watch-hooked"),
                    "stopped RESULT=failed PROCESS=pre-start EXIT_STATUS= EXIT_SIGNAL=KILL\n", 10s))
        << readLog("watch-hooked") << tendLog();
}

}  // namespace
}  // namespace tend
