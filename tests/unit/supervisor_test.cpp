// SPDX-License-Identifier: MIT
// The job state machine and event queue on a fake system layer with a virtual clock: respawn
// limits, back-off, kill-timeout escalation and the start/stop races, with no sleeping.
#include <csignal>

#include "support/supervisor_fixture.hpp"

namespace tend {
namespace {

using dispatch::Supervisor;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

using test::SupervisorTest;

TEST_F(SupervisorTest, StartRunsTheServiceAndEmitsStartingThenStarted) {
    addJob("svc", "exec sleep 100\n");
    ASSERT_TRUE(start("svc").ok);
    EXPECT_EQ(status("svc"), "svc start/running, process " + std::to_string(lastPid()));
    EXPECT_THAT(events_, ElementsAre("starting JOB=svc INSTANCE=", "started JOB=svc INSTANCE="));
    EXPECT_THAT(completions_, ElementsAre("ok"));
    EXPECT_THAT(platform_.spawned.back().setup.argv, ElementsAre("sleep", "100"));
}

TEST_F(SupervisorTest, ShellMetacharactersRunThroughShAndScriptsWithDashE) {
    addJob("a", "exec echo $HOME > /tmp/x\n");
    addJob("b", "script\n  echo hi\nend script\n");
    start("a");
    EXPECT_THAT(platform_.spawned.back().setup.argv,
                ElementsAre("/bin/sh", "-e", "-c", "exec echo $HOME > /tmp/x"));
    start("b");
    EXPECT_THAT(platform_.spawned.back().setup.argv,
                ElementsAre("/bin/sh", "-e", "-c", "echo hi\n"));
}

TEST_F(SupervisorTest, JobEnvironmentCarriesUpstartAndTendNames) {
    addJob("dbus", "exec sleep 100\n");
    addJob("imap", "start on started dbus\nenv A=1\nexec sleep 100\n");
    start("dbus");
    const auto& env = platform_.spawned.back().setup.env;
    EXPECT_THAT(env, ::testing::Contains("A=1"));
    EXPECT_THAT(env, ::testing::Contains("JOB=dbus"));
    EXPECT_THAT(env, ::testing::Contains("UPSTART_EVENTS=started"));
    EXPECT_THAT(env, ::testing::Contains("TEND_EVENTS=started"));
    EXPECT_THAT(env, ::testing::Contains("UPSTART_JOB=imap"));
    EXPECT_THAT(env, ::testing::Contains("UPSTART_INSTANCE="));
    EXPECT_THAT(env, ::testing::Contains("TEND_JOB=imap"));
}

TEST_F(SupervisorTest, ExitedServiceStopsWithResultAndExitStatus) {
    addJob("svc", "exec false\n");
    start("svc");
    exit(lastPid(), 3);
    EXPECT_EQ(status("svc"), "svc stop/waiting");
    EXPECT_THAT(eventsNamed("stopped"),
                ElementsAre("stopped JOB=svc INSTANCE= RESULT=failed PROCESS=main EXIT_STATUS=3"));
    EXPECT_THAT(log_.str(), HasSubstr("svc main process (" + std::to_string(lastPid()) +
                                      ") terminated with status 3"));
}

TEST_F(SupervisorTest, NormalExitIsNotAFailure) {
    addJob("svc", "normal exit 3 TERM\nexec false\n");
    start("svc");
    killedBy(lastPid(), SIGTERM);
    EXPECT_THAT(eventsNamed("stopped"), ElementsAre("stopped JOB=svc INSTANCE= RESULT=ok"));
}

TEST_F(SupervisorTest, SignalDeathReportsTheSignalName) {
    addJob("svc", "exec sleep 100\n");
    start("svc");
    killedBy(lastPid(), SIGSEGV);
    EXPECT_THAT(
        eventsNamed("stopped"),
        ElementsAre("stopped JOB=svc INSTANCE= RESULT=failed PROCESS=main EXIT_SIGNAL=SEGV"));
}

TEST_F(SupervisorTest, RespawnEmitsStoppingOkButNoStoppedAndStartsAgain) {
    addJob("svc", "respawn\nexec sleep 100\n");
    start("svc");
    const pid_t first = lastPid();
    killedBy(first, SIGKILL);
    EXPECT_NE(lastPid(), first);
    EXPECT_EQ(status("svc"), "svc start/running, process " + std::to_string(lastPid()));
    EXPECT_THAT(eventsNamed("stopping"), ElementsAre("stopping JOB=svc INSTANCE= RESULT=ok"));
    EXPECT_THAT(eventsNamed("stopped"), IsEmpty());
    EXPECT_THAT(log_.str(), HasSubstr("svc main process ended, respawning"));
}

TEST_F(SupervisorTest, RespawnLimitStopsATooFastCrasher) {
    addJob("crasher", "respawn\nrespawn limit 10 5\nexec false\n");
    start("crasher");
    int spawns = 1;
    for (int i = 0; i < 20 && status("crasher") != "crasher stop/waiting"; ++i) {
        platform_.advance(10ms);
        exit(lastPid(), 1);
        ++spawns;
    }
    EXPECT_EQ(status("crasher"), "crasher stop/waiting");
    EXPECT_EQ(platform_.spawned.size(), 11u);  // the first start plus ten respawns
    EXPECT_THAT(log_.str(), HasSubstr("crasher respawning too fast, stopped"));
    EXPECT_THAT(eventsNamed("stopped"),
                ElementsAre("stopped JOB=crasher INSTANCE= RESULT=failed PROCESS=respawn"));
}

TEST_F(SupervisorTest, RespawnLimitWindowSlidesForASlowCrasher) {
    addJob("slow", "respawn\nrespawn limit 3 5\nexec false\n");
    start("slow");
    for (int i = 0; i < 12; ++i) {
        platform_.advance(2100ms);  // three crashes never fit in one 5 s window
        exit(lastPid(), 1);
    }
    EXPECT_EQ(status("slow"), "slow start/running, process " + std::to_string(lastPid()));
    EXPECT_EQ(platform_.spawned.size(), 13u);
}

TEST_F(SupervisorTest, BackoffDoublesUpToTheCapAndResetsAfterStableUptime) {
    addJob("svc", "respawn\nrespawn limit unlimited\nrespawn delay 100ms 1s\nexec false\n");
    start("svc");
    std::vector<long long> delays;
    for (int i = 0; i < 6; ++i) {
        exit(lastPid(), 1);
        delays.push_back(platform_.onlyTimerDelayMs());
        EXPECT_THAT(status("svc"), HasSubstr("svc respawn/post-stop"));
        const std::size_t before = platform_.spawned.size();
        platform_.advance(sys::Millis(delays.back() - 1));
        EXPECT_EQ(platform_.spawned.size(), before) << "respawned before its delay";
        platform_.advance(1ms);
        EXPECT_EQ(platform_.spawned.size(), before + 1);
    }
    EXPECT_THAT(delays, ElementsAre(100, 200, 400, 800, 1000, 1000));
    platform_.advance(11s);  // stable for longer than the reset threshold
    const std::size_t before = platform_.spawned.size();
    exit(lastPid(), 1);
    EXPECT_EQ(platform_.spawned.size(), before + 1) << "a stable run waited for its respawn";
    exit(lastPid(), 1);
    EXPECT_EQ(platform_.onlyTimerDelayMs(), 200) << "the interval did not start over";
}

TEST_F(SupervisorTest, AServiceThatStayedUpLongerThanTheIntervalRespawnsAtOnce) {
    addJob("svc", "respawn\nrespawn limit unlimited\nexec sleep 100\n");
    start("svc");
    for (int kill = 0; kill < 3; ++kill) {
        platform_.advance(4s);
        const std::size_t before = platform_.spawned.size();
        killedBy(lastPid(), SIGKILL);
        EXPECT_EQ(platform_.activeTimers(), 0u) << "kill " << kill << " waited for a respawn";
        EXPECT_EQ(platform_.spawned.size(), before + 1) << "kill " << kill;
        EXPECT_EQ(status("svc"), "svc start/running, process " + std::to_string(lastPid()));
    }
}

TEST_F(SupervisorTest, ACrashLoopSlowerThanTheFirstIntervalIsStillHeldBack) {
    addJob("svc", "respawn\nrespawn limit unlimited\nrespawn delay 100ms 1s\nexec false\n");
    start("svc");
    // Each run lasts 150 ms: past the first interval, so the first respawn is at once; after that
    // the interval doubles and the wait is what is left of it, so starts stay an interval apart.
    std::vector<long long> waits;
    for (int i = 0; i < 6; ++i) {
        platform_.advance(150ms);
        const std::size_t before = platform_.spawned.size();
        exit(lastPid(), 1);
        if (platform_.activeTimers() == 0) {
            waits.push_back(0);
            EXPECT_EQ(platform_.spawned.size(), before + 1);
            continue;
        }
        waits.push_back(platform_.onlyTimerDelayMs());
        EXPECT_THAT(status("svc"),
                    HasSubstr("respawn delay " + std::to_string(waits.back()) + "ms"));
        platform_.advance(sys::Millis(waits.back()));
        EXPECT_EQ(platform_.spawned.size(), before + 1);
    }
    EXPECT_THAT(waits, ElementsAre(0, 50, 250, 650, 850, 850));
}

TEST_F(SupervisorTest, UnlimitedRespawnWithoutADelayStillPaces) {
    addJob("svc", "respawn\nrespawn limit unlimited\nexec false\n");
    start("svc");
    exit(lastPid(), 1);
    EXPECT_EQ(platform_.onlyTimerDelayMs(), 100);
}

TEST_F(SupervisorTest, StopDuringRespawnDelayCancelsIt) {
    addJob("svc", "respawn\nrespawn delay 1s\nexec false\n");
    start("svc");
    exit(lastPid(), 1);
    ASSERT_EQ(platform_.activeTimers(), 1u);
    ASSERT_TRUE(stop("svc").ok);
    EXPECT_EQ(status("svc"), "svc stop/waiting");
    EXPECT_EQ(platform_.activeTimers(), 0u);
    EXPECT_THAT(completions_, ElementsAre("ok", "stopped"));
}

TEST_F(SupervisorTest, KillTimeoutEscalatesToSigkill) {
    addJob("stubborn", "kill timeout 3\nexec sleep 100\n");
    start("stubborn");
    const pid_t pid = lastPid();
    ASSERT_TRUE(stop("stubborn").ok);
    EXPECT_TRUE(platform_.sent(pid, SIGTERM));
    EXPECT_TRUE(platform_.sent(-pid, SIGTERM));
    EXPECT_EQ(status("stubborn"), "stubborn stop/killed, process " + std::to_string(pid));
    platform_.advance(2999ms);
    EXPECT_FALSE(platform_.sent(pid, SIGKILL));
    platform_.advance(1ms);
    EXPECT_TRUE(platform_.sent(-pid, SIGKILL));
    EXPECT_THAT(log_.str(), HasSubstr("stubborn did not stop within 3s of TERM; sending KILL"));
    killedBy(pid, SIGKILL);
    EXPECT_EQ(status("stubborn"), "stubborn stop/waiting");
    EXPECT_THAT(completions_, ElementsAre("ok", "stopped"));
}

TEST_F(SupervisorTest, KillSignalStanzaIsWhatStopSends) {
    addJob("svc", "kill signal INT\nexec sleep 100\n");
    start("svc");
    stop("svc");
    EXPECT_TRUE(platform_.sent(lastPid(), SIGINT));
    EXPECT_FALSE(platform_.sent(lastPid(), SIGTERM));
}

TEST_F(SupervisorTest, StopWhileStartingSkipsTheMainProcess) {
    addJob("svc", "pre-start exec sleep 5\nexec sleep 100\n");
    start("svc");
    const pid_t pre = lastPid();
    EXPECT_EQ(status("svc"), "svc start/pre-start, process " + std::to_string(pre));
    ASSERT_TRUE(stop("svc").ok);
    EXPECT_EQ(status("svc"), "svc stop/pre-start, process " + std::to_string(pre));
    exit(pre, 0);
    EXPECT_EQ(status("svc"), "svc stop/waiting");
    EXPECT_EQ(platform_.spawned.size(), 1u) << "the main process must not start";
    EXPECT_THAT(completions_, ElementsAre("ok", "stopped"));
}

TEST_F(SupervisorTest, StartWhileStoppingComesBackUp) {
    addJob("svc", "post-stop exec sleep 1\nexec sleep 100\n");
    start("svc");
    const pid_t main = lastPid();
    stop("svc");
    killedBy(main, SIGTERM);
    const pid_t post = lastPid();
    EXPECT_EQ(status("svc"), "svc stop/post-stop, process " + std::to_string(post));
    ASSERT_TRUE(start("svc").ok);
    exit(post, 0);
    EXPECT_EQ(status("svc"), "svc start/running, process " + std::to_string(lastPid()));
    EXPECT_NE(lastPid(), main);
}

TEST_F(SupervisorTest, StartFromPreStopCancelsTheStop) {
    addJob("svc", "pre-stop exec sleep 1\nexec sleep 100\n");
    start("svc");
    const pid_t main = lastPid();
    stop("svc");
    const pid_t pre_stop = lastPid();
    EXPECT_EQ(status("svc"), "svc stop/pre-stop, process " + std::to_string(main) +
                                 "\n\tpre-stop process " + std::to_string(pre_stop));
    ASSERT_TRUE(start("svc").ok);
    exit(pre_stop, 0);
    EXPECT_EQ(status("svc"), "svc start/running, process " + std::to_string(main));
    EXPECT_THAT(eventsNamed("started"), ElementsAre("started JOB=svc INSTANCE="));
    EXPECT_FALSE(platform_.sent(main, SIGTERM));
    EXPECT_THAT(completions_, ElementsAre("ok", "stopped", "ok"));
}

TEST_F(SupervisorTest, AlreadyRunningAndUnknownJobErrorsMatchInitctl) {
    addJob("svc", "exec sleep 100\n");
    start("svc");
    EXPECT_EQ(start("svc").error, "Job is already running: svc");
    EXPECT_EQ(start("nope").error, "Unknown job: nope");
    stop("svc");
    exit(lastPid(), 0);
    EXPECT_EQ(stop("svc").error, "Job has already been stopped: svc");
}

TEST_F(SupervisorTest, SpawnFailureIsAStartFailureWithTheReason) {
    addJob("svc", "exec /nonexistent\n");
    platform_.fail_next_spawn = "exec /nonexistent: No such file or directory";
    start("svc");
    EXPECT_THAT(completions_,
                ElementsAre("failed: main process could not start: exec /nonexistent: No such file "
                            "or directory"));
    EXPECT_EQ(status("svc"), "svc stop/waiting");
    EXPECT_THAT(eventsNamed("stopped"),
                ElementsAre("stopped JOB=svc INSTANCE= RESULT=failed PROCESS=main"));
}

TEST_F(SupervisorTest, PreStartFailureFailsTheJob) {
    addJob("svc", "pre-start exec false\nexec sleep 100\n");
    start("svc");
    exit(lastPid(), 1);
    EXPECT_THAT(completions_, ElementsAre("failed: pre-start process terminated with status 1"));
    EXPECT_THAT(
        eventsNamed("stopped"),
        ElementsAre("stopped JOB=svc INSTANCE= RESULT=failed PROCESS=pre-start EXIT_STATUS=1"));
}

TEST_F(SupervisorTest, PostStartHoldsTheJobAndStatusShowsBothProcesses) {
    addJob("svc", "post-start exec sleep 1\nexec sleep 100\n");
    start("svc");
    const pid_t main = platform_.spawned[0].pid;
    const pid_t post = lastPid();
    EXPECT_EQ(status("svc"), "svc start/post-start, process " + std::to_string(main) +
                                 "\n\tpost-start process " + std::to_string(post));
    EXPECT_THAT(completions_, IsEmpty());
    exit(post, 0);
    EXPECT_EQ(status("svc"), "svc start/running, process " + std::to_string(main));
    EXPECT_THAT(completions_, ElementsAre("ok"));
}

TEST_F(SupervisorTest, TaskStartCompletesWhenTheTaskHasRun) {
    addJob("t", "task\nexec true\n");
    start("t");
    EXPECT_THAT(completions_, IsEmpty());
    exit(lastPid(), 0);
    EXPECT_THAT(completions_, ElementsAre("ok"));
    EXPECT_EQ(status("t"), "t stop/waiting");
}

TEST_F(SupervisorTest, EventFinishesOnlyWhenTheJobsItStartedHaveSettled) {
    addJob("svc", "start on go\npost-start exec sleep 1\nexec sleep 100\n");
    std::vector<std::string> done;
    supervisor_->emit("go", {}, [&](bool failed, const std::string&) {
        done.push_back(failed ? "failed" : "ok");
    });
    supervisor_->poll();
    EXPECT_THAT(done, IsEmpty()) << "blocked until the job is running";
    exit(lastPid(), 0);  // post-start done
    EXPECT_THAT(done, ElementsAre("ok"));
}

TEST_F(SupervisorTest, FailedEventEmitsSlashFailed) {
    addJob("svc", "start on go\nexec sleep 100\n");
    platform_.fail_next_spawn = "exec sleep: boom";
    bool failed = false;
    supervisor_->emit("go", {}, [&](bool f, const std::string&) { failed = f; });
    supervisor_->poll();
    EXPECT_TRUE(failed);
    EXPECT_THAT(eventsNamed("go/failed"), ElementsAre("go/failed"));
}

TEST_F(SupervisorTest, StopMatchingRunsBeforeStartMatching) {
    addJob("svc", "start on kick\nstop on kick\nexec sleep 100\n");
    supervisor_->emit("kick", {});
    supervisor_->poll();
    const pid_t first = lastPid();
    supervisor_->emit("kick", {});
    supervisor_->poll();
    // The stop side fired first; the start side then re-armed the goal.
    EXPECT_THAT(status("svc"), HasSubstr("svc start/killed"));
    killedBy(first, SIGTERM);
    EXPECT_EQ(status("svc"), "svc start/running, process " + std::to_string(lastPid()));
    EXPECT_NE(lastPid(), first);
}

TEST_F(SupervisorTest, AndOrConditionsWithKeyValueMatches) {
    addJob("svc", "start on (a or b) and c KEY=v*\nexec sleep 100\n");
    supervisor_->emit("a", {});
    supervisor_->emit("c", model::Environment{"KEY=x"});
    supervisor_->poll();
    EXPECT_EQ(status("svc"), "svc stop/waiting");
    supervisor_->emit("c", model::Environment{"KEY=val"});
    supervisor_->poll();
    EXPECT_THAT(status("svc"), HasSubstr("start/running"));
    EXPECT_THAT(platform_.spawned.back().setup.env, ::testing::Contains("KEY=val"));
    EXPECT_THAT(platform_.spawned.back().setup.env, ::testing::Contains("UPSTART_EVENTS=a c"));
}

TEST_F(SupervisorTest, IndexedDispatchStillSeesEveryFormOfMatch) {
    addJob("positional", "start on started dbus\nexec x\n");
    addJob("named", "start on started JOB=dbus\nexec x\n");
    addJob("glob", "start on started d*\nexec x\n");
    addJob("second", "start on started INSTANCE= JOB=dbus\nexec x\n");
    addJob("negated", "start on started JOB!=other\nexec x\n");
    addJob("other", "start on started other\nexec x\n");
    supervisor_->emit("started", model::Environment{"JOB=dbus", "INSTANCE="});
    supervisor_->poll();
    for (const char* name : {"positional", "named", "glob", "second", "negated"}) {
        EXPECT_THAT(status(name), HasSubstr("start/running")) << name;
    }
    EXPECT_EQ(status("other"), "other stop/waiting");
}

// Classes that share an operand (SIGNAL=Ping) and differ in another (ARG0) are filed apart;
// whichever operand a class is filed under, an event that matches it still finds it, also after
// the class is replaced or removed.
TEST_F(SupervisorTest, IndexedDispatchFindsEachClassWhicheverOperandItIsFiledUnder) {
    for (int i = 0; i < 5; ++i) {
        addJob("ping" + std::to_string(i),
               "start on dbus SIGNAL=Ping ARG0=job" + std::to_string(i) + "\ntask\nexec x\n");
    }
    addJob("any-ping", "start on dbus SIGNAL=Ping\ntask\nexec x\n");
    addJob("either", "start on dbus ARG0=job3 SIGNAL=Ping or dbus ARG0=job3\ntask\nexec x\n");
    const auto started = [&](const std::string& arg) {
        const std::size_t before = platform_.spawned.size();
        supervisor_->emit("dbus", model::Environment{"SIGNAL=Ping", "ARG0=" + arg});
        supervisor_->poll();
        std::vector<std::string> jobs;
        for (std::size_t i = before; i < platform_.spawned.size(); ++i) {
            for (const std::string& entry : platform_.spawned[i].setup.env) {
                if (entry.starts_with("UPSTART_JOB=")) {
                    jobs.push_back(entry.substr(12));
                }
            }
            exit(platform_.spawned[i].pid);
        }
        supervisor_->poll();
        std::sort(jobs.begin(), jobs.end());
        return jobs;
    };
    EXPECT_THAT(started("job0"), ElementsAre("any-ping", "ping0"));
    EXPECT_THAT(started("job3"), ElementsAre("any-ping", "either", "ping3"));
    EXPECT_THAT(started("job9"), ElementsAre("any-ping"));
    addJob("ping3", "start on dbus SIGNAL=Pong ARG0=job3\ntask\nexec x\n");
    EXPECT_THAT(started("job3"), ElementsAre("any-ping", "either"));
    supervisor_->removeClass("any-ping");
    EXPECT_THAT(started("job4"), ElementsAre("ping4"));
}

TEST_F(SupervisorTest, StopOnExpandsTheInstanceEnvironment) {
    addJob("svc", "instance $DEV\nstart on added\nstop on removed DEV=$DEV\nexec sleep 100\n");
    supervisor_->emit("added", model::Environment{"DEV=a"});
    supervisor_->emit("added", model::Environment{"DEV=b"});
    supervisor_->poll();
    supervisor_->emit("removed", model::Environment{"DEV=a"});
    supervisor_->poll();
    EXPECT_THAT(status("svc"), HasSubstr("svc (a) stop/killed"));
    EXPECT_THAT(status("svc"), HasSubstr("svc (b) start/running"));
}

TEST_F(SupervisorTest, InstanceTableSharesTheGlobalOneAndStillSeesAGlobalSetEnv) {
    ASSERT_EQ(supervisor_->setEnvironment(nullptr, {"HOME=/home/u", "LANG=C", "BUS=old"}, false),
              "");
    addJob("svc", "exec sleep 100\npost-stop exec true\n");
    ASSERT_TRUE(start("svc").ok);
    std::string error;
    dispatch::Job* job = supervisor_->findInstance("svc", {}, error);
    ASSERT_NE(job, nullptr);
    // Started with nothing of its own: the table is the global generation, not a copy of it.
    EXPECT_EQ(job->env.base(), &supervisor_->globalEnvironment());
    EXPECT_EQ(job->env.ownEntries(), 0u);
    const auto main_env = platform_.spawned.back().setup.env;
    EXPECT_EQ(std::vector<std::string>(main_env.begin(), main_env.begin() + 3),
              (std::vector<std::string>{"HOME=/home/u", "LANG=C", "BUS=old"}));

    // As initctl: a global set-env reaches the running instance's later processes, in the
    // variable's old place; a global unset-env does not.
    ASSERT_EQ(supervisor_->setEnvironment(nullptr, {"BUS=new"}, false), "");
    ASSERT_EQ(supervisor_->unsetEnvironment(nullptr, {"LANG"}), "");
    EXPECT_EQ(job->env.ownEntries(), 1u);
    EXPECT_NE(job->env.base(), &supervisor_->globalEnvironment());
    stop("svc");
    exit(lastPid(), 0);
    const auto& post_env = platform_.spawned.back().setup.env;
    EXPECT_EQ(std::vector<std::string>(post_env.begin(), post_env.begin() + 3),
              (std::vector<std::string>{"HOME=/home/u", "LANG=C", "BUS=new"}));
}

TEST_F(SupervisorTest, InstancesAreIndependent) {
    addJob("inst", "instance $N\nexec sleep 100\n");
    ASSERT_TRUE(start("inst", {"N=1"}).ok);
    ASSERT_TRUE(start("inst", {"N=2"}).ok);
    EXPECT_EQ(start("inst", {"N=1"}).error, "Job is already running: inst");
    EXPECT_THAT(status("inst"), HasSubstr("inst (1) start/running"));
    EXPECT_THAT(status("inst"), HasSubstr("inst (2) start/running"));
    EXPECT_THAT(start("inst").error, HasSubstr("Unknown parameter"));
}

TEST_F(SupervisorTest, ExportedVariablesRideOnLifecycleEvents) {
    addJob("rc", "export RUNLEVEL\nexec sleep 100\n");
    start("rc", {"RUNLEVEL=2"});
    EXPECT_THAT(eventsNamed("started"), ElementsAre("started JOB=rc INSTANCE= RUNLEVEL=2"));
}

TEST_F(SupervisorTest, ExpectStopWaitsForSigstopThenContinues) {
    addJob("svc", "expect stop\nexec sleep 100\n");
    start("svc");
    EXPECT_THAT(status("svc"), HasSubstr("start/spawned"));
    supervisor_->onChildStopped(lastPid());
    EXPECT_TRUE(platform_.sent(lastPid(), SIGCONT));
    EXPECT_THAT(status("svc"), HasSubstr("start/running"));
}

TEST_F(SupervisorTest, ExpectNotifyWaitsForReadyWithinTheStartTimeout) {
    addJob("ok", "expect notify\nexec sleep 100\n");
    addJob("silent", "expect notify\nstart timeout 2s\nexec sleep 100\n");
    start("ok");
    EXPECT_THAT(status("ok"), HasSubstr("start/spawned"));
    supervisor_->onNotify(lastPid(), "STATUS=warming up\nREADY=1\n");
    EXPECT_THAT(status("ok"), HasSubstr("start/running"));

    start("silent");
    const pid_t pid = lastPid();
    platform_.advance(2s);
    EXPECT_THAT(completions_.back(), HasSubstr("did not send READY=1 within 2s"));
    EXPECT_TRUE(platform_.sent(pid, SIGTERM));
}

TEST_F(SupervisorTest, ExpectForkFollowsTheForkAndAWrongExpectNeverHangs) {
    addJob("forker", "expect fork\nexec daemonish\n");
    start("forker");
    const pid_t parent = lastPid();
    platform_.adopted = {4242};
    exit(parent, 0);
    EXPECT_EQ(status("forker"), "forker start/running, process 4242");
    platform_.adopted.clear();

    addJob("wrong", "expect fork\nstart timeout 1s\nexec sleep 100\n");
    start("wrong");
    const pid_t pid = lastPid();
    EXPECT_THAT(status("wrong"), HasSubstr("start/spawned"));
    platform_.advance(1s);
    EXPECT_EQ(status("wrong"), "wrong start/running, process " + std::to_string(pid));
    EXPECT_THAT(log_.str(), HasSubstr("'expect fork' but the process forked 0 time(s)"));
}

TEST_F(SupervisorTest, EscapeesAreStoppedWithTheJob) {
    addJob("svc", "exec sleep 100\n");
    start("svc");
    const pid_t main = lastPid();
    stop("svc");
    platform_.adopted = {5555};
    killedBy(main, SIGTERM);
    EXPECT_THAT(status("svc"), HasSubstr("stop/killed"));
    EXPECT_TRUE(platform_.sent(5555, SIGTERM));
    platform_.adopted.clear();
    supervisor_->onChildExit(5555, {true, SIGTERM});
    EXPECT_EQ(status("svc"), "svc stop/waiting");
}

TEST_F(SupervisorTest, StopEverythingStopsAllAndReportsIdle) {
    addJob("a", "exec sleep 100\n");
    addJob("b", "stop on session-end\nexec sleep 100\n");
    start("a");
    start("b");
    bool idle = false;
    supervisor_->stopEverything([&] { idle = true; });
    EXPECT_FALSE(idle);
    for (const auto& spawned : platform_.spawned) {
        killedBy(spawned.pid, SIGTERM);
    }
    EXPECT_TRUE(idle);
}

}  // namespace
}  // namespace tend
