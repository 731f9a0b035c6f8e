// SPDX-License-Identifier: MIT
// Respawn cases of the reliability scenarios on the fake platform: which exits respawn, a
// stable service turning into a crash loop, hooks that crash during a respawn, a start the
// system was short of resources for, and chains of lifecycle events.
#include <csignal>

#include "support/supervisor_fixture.hpp"

namespace tend {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace std::chrono_literals;
using test::SupervisorTest;

std::string running(const std::string& job, pid_t pid) {
    return job + " start/running, process " + std::to_string(pid);
}

// Scenario 1: with `respawn`, exit 0 is a crash too (as in Upstart), unless `normal exit`
// says otherwise.
TEST_F(SupervisorTest, ARespawningServiceThatExitsZeroIsRespawned) {
    addJob("svc", "respawn\nexec sleep 100\n");
    start("svc");
    const pid_t first = lastPid();
    exit(first, 0);
    ASSERT_EQ(platform_.spawned.size(), 2u);
    EXPECT_NE(lastPid(), first);
    EXPECT_EQ(status("svc"), running("svc", lastPid()));
    EXPECT_THAT(eventsNamed("stopped"), IsEmpty());
}

TEST_F(SupervisorTest, WithNormalExitZeroAServiceRespawnsOnFailureOnly) {
    addJob("svc", "respawn\nnormal exit 0\nexec sleep 100\n");
    start("svc");
    exit(lastPid(), 1);
    ASSERT_EQ(platform_.spawned.size(), 2u);  // a failure: respawned
    EXPECT_EQ(status("svc"), running("svc", lastPid()));
    exit(lastPid(), 0);
    EXPECT_EQ(platform_.spawned.size(), 2u);  // a normal exit: not
    EXPECT_EQ(status("svc"), "svc stop/waiting");
    EXPECT_THAT(eventsNamed("stopped"), ElementsAre("stopped JOB=svc INSTANCE= RESULT=ok"));
}

// Scenario 3: two quick crashes, a minute of stable running, then a crash loop. The earlier
// crashes no longer count: the limit (3 in 5 s) trips on the loop's fourth crash, not its second.
TEST_F(SupervisorTest, AStableServiceThatStartsCrashLoopingTripsItsLimitInAFreshWindow) {
    addJob("svc", "respawn\nrespawn limit 3 5\nexec sleep 100\n");
    start("svc");
    for (int i = 0; i < 2; ++i) {
        platform_.advance(100ms);
        exit(lastPid(), 1);
    }
    platform_.advance(60s);
    for (int i = 0; i < 3; ++i) {
        platform_.advance(100ms);
        exit(lastPid(), 1);
        EXPECT_EQ(status("svc"), running("svc", lastPid())) << "crash " << i + 1 << " of the loop";
    }
    platform_.advance(100ms);
    exit(lastPid(), 1);
    EXPECT_EQ(status("svc"), "svc stop/waiting");
    EXPECT_EQ(platform_.spawned.size(), 6u);
    EXPECT_THAT(eventsNamed("stopped"),
                ElementsAre("stopped JOB=svc INSTANCE= RESULT=failed PROCESS=respawn"));
}

// Scenario 5: a hook that crashes during a respawn ends the job, failed with the hook's
// signal, rather than respawning again around it; nothing is left running.
TEST_F(SupervisorTest, APreStartThatCrashesDuringARespawnFailsTheJob) {
    addJob("svc", "respawn\npre-start exec true\nexec sleep 100\n");
    start("svc");
    exit(lastPid(), 0);  // the first pre-start
    const pid_t main = lastPid();
    ASSERT_EQ(status("svc"), running("svc", main));
    killedBy(main, SIGKILL);
    ASSERT_EQ(platform_.spawned.size(), 3u);  // the respawn's pre-start
    killedBy(lastPid(), SIGSEGV);
    EXPECT_EQ(status("svc"), "svc stop/waiting");
    EXPECT_EQ(platform_.spawned.size(), 3u);
    EXPECT_THAT(eventsNamed("stopped"),
                ElementsAre("stopped JOB=svc INSTANCE= RESULT=failed PROCESS=pre-start "
                            "EXIT_SIGNAL=SEGV"));
    EXPECT_EQ(platform_.activeTimers(), 0u);
}

TEST_F(SupervisorTest, APostStopThatCrashesDuringARespawnFailsTheJob) {
    addJob("svc", "respawn\npost-stop exec true\nexec sleep 100\n");
    start("svc");
    killedBy(lastPid(), SIGKILL);
    ASSERT_EQ(platform_.spawned.size(), 2u);  // the respawn's post-stop
    killedBy(lastPid(), SIGSEGV);
    EXPECT_EQ(status("svc"), "svc stop/waiting");
    EXPECT_EQ(platform_.spawned.size(), 2u);
    EXPECT_THAT(eventsNamed("stopped"),
                ElementsAre("stopped JOB=svc INSTANCE= RESULT=failed PROCESS=post-stop "
                            "EXIT_SIGNAL=SEGV"));
}

TEST_F(SupervisorTest, APostStartThatCrashesDuringARespawnIsLoggedAndTheServiceRuns) {
    addJob("svc", "respawn\npost-start exec true\nexec sleep 100\n");
    start("svc");
    exit(lastPid(), 0);  // the first post-start
    const pid_t main = platform_.spawned[0].pid;
    killedBy(main, SIGKILL);
    ASSERT_EQ(platform_.spawned.size(), 4u);  // the respawned main and its post-start
    const pid_t respawned = platform_.spawned[2].pid;
    killedBy(lastPid(), SIGSEGV);
    EXPECT_EQ(status("svc"), running("svc", respawned));
    EXPECT_THAT(log_.str(), HasSubstr("post-start process (" + std::to_string(lastPid()) +
                                      ") killed by SEGV signal"));
}

// Scenario 16: a dependent on `stop on stopping dep` goes down with its dependency's crash and
// comes back with its respawn; two jobs that start on each other's `started` do not loop.
TEST_F(SupervisorTest, ADependentStopsWithItsCrashingDependencyAndComesBackWithIt) {
    addJob("dep", "respawn\nexec sleep 100\n");
    addJob("user", "start on started dep\nstop on stopping dep\nexec sleep 100\n");
    start("dep");
    supervisor_->poll();
    const pid_t dep = platform_.spawned[0].pid;
    const pid_t user = lastPid();
    ASSERT_EQ(status("user"), running("user", user));
    killedBy(dep, SIGKILL);
    supervisor_->poll();
    EXPECT_TRUE(platform_.sent(-user, SIGTERM)) << "the dependent was not stopped";
    exit(user, 0);
    supervisor_->poll();
    ASSERT_EQ(platform_.spawned.size(), 4u);
    EXPECT_EQ(status("dep"), running("dep", platform_.spawned[2].pid));
    EXPECT_EQ(status("user"), running("user", platform_.spawned[3].pid));
}

TEST_F(SupervisorTest, TwoJobsStartingOnEachOthersStartedEventsStartOnceEach) {
    addJob("a", "start on started b\nexec sleep 100\n");
    addJob("b", "start on started a\nexec sleep 100\n");
    start("a");
    for (int i = 0; i < 5; ++i) {
        supervisor_->poll();
    }
    EXPECT_EQ(platform_.spawned.size(), 2u);
    EXPECT_EQ(status("a"), running("a", platform_.spawned[0].pid));
    EXPECT_EQ(status("b"), running("b", platform_.spawned[1].pid));
    EXPECT_THAT(eventsNamed("started"),
                ElementsAre("started JOB=a INSTANCE=", "started JOB=b INSTANCE="));
}

// fork failing with EAGAIN (RLIMIT_NPROC) passes: a service is tried again rather than left
// stopped for good, while a job that does not respawn fails as any failed start does.
TEST_F(SupervisorTest, AServiceWhoseForkFoundNoProcessesLeftIsTriedAgainAndComesUp) {
    addJob("svc", "respawn\nexec sleep 100\n");
    platform_.fail_next_spawn = "fork: Resource temporarily unavailable";
    platform_.spawn_short_of_resources = true;
    start("svc");
    EXPECT_THAT(log_.str(), HasSubstr("svc main process could not start: fork: Resource "
                                      "temporarily unavailable; trying again in 1s"));
    EXPECT_THAT(completions_, IsEmpty());  // the start is still under way
    EXPECT_TRUE(platform_.spawned.empty());
    platform_.advance(999ms);
    EXPECT_TRUE(platform_.spawned.empty());
    platform_.advance(1ms);
    ASSERT_EQ(platform_.spawned.size(), 1u);
    EXPECT_EQ(status("svc"), "svc start/running, process " + std::to_string(lastPid()));
    EXPECT_THAT(completions_, ElementsAre("ok"));
    EXPECT_THAT(eventsNamed("stopped"), IsEmpty());
}

TEST_F(SupervisorTest, AJobWithoutRespawnFailsAtOnceWhenForkFindsNoProcessesLeft) {
    addJob("once", "exec sleep 100\n");
    platform_.fail_next_spawn = "fork: Resource temporarily unavailable";
    platform_.spawn_short_of_resources = true;
    start("once");
    EXPECT_THAT(completions_, ElementsAre("failed: main process could not start: fork: Resource "
                                          "temporarily unavailable"));
    EXPECT_EQ(status("once"), "once stop/waiting");
    EXPECT_EQ(platform_.activeTimers(), 0u);
}

TEST_F(SupervisorTest, AShortageThatLastsIsGivenUpAtTheRespawnLimit) {
    addJob("svc", "respawn\nrespawn limit 3 60\nexec sleep 100\n");
    platform_.fail_next_spawn = "fork: Cannot allocate memory";
    platform_.spawn_short_of_resources = true;
    platform_.spawn_failures = 100;
    start("svc");
    platform_.advance(10s);
    // The first try and three more, a second apart, then it fails with the reason.
    EXPECT_EQ(platform_.failed_spawns, 4);
    EXPECT_THAT(completions_,
                ElementsAre("failed: main process could not start: fork: Cannot allocate memory"));
    EXPECT_EQ(status("svc"), "svc stop/waiting");
    EXPECT_THAT(eventsNamed("stopped"),
                ElementsAre("stopped JOB=svc INSTANCE= RESULT=failed PROCESS=main"));
}

TEST_F(SupervisorTest, AnExecFailureOfAServiceIsNotTriedAgain) {
    addJob("svc", "respawn\nexec /nonexistent\n");
    platform_.fail_next_spawn = "exec /nonexistent: No such file or directory";
    start("svc");
    EXPECT_THAT(completions_, ElementsAre("failed: main process could not start: exec "
                                          "/nonexistent: No such file or directory"));
    EXPECT_EQ(status("svc"), "svc stop/waiting");
    EXPECT_EQ(platform_.activeTimers(), 0u);
}

}  // namespace
}  // namespace tend
