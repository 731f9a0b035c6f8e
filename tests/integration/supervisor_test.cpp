// SPDX-License-Identifier: MIT
// The real tend supervising real processes, driven by the real tendctl: every assertion is on
// something a user sees (tendctl's output and exit status, pids, job logs, tend's own log).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/daemon_fixture.hpp"

namespace tend {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::ProcessResult;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

using Clock = std::chrono::steady_clock;

long long msSince(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

class TendSupervisor : public test::TendDaemonTest {
  protected:
    std::string at(const std::string& relative) const { return path(relative).string(); }

    // A task started by every `stopped` event of `job`; it appends what the event said.
    void writeStoppedWatcher(const std::string& job, const std::string& mark,
                             const std::string& extra_match = "") {
        writeJob(job + "-watch",
                 "start on stopped " + job + extra_match +
                     "\n"
                     "task\n"
                     "script\n"
                     "  echo \"JOB=$JOB RESULT=$RESULT PROCESS=${PROCESS:-} "
                     "EXIT_STATUS=${EXIT_STATUS:-} EXIT_SIGNAL=${EXIT_SIGNAL:-}\" >> " +
                     at(mark) +
                     "\n"
                     "end script\n");
    }

    std::vector<std::string> lines(const std::string& text) {
        std::vector<std::string> out;
        std::size_t start = 0;
        while (start < text.size()) {
            std::size_t end = text.find('\n', start);
            if (end == std::string::npos) {
                end = text.size();
            }
            out.push_back(text.substr(start, end - start));
            start = end + 1;
        }
        return out;
    }
};

// ---------------------------------------------------------------------------------------------
// The seed scenario: a mail filter that follows the bus and comes back when it dies.

TEST_F(TendSupervisor, ImapfilterFollowsDbusAndComesBackAfterSigkill) {
    writeJob("dbus", "exec sleep 1000\n");
    writeJob("imapfilter",
             "start on started dbus\n"
             "respawn\n"
             "script\n"
             "  echo \"imapfilter polling (pid $$)\"\n"
             "  exec sleep 1000\n"
             "end script\n");
    ASSERT_TRUE(startTend());
    EXPECT_EQ(statusOf("imapfilter"), "imapfilter stop/waiting\n");

    const ProcessResult started = ctl("start", "dbus");
    ASSERT_EQ(started.exit_code, 0) << started.err;
    EXPECT_THAT(started.out, MatchesRegex("dbus start/running, process [0-9]+\n"));
    const pid_t dbus = pidIn(started.out);

    std::string status = waitForStatus("imapfilter", "start/running", 5s);
    EXPECT_THAT(status, MatchesRegex("imapfilter start/running, process [0-9]+\n"));
    const pid_t first = pidIn(status);
    ASSERT_GT(first, 0) << status;
    ASSERT_TRUE(waitForFile(logPath("imapfilter"),
                            "imapfilter polling (pid " + std::to_string(first) + ")\n"))
        << readLog("imapfilter");

    ASSERT_EQ(::kill(first, SIGKILL), 0);
    pid_t second = 0;
    ASSERT_TRUE(waitFor([&] {
        status = statusOf("imapfilter");
        second = pidIn(status);
        return second > 0 && second != first && status.find("start/running") != std::string::npos;
    })) << status;
    EXPECT_THAT(status, MatchesRegex("imapfilter start/running, process [0-9]+\n"));
    EXPECT_TRUE(processAlive(second));
    EXPECT_FALSE(processAlive(first));
    EXPECT_TRUE(waitForFile(logPath("imapfilter"),
                            "imapfilter polling (pid " + std::to_string(second) + ")\n"))
        << readLog("imapfilter");
    EXPECT_EQ(countOf(readLog("imapfilter"), "imapfilter polling"), 2u) << readLog("imapfilter");

    const std::string log = tendLog();
    EXPECT_THAT(log, HasSubstr("imapfilter main process (" + std::to_string(first) +
                               ") killed by KILL signal"));
    EXPECT_THAT(log, HasSubstr("imapfilter main process ended, respawning"));
    EXPECT_EQ(statusOf("dbus"), "dbus start/running, process " + std::to_string(dbus) + "\n");
}

// ---------------------------------------------------------------------------------------------
// Crash and restart

TEST_F(TendSupervisor, TooFastCrasherStopsAndSaysWhy) {
    writeJob("crasher", "respawn\nrespawn limit 3 5\nexec false\n");
    writeStoppedWatcher("crasher", "crash.mark", " RESULT=failed PROCESS=respawn");
    ASSERT_TRUE(startTend());

    ctl("start", "crasher");  // it may report running or already have failed: both are fine
    const std::string status = waitForStatus("crasher", "stop/waiting", 4s);
    EXPECT_EQ(status, "crasher stop/waiting\n");
    EXPECT_TRUE(
        waitForFile(path("crash.mark"),
                    "JOB=crasher RESULT=failed PROCESS=respawn EXIT_STATUS= EXIT_SIGNAL=\n"))
        << readFile(path("crash.mark"));
    const std::string log = tendLog();
    EXPECT_THAT(log, HasSubstr("crasher respawning too fast, stopped"));
    EXPECT_EQ(countOf(log, "crasher main process ended, respawning"), 3u) << log;
    EXPECT_TRUE(jobProcesses("crasher").empty());
}

TEST_F(TendSupervisor, RespawnDelayBacksOffInsteadOfSpinning) {
    writeJob("flappy",
             "respawn\n"
             "respawn limit unlimited\n"
             "respawn delay 200ms 1s\n"
             "script\n"
             "  echo run\n"
             "  exit 1\n"
             "end script\n");
    ASSERT_TRUE(startTend());
    ctl("start", "flappy");

    const std::string waiting = waitForStatus("flappy", "respawn/post-stop", 30s);
    EXPECT_THAT(waiting, HasSubstr("flappy respawn/post-stop")) << waiting;

    // Bounded by what happened, not by a clock: by the time the interval has doubled twice, the
    // job has run three times, however slow the machine.
    ASSERT_TRUE(waitFor(
        [&] { return tendLog().find("(starts kept 800ms apart)") != std::string::npos; }, 60s))
        << tendLog();
    const std::string log = tendLog();
    EXPECT_THAT(log, HasSubstr("(starts kept 200ms apart)"));
    EXPECT_THAT(log, HasSubstr("(starts kept 400ms apart)"));
    const std::size_t respawns = countOf(log, "flappy main process ended, respawning");
    EXPECT_GE(respawns, 3u) << log;
    EXPECT_LE(respawns, 4u) << log;  // the next one is 800 ms away: no spinning
    EXPECT_LE(countOf(readLog("flappy"), "run\n"), 5u);

    const ProcessResult stopped = ctl("stop", "flappy");
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
    EXPECT_EQ(stopped.out, "flappy stop/waiting\n");
    EXPECT_EQ(statusOf("flappy"), "flappy stop/waiting\n");
}

TEST_F(TendSupervisor, ExitStatusThreeIsAFailureOfTheMainProcess) {
    writeJob("svc", "script\n  sleep 0.1\n  exit 3\nend script\n");
    writeStoppedWatcher("svc", "svc.mark");
    ASSERT_TRUE(startTend());
    ctl("start", "svc");
    EXPECT_TRUE(waitForFile(path("svc.mark"),
                            "JOB=svc RESULT=failed PROCESS=main EXIT_STATUS=3 EXIT_SIGNAL=\n"))
        << readFile(path("svc.mark"));
    EXPECT_EQ(waitForStatus("svc", "stop/waiting", 3s), "svc stop/waiting\n");
    EXPECT_THAT(tendLog(), ContainsRegex("svc main process \\([0-9]+\\) terminated with status 3"));
}

TEST_F(TendSupervisor, DeathBySignalIsReportedAsExitSignal) {
    writeJob("svc", "exec sleep 1000\n");
    writeStoppedWatcher("svc", "svc.mark");
    ASSERT_TRUE(startTend());

    ProcessResult started = ctl("start", "svc");
    ASSERT_EQ(started.exit_code, 0) << started.err;
    pid_t pid = pidIn(started.out);
    ASSERT_GT(pid, 0) << started.out;
    ASSERT_EQ(::kill(pid, SIGTERM), 0);
    EXPECT_TRUE(waitForFile(path("svc.mark"),
                            "JOB=svc RESULT=failed PROCESS=main EXIT_STATUS= EXIT_SIGNAL=TERM\n"))
        << readFile(path("svc.mark"));
    EXPECT_EQ(waitForStatus("svc", "stop/waiting", 3s), "svc stop/waiting\n");

    started = ctl("start", "svc");
    ASSERT_EQ(started.exit_code, 0) << started.err;
    pid = pidIn(started.out);
    ASSERT_GT(pid, 0) << started.out;
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    EXPECT_TRUE(waitForFile(path("svc.mark"),
                            "JOB=svc RESULT=failed PROCESS=main EXIT_STATUS= EXIT_SIGNAL=KILL\n"))
        << readFile(path("svc.mark"));
    EXPECT_EQ(waitForStatus("svc", "stop/waiting", 3s), "svc stop/waiting\n");
    EXPECT_THAT(tendLog(),
                HasSubstr("svc main process (" + std::to_string(pid) + ") killed by KILL signal"));
}

TEST_F(TendSupervisor, NormalExitStatusIsOkAndNotRespawned) {
    writeJob("svc", "respawn\nnormal exit 3\nscript\n  sleep 0.1\n  exit 3\nend script\n");
    writeStoppedWatcher("svc", "svc.mark");
    ASSERT_TRUE(startTend());
    ctl("start", "svc");
    EXPECT_TRUE(
        waitForFile(path("svc.mark"), "JOB=svc RESULT=ok PROCESS= EXIT_STATUS= EXIT_SIGNAL=\n"))
        << readFile(path("svc.mark"));
    EXPECT_EQ(waitForStatus("svc", "stop/waiting", 3s), "svc stop/waiting\n");
    EXPECT_THAT(tendLog(), Not(HasSubstr("svc main process ended, respawning")));
}

// ---------------------------------------------------------------------------------------------
// Stop, kill and reaping

TEST_F(TendSupervisor, JobIgnoringTermIsKilledAfterKillTimeout) {
    writeJob("stubborn",
             "kill timeout 1\n"
             "script\n"
             "  trap '' TERM\n"
             "  echo ready\n"
             "  while true; do sleep 0.1; done\n"
             "end script\n");
    ASSERT_TRUE(startTend());
    const ProcessResult started = ctl("start", "stubborn");
    ASSERT_EQ(started.exit_code, 0) << started.err;
    const pid_t main = pidIn(started.out);
    ASSERT_TRUE(waitForFile(logPath("stubborn"), "ready\n"));

    const auto begin = Clock::now();
    const ProcessResult stopped = ctl("stop", "stubborn");
    const auto took = msSince(begin);
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
    EXPECT_EQ(stopped.out, "stubborn stop/waiting\n");
    EXPECT_GE(took, 900);
    EXPECT_LE(took, 3000);
    EXPECT_FALSE(processAlive(main));
    EXPECT_TRUE(jobProcesses("stubborn").empty());
    EXPECT_THAT(tendLog(), HasSubstr("stubborn did not stop within 1s of TERM; sending KILL"));
}

TEST_F(TendSupervisor, StopLeavesNoChildGrandchildOrSetsidEscapee) {
    writeJob("escapee",
             "script\n"
             "  sleep 1000 &\n"
             "  echo $! >> " +
                 at("pids") +
                 "\n"
                 "  setsid sleep 1001 &\n"
                 "  echo $! >> " +
                 at("pids") +
                 "\n"
                 "  echo $$ >> " +
                 at("pids") +
                 "\n"
                 "  exec sleep 1002\n"
                 "end script\n");
    ASSERT_TRUE(startTend());
    const ProcessResult started = ctl("start", "escapee");
    ASSERT_EQ(started.exit_code, 0) << started.err;
    std::vector<pid_t> pids;
    ASSERT_TRUE(waitFor([&] {
        pids = readPids(path("pids"));
        return pids.size() == 3 && commandLine(pids[1]).starts_with("sleep 1001") &&
               commandLine(pids[2]).starts_with("sleep 1002");
    })) << readFile(path("pids"));
    EXPECT_EQ(pidIn(started.out), pids[2]);
    EXPECT_NE(::getsid(pids[1]), ::getsid(pids[2])) << "the escapee has its own session";
    for (pid_t pid : pids) {
        ASSERT_TRUE(processAlive(pid)) << pid;
    }

    const auto begin = Clock::now();
    const ProcessResult stopped = ctl("stop", "escapee");
    const auto took = msSince(begin);
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
    // Everything here dies of SIGTERM: nothing should need the 5 s kill timeout.
    EXPECT_LT(took, 2000) << "tendctl stop took " << took << " ms";
    EXPECT_EQ(stopped.out, "escapee stop/waiting\n");
    for (pid_t pid : pids) {
        EXPECT_FALSE(processAlive(pid)) << pid << " " << commandLine(pid);
    }
    EXPECT_TRUE(jobProcesses("escapee").empty());
    const std::string log = tendLog();
    EXPECT_THAT(log, HasSubstr("escapee: stopping process " + std::to_string(pids[1]) + ", "));
    EXPECT_THAT(log, Not(HasSubstr("escapee did not stop within")));
}

// The same stop with a child that takes a moment to clean up after SIGTERM (the job's main
// process dies first): the stop ends when that child does, not at the kill timeout.
TEST_F(TendSupervisor, StopEndsWhenASlowChildHasCleanedUp) {
    writeJob("slowchild",
             "script\n"
             "  sh -c 'trap \"sleep 0.3; exit 0\" TERM; echo $$ > " +
                 at("child.pid") +
                 "; while true; do sleep 0.05; done' &\n"
                 "  echo $$ > " +
                 at("main.pid") +
                 "\n"
                 "  exec sleep 1000\n"
                 "end script\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "slowchild").exit_code, 0);
    std::vector<pid_t> pids;
    ASSERT_TRUE(waitFor([&] {
        pids = readPids(path("child.pid"));
        const auto main = readPids(path("main.pid"));
        if (pids.size() != 1 || main.size() != 1) {
            return false;
        }
        pids.push_back(main[0]);
        return commandLine(main[0]).starts_with("sleep 1000");
    }));

    const auto begin = Clock::now();
    const ProcessResult stopped = ctl("stop", "slowchild");
    const auto took = msSince(begin);
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
    EXPECT_EQ(stopped.out, "slowchild stop/waiting\n");
    EXPECT_GE(took, 250) << "the child's clean-up takes 0.3 s";
    EXPECT_LT(took, 2000) << "tendctl stop took " << took << " ms; the kill timeout is 5 s";
    for (pid_t pid : pids) {
        EXPECT_FALSE(processAlive(pid)) << pid << " " << commandLine(pid);
    }
    EXPECT_THAT(tendLog(), Not(HasSubstr("slowchild did not stop within")));
}

TEST_F(TendSupervisor, ExpectForkTracksTheChildOfASingleFork) {
    writeJob("forker",
             "expect fork\n"
             "start timeout 2s\n"
             "script\n"
             "  sleep 1000 &\n"
             "  echo $! > " +
                 at("forker.pid") +
                 "\n"
                 "end script\n");
    ASSERT_TRUE(startTend());
    const ProcessResult started = ctl("start", "forker");
    ASSERT_EQ(started.exit_code, 0) << started.err;
    const auto pids = readPids(path("forker.pid"));
    ASSERT_EQ(pids.size(), 1u);
    EXPECT_EQ(started.out, "forker start/running, process " + std::to_string(pids[0]) + "\n");
    EXPECT_EQ(statusOf("forker"), started.out);
    EXPECT_TRUE(processAlive(pids[0]));

    const ProcessResult stopped = ctl("stop", "forker");
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
    EXPECT_FALSE(processAlive(pids[0]));
    EXPECT_TRUE(jobProcesses("forker").empty());
}

TEST_F(TendSupervisor, ExpectDaemonTracksTheGrandchildOfADoubleFork) {
    // Plain double fork: the script forks a shell, which forks the daemon and then exits.
    writeJob("doubled",
             "expect daemon\n"
             "start timeout 2s\n"
             "script\n"
             "  sh -c 'sleep 1000 & echo $! > " +
                 at("doubled.pid") +
                 "; sleep 0.2' &\n"
                 "end script\n");
    ASSERT_TRUE(startTend());
    const ProcessResult started = ctl("start", "doubled");
    ASSERT_EQ(started.exit_code, 0) << started.err;
    std::vector<pid_t> pids;
    ASSERT_TRUE(waitFor([&] { return (pids = readPids(path("doubled.pid"))).size() == 1; }));
    EXPECT_EQ(started.out, "doubled start/running, process " + std::to_string(pids[0]) + "\n");
    EXPECT_EQ(statusOf("doubled"),
              "doubled start/running, process " + std::to_string(pids[0]) + "\n");

    const ProcessResult stopped = ctl("stop", "doubled");
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
    EXPECT_FALSE(processAlive(pids[0]));
    EXPECT_TRUE(jobProcesses("doubled").empty());
}

TEST_F(TendSupervisor, ExpectDaemonTracksADaemonThatCallsSetsid) {
    // daemon(3): fork, setsid in the child, fork again; the grandchild is the daemon.
    writeJob("daemon",
             "expect daemon\n"
             "start timeout 2s\n"
             "script\n"
             "  setsid sh -c 'sleep 1000 & echo $! > " +
                 at("daemon.pid") +
                 "' &\n"
                 "end script\n");
    ASSERT_TRUE(startTend());
    const ProcessResult started = ctl("start", "daemon");
    ASSERT_EQ(started.exit_code, 0) << started.err;
    std::vector<pid_t> pids;
    ASSERT_TRUE(waitFor([&] { return (pids = readPids(path("daemon.pid"))).size() == 1; }));
    const std::string expected = "daemon start/running, process " + std::to_string(pids[0]) + "\n";
    EXPECT_EQ(started.out, expected) << "tendctl start named another process than the daemon";
    std::string status;
    EXPECT_TRUE(waitFor([&] { return (status = statusOf("daemon")) == expected; }, 3s)) << status;

    const ProcessResult stopped = ctl("stop", "daemon");
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
    EXPECT_FALSE(processAlive(pids[0]));
    EXPECT_TRUE(jobProcesses("daemon").empty());
}

// `expect daemon` on a process that forks only once: once the start timeout passes, tend
// tracks the child it was left (it never loses the process), and says so.
// A job file saved with Windows line ends runs as written: its script gets no CRs.
TEST_F(TendSupervisor, AJobFileWithCrlfLineEndsRunsItsScript) {
    writeJob("windows", "task\r\nscript\r\n  echo hi\r\n  exit 0\r\nend script\r\n");
    ASSERT_TRUE(startTend());
    const ProcessResult started = ctl("start", "windows");
    EXPECT_EQ(started.exit_code, 0) << started.err << tendLog();
    // The log router's thread writes the line; the task's end does not wait for it.
    EXPECT_TRUE(waitForFile(logPath("windows"), "hi\n")) << readLog("windows");
    EXPECT_EQ(readLog("windows"), "hi\n");
}

TEST_F(TendSupervisor, ExpectDaemonOnAProcessThatForksOnceTracksItsChild) {
    writeJob("once",
             "expect daemon\n"
             "start timeout 1s\n"
             "script\n"
             "  sleep 1000 &\n"
             "  echo $! > " +
                 at("once.pid") +
                 "\n"
                 "end script\n");
    ASSERT_TRUE(startTend());
    const ProcessResult started = ctl("start", "once");
    ASSERT_EQ(started.exit_code, 0) << started.err;
    const auto pids = readPids(path("once.pid"));
    ASSERT_EQ(pids.size(), 1u);
    EXPECT_EQ(started.out, "once start/running, process " + std::to_string(pids[0]) + "\n");
    EXPECT_THAT(tendLog(), HasSubstr("once: 'expect daemon' but the process forked 1 time(s)"));
    EXPECT_EQ(ctl("stop", "once").exit_code, 0);
    EXPECT_FALSE(processAlive(pids[0]));
    EXPECT_TRUE(jobProcesses("once").empty());
}

// `expect fork` on a process that forks twice: ready after the first fork, tend follows the
// chain to the grandchild when the child exits, and stopping leaves nothing.
TEST_F(TendSupervisor, ExpectForkOnAProcessThatForksTwiceFollowsItToTheGrandchild) {
    writeJob("twice",
             "expect fork\n"
             "start timeout 5s\n"
             "script\n"
             "  ( sleep 0.5; sleep 1000 & echo $! > " +
                 at("twice.pid") +
                 " ) &\n"
                 "end script\n");
    ASSERT_TRUE(startTend());
    const ProcessResult started = ctl("start", "twice");
    ASSERT_EQ(started.exit_code, 0) << started.err;
    ASSERT_TRUE(waitFor([&] { return readPids(path("twice.pid")).size() == 1; }, 10s));
    const pid_t daemon = readPids(path("twice.pid"))[0];
    EXPECT_NE(pidIn(started.out), daemon);  // first, the child of the first fork
    ASSERT_TRUE(waitFor(
        [&] {
            return statusOf("twice") ==
                   "twice start/running, process " + std::to_string(daemon) + "\n";
        },
        10s))
        << statusOf("twice") << tendLog();
    EXPECT_THAT(tendLog(),
                HasSubstr("forked again; now tracking process " + std::to_string(daemon)));
    EXPECT_EQ(ctl("stop", "twice").exit_code, 0);
    EXPECT_FALSE(processAlive(daemon));
    EXPECT_TRUE(jobProcesses("twice").empty());
}

TEST_F(TendSupervisor, WrongExpectForkGivesUpWaitingAndTracksTheOriginalProcess) {
    writeJob("wrong", "expect fork\nstart timeout 1s\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    const auto begin = Clock::now();
    const ProcessResult started = ctl("start", "wrong");
    const auto took = msSince(begin);
    ASSERT_EQ(started.exit_code, 0) << started.err;
    EXPECT_THAT(started.out, MatchesRegex("wrong start/running, process [0-9]+\n"));
    EXPECT_GE(took, 900);
    EXPECT_LE(took, 3000);
    const pid_t pid = pidIn(started.out);
    EXPECT_EQ(commandLine(pid), "sleep 1000 ");
    EXPECT_EQ(parentOf(pid), tendPid()) << "the process tend spawned, not some other one";
    EXPECT_THAT(tendLog(), HasSubstr("wrong: 'expect fork' but the process forked 0 time(s) in "
                                     "1s; tracking process " +
                                     std::to_string(pid) + " as the main process"));

    const ProcessResult stopped = ctl("stop", "wrong");
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
    EXPECT_FALSE(processAlive(pid));
    EXPECT_TRUE(jobProcesses("wrong").empty());
}

TEST_F(TendSupervisor, ExpectStopRunsOnceTheProcessStopsItself) {
    writeJob("stopper",
             "expect stop\n"
             "start timeout 3s\n"
             "script\n"
             "  echo before\n"
             "  kill -STOP $$\n"
             "  echo after\n"
             "  exec sleep 1000\n"
             "end script\n");
    ASSERT_TRUE(startTend());
    const auto begin = Clock::now();
    const ProcessResult started = ctl("start", "stopper");
    EXPECT_LT(msSince(begin), 2000) << "it should not need the start timeout";
    ASSERT_EQ(started.exit_code, 0) << started.err;
    EXPECT_THAT(started.out, MatchesRegex("stopper start/running, process [0-9]+\n"));
    const pid_t pid = pidIn(started.out);
    EXPECT_TRUE(waitForFile(logPath("stopper"), "before\nafter\n")) << readLog("stopper");
    EXPECT_TRUE(waitFor([&] { return commandLine(pid) == "sleep 1000 "; })) << commandLine(pid);
    EXPECT_NE(processState(pid), 'T') << "tend continues the stopped process";
    EXPECT_EQ(statusOf("stopper"), started.out);
    EXPECT_EQ(ctl("stop", "stopper").exit_code, 0);
    EXPECT_FALSE(processAlive(pid));
}

// A stand-in for a service using sd_notify: waits, optionally says READY=1, then idles.
const char* const kNotifyScript =
    "import os, socket, sys, time\n"
    "time.sleep(float(sys.argv[1]))\n"
    "if sys.argv[2] == 'ready':\n"
    "    with open(sys.argv[3], 'w') as f:\n"
    "        f.write('sent')\n"
    "    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
    "    s.sendto(b'READY=1', os.environ['NOTIFY_SOCKET'])\n"
    "time.sleep(1000)\n";

TEST_F(TendSupervisor, ExpectNotifyRunsOnlyAfterReady) {
    writeFile("notify.py", kNotifyScript);
    writeJob("notifier", "expect notify\nstart timeout 5s\nexec /usr/bin/python3 " +
                             at("notify.py") + " 0.7 ready " + at("ready.sent") + "\n");
    ASSERT_TRUE(startTend());

    ProcessResult started;
    const auto begin = Clock::now();
    std::thread starter([&] { started = ctl("start", "notifier"); });
    const std::string waiting = waitForStatus("notifier", "start/spawned", 2s);
    const bool sent_while_waiting = fs::exists(path("ready.sent"));
    starter.join();
    const auto took = msSince(begin);

    EXPECT_THAT(waiting, MatchesRegex("notifier start/spawned, process [0-9]+\n"));
    EXPECT_FALSE(sent_while_waiting) << "status said spawned after READY=1 was sent";
    ASSERT_EQ(started.exit_code, 0) << started.err;
    EXPECT_THAT(started.out, MatchesRegex("notifier start/running, process [0-9]+\n"));
    EXPECT_TRUE(fs::exists(path("ready.sent"))) << "start returned before READY=1";
    EXPECT_GE(took, 600);
    EXPECT_EQ(pidIn(started.out), pidIn(waiting));
    EXPECT_EQ(ctl("stop", "notifier").exit_code, 0);
    EXPECT_TRUE(jobProcesses("notifier").empty());
}

TEST_F(TendSupervisor, ExpectNotifyWithoutReadyFailsAfterStartTimeout) {
    writeFile("notify.py", kNotifyScript);
    writeJob("silent", "expect notify\nstart timeout 1s\nexec /usr/bin/python3 " + at("notify.py") +
                           " 0 silent -\n");
    ASSERT_TRUE(startTend());
    const auto begin = Clock::now();
    const ProcessResult started = ctl("start", "silent");
    const auto took = msSince(begin);
    EXPECT_EQ(started.exit_code, 1);
    EXPECT_THAT(started.err, HasSubstr("tendctl: Job failed to start"));
    EXPECT_THAT(started.err, HasSubstr("READY=1"));
    EXPECT_GE(took, 900);
    EXPECT_LE(took, 3000);
    EXPECT_EQ(waitForStatus("silent", "stop/waiting", 3s), "silent stop/waiting\n");
    EXPECT_TRUE(waitFor([&] { return jobProcesses("silent").empty(); }, 3s));
}

// What a job may send on NOTIFY_SOCKET besides a plain READY=1: garbage, a datagram too long
// for tend's buffer, MAINPID= that is not a number or names a process outside the job, and
// READY=1 after the main process died (from a child, as tend ends it with SIGTERM).
const char* const kNotifyEdgeScript =
    "import os, socket, subprocess, sys, time\n"
    "mode, outsider, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3]\n"
    "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)\n"
    "address = os.environ['NOTIFY_SOCKET']\n"
    "if mode == 'garbage':\n"
    "    for message in [bytes(range(256)), b'X' * 65536, b'READY=0', b'READY=1x',\n"
    "                    b' READY=1', b'MAINPID=abc', b'MAINPID=-5', b'MAINPID=12x']:\n"
    "        s.sendto(message, address)\n"
    "    with open(marker, 'w') as f:\n"
    "        f.write('sent')\n"
    "    time.sleep(0.5)\n"
    "    child = subprocess.Popen(['sleep', '1000'])\n"
    "    s.sendto(b'MAINPID=%d' % child.pid, address)\n"
    "    s.sendto(b'MAINPID=%d\\nREADY=1' % outsider, address)\n"
    "    time.sleep(1000)\n"
    "else:\n"
    "    import signal\n"
    "    armed_read, armed_write = os.pipe()\n"
    "    if os.fork() == 0:\n"
    "        def ready_when_ended(number, frame):\n"
    "            s.sendto(b'READY=1', address)\n"
    "            with open(marker, 'w') as f:\n"
    "                f.write('sent')\n"
    "            os._exit(0)\n"
    "        signal.signal(signal.SIGTERM, ready_when_ended)\n"
    "        os.write(armed_write, b'x')\n"
    "        while True:\n"
    "            time.sleep(1)\n"
    "    os.read(armed_read, 1)\n"
    "    sys.exit(3)\n";

TEST_F(TendSupervisor, ExpectNotifyTakesNoGarbageAndNoMainPidOutsideTheJob) {
    const pid_t outsider = ::fork();
    ASSERT_GE(outsider, 0);
    if (outsider == 0) {
        ::setpgid(0, 0);  // were it taken for the job's, only its own group would be signalled
        ::execlp("sleep", "sleep", "1000", nullptr);
        ::_exit(127);
    }
    writeFile("notify.py", kNotifyEdgeScript);
    writeJob("notifier", "expect notify\nstart timeout 10s\nexec /usr/bin/python3 " +
                             at("notify.py") + " garbage " + std::to_string(outsider) + " " +
                             at("garbage.sent") + "\n");
    ASSERT_TRUE(startTend());
    ProcessResult started;
    std::thread starter([&] { started = ctl("start", "notifier"); });
    const bool garbage_sent = waitForFile(path("garbage.sent"), "sent", 10s);
    const std::string after_garbage = statusOf("notifier");
    starter.join();
    ASSERT_TRUE(garbage_sent);
    EXPECT_THAT(after_garbage, MatchesRegex("notifier start/spawned, process [0-9]+\n"));
    ASSERT_EQ(started.exit_code, 0) << started.err << tendLog();
    // The main process is the child the job named, not the outsider it named after it.
    const pid_t main = pidIn(started.out);
    EXPECT_NE(main, outsider);
    EXPECT_NE(main, pidIn(after_garbage));
    EXPECT_THAT(tendLog(), HasSubstr("notifier: refused MAINPID=" + std::to_string(outsider) +
                                     ": not a process of this job"));
    EXPECT_EQ(ctl("stop", "notifier").exit_code, 0);
    EXPECT_TRUE(waitFor([&] { return jobProcesses("notifier").empty(); }, 5s));
    EXPECT_EQ(::kill(outsider, 0), 0) << "stopping the job ended a process outside it";
    ::kill(outsider, SIGKILL);
    ::waitpid(outsider, nullptr, 0);
}

TEST_F(TendSupervisor, ExpectNotifyReadyAfterTheMainProcessDiedChangesNothing) {
    writeFile("notify.py", kNotifyEdgeScript);
    writeJob("late", "expect notify\nstart timeout 10s\nexec /usr/bin/python3 " + at("notify.py") +
                         " late 0 " + at("late.sent") + "\n");
    ASSERT_TRUE(startTend());
    const ProcessResult started = ctl("start", "late");
    EXPECT_EQ(started.exit_code, 1);
    EXPECT_THAT(started.err, HasSubstr("main process terminated with status 3"));
    ASSERT_TRUE(waitForFile(path("late.sent"), "sent", 10s));
    EXPECT_EQ(ctl("version").exit_code, 0);
    // The child wrote its marker just before it exited; tend reaps it on its own time.
    EXPECT_EQ(waitForStatus("late", "stop/waiting", 10s), "late stop/waiting\n");
}

// ---------------------------------------------------------------------------------------------
// Exec failures are start failures, and tend carries on.

class TendSpawnFailure : public TendSupervisor {
  protected:
    void expectStartFails(const std::string& job, const std::string& reason) {
        writeJob("bystander", "exec sleep 1000\n");
        ASSERT_TRUE(startTend());
        const ProcessResult started = ctl("start", job);
        EXPECT_EQ(started.exit_code, 1);
        EXPECT_EQ(started.out, "");
        EXPECT_THAT(started.err, HasSubstr("tendctl: Job failed to start (main process could "
                                           "not start: " +
                                           reason + ")\n"));
        EXPECT_EQ(waitForStatus(job, "stop/waiting", 3s), job + " stop/waiting\n");
        EXPECT_THAT(tendLog(), HasSubstr(job + " main process could not start: " + reason));
        const ProcessResult list = ctl("list");
        EXPECT_EQ(list.exit_code, 0) << list.err;
        EXPECT_THAT(list.out, HasSubstr(job + " stop/waiting\n"));
        EXPECT_THAT(list.out, HasSubstr("bystander stop/waiting\n"));
        const ProcessResult other = ctl("start", "bystander");
        EXPECT_EQ(other.exit_code, 0) << other.err;
        EXPECT_THAT(other.out, MatchesRegex("bystander start/running, process [0-9]+\n"));
    }
};

TEST_F(TendSpawnFailure, MissingBinary) {
    writeJob("ghost", "exec /nonexistent/imapfilter --daemon\n");
    expectStartFails("ghost", "exec /nonexistent/imapfilter: No such file or directory");
}

TEST_F(TendSpawnFailure, FileThatIsNotExecutable) {
    writeFile("bin/plain", "#!/bin/sh\necho hello\n", 0644);
    writeJob("plain", "exec " + at("bin/plain") + "\n");
    expectStartFails("plain", "exec " + at("bin/plain") + ": Permission denied");
}

TEST_F(TendSpawnFailure, DirectoryThatDoesNotExist) {
    writeJob("lost", "chdir /nonexistent\nexec sleep 1000\n");
    expectStartFails("lost", "chdir /nonexistent: No such file or directory");
}

// A script whose `#!` names an interpreter that is not there: execve says ENOENT, about the
// script, which exists; the reason names the script, as the shell would.
TEST_F(TendSpawnFailure, ScriptWhoseInterpreterIsMissing) {
    writeFile("bin/orphan", "#!/nonexistent/interpreter\necho hello\n", 0755);
    writeJob("orphan", "exec " + at("bin/orphan") + "\n");
    expectStartFails("orphan", "exec " + at("bin/orphan") + ": No such file or directory");
}

TEST_F(TendSpawnFailure, SetuidToAUserThatDoesNotExist) {
    writeJob("nobody-here", "setuid tend-test-no-such-user\nexec sleep 1000\n");
    expectStartFails("nobody-here", "setuid tend-test-no-such-user: no such user");
}

// ---------------------------------------------------------------------------------------------
// Events

TEST_F(TendSupervisor, StartOnAndOrParenthesesAndKeyGlob) {
    writeJob("combo",
             "start on (a or b) and c KEY=v*\n"
             "script\n"
             "  echo \"KEY=$KEY EVENTS=$UPSTART_EVENTS\"\n"
             "  exec sleep 1000\n"
             "end script\n");
    ASSERT_TRUE(startTend());

    EXPECT_EQ(ctl("emit", "a").exit_code, 0);
    EXPECT_EQ(statusOf("combo"), "combo stop/waiting\n");
    EXPECT_EQ(ctl("emit", "c", "KEY=x").exit_code, 0);
    EXPECT_EQ(statusOf("combo"), "combo stop/waiting\n");
    const ProcessResult emitted = ctl("emit", "c", "KEY=val");
    EXPECT_EQ(emitted.exit_code, 0) << emitted.err;
    const std::string status = statusOf("combo");
    EXPECT_THAT(status, MatchesRegex("combo start/running, process [0-9]+\n"));
    const pid_t pid = pidIn(status);
    EXPECT_TRUE(waitForFile(logPath("combo"), "KEY=val EVENTS=a c\n")) << readLog("combo");

    // The whole condition again while it runs: nothing happens to it.
    EXPECT_EQ(ctl("emit", "b").exit_code, 0);
    EXPECT_EQ(ctl("emit", "c", "KEY=vv").exit_code, 0);
    EXPECT_EQ(statusOf("combo"), status);
    EXPECT_TRUE(processAlive(pid));
    EXPECT_EQ(countOf(readLog("combo"), "KEY="), 1u) << readLog("combo");
}

TEST_F(TendSupervisor, SameEventTwiceQuicklyStartsOneInstance) {
    writeJob("ticker", "start on tick\nscript\n  echo started\n  exec sleep 1000\nend script\n");
    ASSERT_TRUE(startTend());
    ProcessResult first;
    ProcessResult second;
    std::thread a([&] { first = ctl("emit", "tick"); });
    std::thread b([&] { second = ctl("emit", "tick"); });
    a.join();
    b.join();
    EXPECT_EQ(first.exit_code, 0) << first.err;
    EXPECT_EQ(second.exit_code, 0) << second.err;
    const std::string status = waitForStatus("ticker", "start/running", 3s);
    EXPECT_THAT(status, MatchesRegex("ticker start/running, process [0-9]+\n"));
    EXPECT_TRUE(waitForFile(logPath("ticker"), "started\n"));
    EXPECT_EQ(ctl("emit", "tick").exit_code, 0);
    EXPECT_EQ(statusOf("ticker"), status);
    EXPECT_EQ(countOf(readLog("ticker"), "started"), 1u);
    EXPECT_EQ(jobProcesses("ticker").size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Instances

TEST_F(TendSupervisor, InstancesAreSeparateJobsWithTheirOwnLogs) {
    writeJob("inst",
             "instance $N\nscript\n  echo \"instance $N\"\n  exec sleep 1000\nend script\n");
    ASSERT_TRUE(startTend());
    const ProcessResult one = ctl("start", "inst", "N=1");
    ASSERT_EQ(one.exit_code, 0) << one.err;
    EXPECT_THAT(one.out, MatchesRegex("inst \\(1\\) start/running, process [0-9]+\n"));
    const ProcessResult two = ctl("start", "inst", "N=2");
    ASSERT_EQ(two.exit_code, 0) << two.err;
    EXPECT_THAT(two.out, MatchesRegex("inst \\(2\\) start/running, process [0-9]+\n"));
    EXPECT_NE(pidIn(one.out), pidIn(two.out));

    ProcessResult list = ctl("list");
    EXPECT_EQ(list.exit_code, 0);
    EXPECT_THAT(list.out, HasSubstr(one.out));
    EXPECT_THAT(list.out, HasSubstr(two.out));

    const ProcessResult again = ctl("start", "inst", "N=1");
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_EQ(again.err, "tendctl: Job is already running: inst\n");

    const ProcessResult stopped = ctl("stop", "inst", "N=1");
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
    EXPECT_EQ(stopped.out, "inst (1) stop/waiting\n");
    EXPECT_FALSE(processAlive(pidIn(one.out)));
    list = ctl("list");
    EXPECT_THAT(list.out, Not(HasSubstr("inst (1)")));
    EXPECT_THAT(list.out, HasSubstr(two.out));
    const ProcessResult unknown = ctl("stop", "inst", "N=1");
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_EQ(unknown.err, "tendctl: Unknown instance: inst (1)\n");

    EXPECT_TRUE(waitForFile(logPath("inst-2"), "instance 2\n")) << readLog("inst-2");
    EXPECT_EQ(readLog("inst-1"), "instance 1\n");
}

// ---------------------------------------------------------------------------------------------
// Hook processes

TEST_F(TendSupervisor, FailingPreStartFailsTheStart) {
    writeJob("pre", "pre-start exec false\nscript\n  touch " + at("main.ran") +
                        "\n  exec sleep 1000\nend script\n");
    writeStoppedWatcher("pre", "pre.mark");
    ASSERT_TRUE(startTend());
    const ProcessResult started = ctl("start", "pre");
    EXPECT_EQ(started.exit_code, 1);
    EXPECT_THAT(started.err, HasSubstr("tendctl: Job failed to start"));
    EXPECT_TRUE(waitForFile(path("pre.mark"),
                            "JOB=pre RESULT=failed PROCESS=pre-start EXIT_STATUS=1 EXIT_SIGNAL=\n"))
        << readFile(path("pre.mark"));
    EXPECT_EQ(statusOf("pre"), "pre stop/waiting\n");
    EXPECT_FALSE(fs::exists(path("main.ran")));
}

TEST_F(TendSupervisor, BareStopInPreStartCancelsTheStart) {
    writeJob("cancel", "pre-start script\n  echo pre-start > " + at("pre.ran") + "\n  " +
                           TENDCTL_BIN + " stop\nend script\nscript\n  touch " + at("main.ran") +
                           "\n  exec sleep 1000\nend script\n");
    ASSERT_TRUE(startTend());
    const ProcessResult started = ctl("start", "cancel");
    EXPECT_EQ(started.exit_code, 0) << started.err;
    EXPECT_EQ(started.out, "cancel stop/waiting\n");
    EXPECT_EQ(statusOf("cancel"), "cancel stop/waiting\n");
    EXPECT_TRUE(fs::exists(path("pre.ran")));
    EXPECT_FALSE(fs::exists(path("main.ran")));
    EXPECT_TRUE(jobProcesses("cancel").empty());
}

TEST_F(TendSupervisor, StatusShowsTheWaitingPostStartProcess) {
    writeJob("waiter", "post-start exec sleep 1\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    EXPECT_EQ(ctl("start", "-n", "waiter").exit_code, 0);
    const std::string during = waitForStatus("waiter", "start/post-start", 2s);
    EXPECT_THAT(during, MatchesRegex("waiter start/post-start, process [0-9]+\n"
                                     "\tpost-start process [0-9]+\n"));
    const pid_t main = pidIn(during);
    const auto tab = during.find("\tpost-start process ");
    ASSERT_NE(tab, std::string::npos) << during;
    const pid_t post = std::atoi(during.c_str() + tab + 20);
    // The process may still be in its exec, showing tend's command line for a moment.
    EXPECT_TRUE(waitFor([&] { return commandLine(post) == "sleep 1 "; }, 900ms))
        << commandLine(post);

    const std::string after = waitForStatus("waiter", "start/running", 3s);
    EXPECT_EQ(after, "waiter start/running, process " + std::to_string(main) + "\n");
    EXPECT_FALSE(processAlive(post));
}

TEST_F(TendSupervisor, StopWhileStartingCancelsAfterPreStart) {
    writeJob("slow", "pre-start exec sleep 1\nscript\n  touch " + at("main.ran") +
                         "\n  exec sleep 1000\nend script\n");
    ASSERT_TRUE(startTend());
    EXPECT_EQ(ctl("start", "-n", "slow").exit_code, 0);
    const std::string starting = waitForStatus("slow", "start/pre-start", 2s);
    EXPECT_THAT(starting, MatchesRegex("slow start/pre-start, process [0-9]+\n"));
    const pid_t pre = pidIn(starting);

    const ProcessResult stop = ctl("stop", "-n", "slow");
    EXPECT_EQ(stop.exit_code, 0) << stop.err;
    EXPECT_THAT(statusOf("slow"), HasSubstr("stop/"));
    EXPECT_EQ(waitForStatus("slow", "stop/waiting", 3s), "slow stop/waiting\n");
    EXPECT_FALSE(fs::exists(path("main.ran")));
    EXPECT_FALSE(processAlive(pre));
    EXPECT_TRUE(jobProcesses("slow").empty());
}

TEST_F(TendSupervisor, StartWhileStoppingEndsRunning) {
    writeJob("lazy", "post-stop exec sleep 1\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    const ProcessResult first = ctl("start", "lazy");
    ASSERT_EQ(first.exit_code, 0) << first.err;
    const pid_t old_main = pidIn(first.out);
    EXPECT_EQ(ctl("stop", "-n", "lazy").exit_code, 0);
    const std::string stopping = waitForStatus("lazy", "stop/post-stop", 2s);
    EXPECT_THAT(stopping, MatchesRegex("lazy stop/post-stop, process [0-9]+\n"));

    const ProcessResult again = ctl("start", "lazy");
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_THAT(again.out, MatchesRegex("lazy start/running, process [0-9]+\n"));
    const pid_t new_main = pidIn(again.out);
    EXPECT_NE(new_main, old_main);
    EXPECT_TRUE(processAlive(new_main));
    EXPECT_FALSE(processAlive(old_main));
    EXPECT_EQ(statusOf("lazy"), again.out);
}

// ---------------------------------------------------------------------------------------------
// Reaping

TEST_F(TendSupervisor, OrphansAreReapedAndLeaveNoZombies) {
    // Ten grandchildren orphaned at once, exiting together while the job runs.
    writeJob("spawner",
             "script\n"
             "  for i in 1 2 3 4 5 6 7 8 9 10; do\n"
             "    ( sh -c 'echo $$ >> " +
                 at("orphans") +
                 "; sleep 0.3' & )\n"
                 "  done\n"
                 "  exec sleep 1000\n"
                 "end script\n");
    // A job that exits and leaves behind a child that hides from tend (its own session, no
    // UPSTART_JOB), which exits later on its own: an unknown pid for tend to reap. Only where
    // jobs have no cgroups can it hide: there the job's stop would end it.
    ::setenv("TEND_CGROUPS", "off", 1);
    writeJob("leaver", "script\n  setsid env -u UPSTART_JOB sh -c 'echo $$ > " + at("leaver.pid") +
                           "; sleep 0.5' &\n  while [ ! -s " + at("leaver.pid") +
                           " ]; do sleep 0.01; done\n  exit 0\nend script\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "spawner").exit_code, 0);
    ASSERT_EQ(ctl("start", "leaver").exit_code, 0);

    std::vector<pid_t> orphans;
    ASSERT_TRUE(waitFor([&] { return (orphans = readPids(path("orphans"))).size() == 10; }));
    std::vector<pid_t> leaver;
    ASSERT_TRUE(waitFor([&] { return (leaver = readPids(path("leaver.pid"))).size() == 1; }));
    EXPECT_EQ(waitForStatus("leaver", "stop/waiting", 2s), "leaver stop/waiting\n");
    EXPECT_TRUE(processAlive(leaver[0])) << "the hidden child outlives its job";
    orphans.push_back(leaver[0]);

    // Reaped means gone from /proc altogether, not a zombie.
    const bool reaped = waitFor(
        [&] {
            return std::none_of(orphans.begin(), orphans.end(), [](pid_t pid) {
                return fs::exists("/proc/" + std::to_string(pid));
            });
        },
        4s);
    std::string left;
    for (pid_t pid : orphans) {
        if (fs::exists("/proc/" + std::to_string(pid))) {
            left += " " + std::to_string(pid) + "(" +
                    std::string(1, processState(pid).value_or('?')) + ", parent " +
                    std::to_string(parentOf(pid)) + ")";
        }
    }
    EXPECT_TRUE(reaped) << "still in /proc:" << left;
    EXPECT_TRUE(zombieChildrenOf(tendPid()).empty());
    const std::string log = tendLog();
    for (pid_t pid : orphans) {
        EXPECT_THAT(log, HasSubstr("reaped process " + std::to_string(pid) + " "));
    }
    EXPECT_THAT(statusOf("spawner"), MatchesRegex("spawner start/running, process [0-9]+\n"));
    ::unsetenv("TEND_CGROUPS");
}

// ---------------------------------------------------------------------------------------------
// Session end

// `session linger`: the one job that outlives the session. It is not stopped, its output goes
// on reaching its log after tend is gone, and the next tend of the session leaves it be.
TEST_F(TendSupervisor, ASessionLingerJobOutlivesTheSessionAndTheNextTendLeavesItBe) {
    writeJob("download",
             "session linger\nscript\n  i=0\n  while :; do\n"
             "    echo \"chunk $i\"; i=$((i+1)); sleep 0.1\n  done\nend script\n");
    writeJob("plain", "exec sleep 1000\n");
    ASSERT_TRUE(startTendForeground());
    const pid_t lingering = pidIn(ctl("start", "download").out);
    const pid_t plain = pidIn(ctl("start", "plain").out);
    ASSERT_GT(lingering, 0);
    ASSERT_GT(plain, 0);
    ASSERT_TRUE(waitForFile(logPath("download"), "chunk 2\n"));
    const auto status = stopTend();
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(*status, 0);
    EXPECT_FALSE(processAlive(plain));
    EXPECT_TRUE(processAlive(lingering));
    // It goes on writing into its log with tend gone.
    const std::size_t written = lines(readLog("download")).size();
    EXPECT_TRUE(waitFor([&] { return lines(readLog("download")).size() >= written + 3; }));
    // The next tend on the same socket does not take it for a crashed tend's leftover.
    ASSERT_TRUE(startTendForeground());
    EXPECT_THAT(tendLog(), Not(HasSubstr("still running without a tend")));
    EXPECT_TRUE(processAlive(lingering));
    EXPECT_EQ(stopTend(), 0);
    EXPECT_TRUE(processAlive(lingering));
    ::kill(-lingering, SIGKILL);  // its process group: the loop and its sleep
    EXPECT_TRUE(
        waitFor([&] { return processesWithEnv({"TEND_SESSION=" + socketPath()}).empty(); }));
}

// At the session's end a job stops before what it started on: the notifier, then the mail
// filter that started on the bus, then the bus. Each writes its name as it gets SIGTERM.
TEST_F(TendSupervisor, SessionEndStopsJobsBeforeTheJobsTheyStartedOn) {
    const auto job = [&](const std::string& name, const std::string& start_on) {
        writeJob(name, (start_on.empty() ? "" : "start on " + start_on + "\n") +
                           "script\n"
                           "  trap 'echo " +
                           name + " >> " + at("order") +
                           "; sleep 0.2; exit 0' TERM\n"
                           "  echo up\n"
                           "  while true; do sleep 0.05; done\n"
                           "end script\n");
    };
    job("bus", "");
    job("mail", "started bus");
    job("notifier", "started mail");
    ASSERT_TRUE(startTendForeground());
    ASSERT_EQ(ctl("start", "bus").exit_code, 0);
    for (const char* name : {"bus", "mail", "notifier"}) {
        ASSERT_TRUE(waitForFile(logPath(name), "up\n")) << name << "\n" << tendLog();
    }
    const auto status = stopTend(30s);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(*status, 0);
    EXPECT_EQ(readFile(path("order")), "notifier\nmail\nbus\n") << tendLog();
}

TEST_F(TendSupervisor, SigtermEndsTheSessionStopsEveryJobAndExitsZero) {
    writeJob("plain", "exec sleep 1000\n");
    writeJob("bound",
             "stop on session-end\n"
             "exec sleep 1000\n"
             "post-stop script\n"
             "  echo \"stopped by '$UPSTART_STOP_EVENTS' TYPE=$TYPE\" > " +
                 at("bound.mark") +
                 "\n"
                 "end script\n");
    writeJob("stubborn",
             "kill timeout 1\n"
             "script\n"
             "  trap '' TERM\n"
             "  echo ready\n"
             "  while true; do sleep 0.1; done\n"
             "end script\n");
    ASSERT_TRUE(startTendForeground());
    std::vector<pid_t> pids;
    for (const char* job : {"plain", "bound", "stubborn"}) {
        const ProcessResult started = ctl("start", job);
        ASSERT_EQ(started.exit_code, 0) << job << ": " << started.err;
        pids.push_back(pidIn(started.out));
    }
    ASSERT_TRUE(waitForFile(logPath("stubborn"), "ready\n"));
    const auto session = processesWithEnv({"TEND_SESSION=" + socketPath()});
    EXPECT_GE(session.size(), 3u);

    const auto begin = Clock::now();
    const auto status = stopTend(6s);
    EXPECT_LE(msSince(begin), 4000);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(*status, 0);
    for (pid_t pid : session) {
        EXPECT_FALSE(processAlive(pid)) << pid << " " << commandLine(pid);
    }
    EXPECT_EQ(readFile(path("bound.mark")), "stopped by 'session-end' TYPE=shutdown\n");
    const std::string log = tendLog();
    EXPECT_THAT(log, HasSubstr("SIGTERM: ending the session"));
    EXPECT_THAT(log, HasSubstr("stubborn did not stop within 1s of TERM; sending KILL"));
    EXPECT_THAT(log, HasSubstr("session ended"));
}

// ---------------------------------------------------------------------------------------------
// Job logs

TEST_F(TendSupervisor, FastWriterLosesNoLines) {
    writeJob("counter", "task\nexec seq 1 100000\n");
    ASSERT_TRUE(startTend());
    const ProcessResult started = ctl("start", "counter");
    EXPECT_EQ(started.exit_code, 0) << started.err;
    EXPECT_EQ(started.out, "counter stop/waiting\n");

    std::string expected;
    for (int i = 1; i <= 100000; ++i) {
        expected += std::to_string(i) + "\n";
    }
    std::string log;
    waitFor([&] { return (log = readLog("counter")).size() >= expected.size(); }, 4s);
    EXPECT_EQ(countOf(log, "\n"), 100000u);
    if (log != expected) {
        const auto diff = std::mismatch(log.begin(), log.end(), expected.begin(), expected.end());
        const auto at_byte = static_cast<std::size_t>(diff.first - log.begin());
        ADD_FAILURE() << "the log differs from seq 1 100000 at byte " << at_byte << " of "
                      << log.size() << ": '" << log.substr(at_byte >= 20 ? at_byte - 20 : 0, 60)
                      << "'";
    }
    struct stat st {};
    ASSERT_EQ(::stat(logPath("counter").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// tend started with its standard descriptors closed (as a careless session script may) still
// gives a `console none` job a writable /dev/null: the descriptors it hands jobs their streams
// in are above tend's own 0 to 2, which it later fills for itself.
TEST_F(TendSupervisor, AJobsStreamsAreRightWhenTendStartedWithItsStandardDescriptorsClosed) {
    const std::string result = path("result").string();
    writeJob("quiet", "console none\nscript\n  echo written; echo $? > " + result +
                          "\n  ls -l /proc/self/fd/0 >> " + result + "\nend script\n");
    ASSERT_TRUE(startTend({"/bin/sh", "-c", "exec \"$@\" 0<&- 1>&- 2>&-", "sh"}));
    ASSERT_EQ(ctl("start", "quiet").exit_code, 0);
    ASSERT_TRUE(waitForFile(path("result"), "/dev/null", 10s)) << readFile(path("result"));
    const std::string text = readFile(path("result"));
    EXPECT_TRUE(text.starts_with("0\n")) << "echo to stdout failed: " << text;
}

// A job starts with stdin, stdout and stderr only: neither tend's own descriptors (its log, the
// control socket) nor one the session's startup script left open reach it, in exec jobs and in
// script jobs alike.
TEST_F(TendSupervisor, JobsInheritOnlyTheirStandardDescriptors) {
    writeJob("plain", "exec sleep 1000\n");
    writeJob("scripted", "script\n  sleep 1000\nend script\n");
    const int stray = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC: tend inherits it
    ASSERT_GE(stray, 3);
    const bool started = startTend();
    ::close(stray);
    ASSERT_TRUE(started);
    const auto descriptorsOf = [](pid_t pid) {
        std::vector<std::string> fds;
        for (const auto& entry :
             std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
            fds.push_back(entry.path().filename().string());
        }
        std::sort(fds.begin(), fds.end());
        return fds;
    };
    ASSERT_EQ(ctl("start", "plain").exit_code, 0);
    ASSERT_EQ(ctl("start", "scripted").exit_code, 0);
    const std::vector<std::string> standard{"0", "1", "2"};
    EXPECT_EQ(descriptorsOf(mainPidOf("plain")), standard);
    // The shell reads its script from a descriptor of its own; sleep, its child, has only
    // the standard three.
    // The shell may still be starting its child when `start` returns.
    waitFor([&] {
        for (pid_t pid : jobProcesses("scripted")) {
            if (commandLine(pid).starts_with("sleep")) {
                return true;
            }
        }
        return false;
    });
    std::size_t sleeps = 0;
    for (pid_t pid : jobProcesses("scripted")) {
        if (commandLine(pid).starts_with("sleep")) {
            ++sleeps;
            // The kernel switches a process's command line before it closes the close-on-exec
            // descriptors of an exec: a moment after, a leaked one is still there.
            waitFor([&] { return descriptorsOf(pid) == standard; }, 2s);
            EXPECT_EQ(descriptorsOf(pid), standard) << commandLine(pid);
        }
    }
    EXPECT_EQ(sleeps, 1u);
}

// As root, setuid/setgid switch the job's user; as anyone else, naming another user is a start
// failure that says why.
TEST_F(TendSupervisor, SetuidSwitchesUserAsRootAndIsRefusedOtherwise) {
    writeJob("who", "task\nsetuid nobody\nconsole log\nexec id -u\n");
    ASSERT_TRUE(startTend());
    const ProcessResult started = ctl("start", "who");
    if (::geteuid() == 0) {
        ASSERT_EQ(started.exit_code, 0) << started.err;
        const passwd* nobody = ::getpwnam("nobody");
        ASSERT_NE(nobody, nullptr);
        ASSERT_TRUE(waitFor([&] { return !readLog("who").empty(); }, 2s));
        EXPECT_EQ(readLog("who"), std::to_string(nobody->pw_uid) + "\n");
    } else {
        EXPECT_EQ(started.exit_code, 1);
        EXPECT_THAT(started.err,
                    HasSubstr("setuid nobody: tend runs as uid " + std::to_string(::geteuid()) +
                              " and only root can run a job as another user"));
    }
}

// Out of file descriptors (a hard limit of 64 for 40 logged jobs): the jobs that cannot get a
// pipe fail to start with the reason rather than run with every line they write lost, the rest
// run, tend keeps answering, and a refused job starts, logged, once others have given theirs back.
TEST_F(TendSupervisor, RunningOutOfDescriptorsFailsStartsClearlyAndTendCarriesOn) {
    for (int i = 0; i < 40; ++i) {
        writeJob("j" + std::to_string(i),
                 "start on startup\nscript\n  echo up\n  exec sleep 1000\nend script\n");
    }
    ASSERT_TRUE(startTend({"/usr/bin/prlimit", "--nofile=64:64", "--"}));
    std::string list;
    ASSERT_TRUE(waitFor(
        [&] {
            list = ctl("list").out;
            return countOf(list, "start/running") + countOf(list, "stop/waiting") == 40 &&
                   countOf(tendLog(), "Too many open files") > 0;
        },
        5s))
        << list << tendLog();
    EXPECT_GT(countOf(list, "start/running"), 5u) << list;
    EXPECT_GT(countOf(list, "stop/waiting"), 0u) << list;
    EXPECT_THAT(tendLog(), HasSubstr("cannot capture its output: pipe: Too many open files"));
    // No job is started with its output thrown away. (A job whose pipe tend made but whose log
    // file it then cannot open loses its output until the file opens, as on a full disk.)
    EXPECT_THAT(tendLog(), Not(HasSubstr("cannot capture output:")));
    EXPECT_EQ(ctl("version").exit_code, 0);

    std::vector<std::string> running;
    std::string refused;
    for (int i = 0; i < 40; ++i) {
        const std::string job = "j" + std::to_string(i);
        const std::string status = statusOf(job);
        if (status.find("start/running") != std::string::npos) {
            running.push_back(job);
        } else if (refused.empty()) {
            refused = job;
        }
    }
    ASSERT_FALSE(refused.empty());
    ASSERT_GE(running.size(), 4u);
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(ctl("stop", running[i]).exit_code, 0);
    }
    // Their pipes close as tend's log thread reads the end of them.
    EXPECT_TRUE(waitFor(
        [&] {
            ctl("start", refused);
            return statusOf(refused).find("start/running") != std::string::npos;
        },
        10s))
        << statusOf(refused) << tendLog();
    EXPECT_TRUE(waitForFile(logPath(refused), "up\n", 10s)) << readLog(refused);
}

// The same shortage for services (`respawn`): one refused is not left stopped for good but
// tried again, and comes up by itself once descriptors are free.
TEST_F(TendSupervisor, ServicesRefusedForWantOfDescriptorsComeUpByThemselvesOnceThereAreSome) {
    for (int i = 0; i < 40; ++i) {
        writeJob("s" + std::to_string(i),
                 "start on startup\nrespawn\nscript\n  echo up\n  exec sleep 1000\nend script\n");
    }
    ASSERT_TRUE(startTend({"/usr/bin/prlimit", "--nofile=64:64", "--"}));
    std::string list;
    ASSERT_TRUE(waitFor(
        [&] {
            list = ctl("list").out;
            return countOf(list, "start/running") > 5 &&
                   countOf(tendLog(), "Too many open files; trying again in 1s") > 0;
        },
        10s))
        << list << tendLog();
    EXPECT_EQ(ctl("version").exit_code, 0);

    std::vector<std::string> running;
    std::vector<std::string> waiting;
    for (int i = 0; i < 40; ++i) {
        const std::string job = "s" + std::to_string(i);
        const std::string status = statusOf(job);
        // Running, or waiting to try again: `respawn/post-stop, respawn delay 1s`.
        EXPECT_THAT(status, Not(StartsWith(job + " stop/"))) << "a service given up";
        (status.find("start/running") != std::string::npos ? running : waiting).push_back(job);
    }
    ASSERT_GE(running.size(), 4u);
    ASSERT_FALSE(waiting.empty());
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(ctl("stop", running[i]).exit_code, 0);
    }
    // No start is asked for: a waiting service's next try finds the descriptors the stopped
    // ones gave back.
    std::string came_up;
    EXPECT_TRUE(waitFor(
        [&] {
            for (const auto& job : waiting) {
                if (statusOf(job).find("start/running") != std::string::npos) {
                    came_up = job;
                    return true;
                }
            }
            return false;
        },
        20s))
        << ctl("list").out << tendLog();
    // It ran its script through to its service. (Its `echo up` may be lost: with descriptors
    // this short, the log router can fail to open the job's log, and says so in tend's log.)
    if (!came_up.empty()) {
        EXPECT_TRUE(waitFor(
            [&] {
                for (pid_t pid : jobProcesses(came_up)) {
                    if (commandLine(pid).starts_with("sleep 1000")) {
                        return true;
                    }
                }
                return false;
            },
            10s))
            << statusOf(came_up);
    }
}

// Scenario 3 against the real tend: a service crash-loops (the interval doubles), then stays
// up past the reset (10 s) and is killed: it comes back at once, with no respawn delay.
TEST_F(TendSupervisor, AServiceThatRanStablyAfterACrashLoopComesBackWithoutDelay) {
    const std::string counter = path("runs").string();
    writeJob("settles",
             "respawn\nrespawn limit unlimited\nrespawn delay 200ms 4s\n"
             "script\n"
             "  n=$(cat " +
                 counter + " 2>/dev/null || echo 0); n=$((n + 1)); echo $n > " + counter +
                 "\n"
                 "  [ $n -ge 4 ] && exec sleep 1000\n"
                 "  exit 1\n"
                 "end script\n");
    ASSERT_TRUE(startTend());
    ctl("start", "--no-wait", "settles");
    ASSERT_TRUE(waitFor([&] { return std::atoi(readFile(counter).c_str()) == 4; }, 60s))
        << tendLog();
    ASSERT_TRUE(waitFor([&] { return commandLine(mainPidOf("settles")) == "sleep 1000 "; }, 20s));
    const pid_t stable = mainPidOf("settles");
    EXPECT_THAT(tendLog(), HasSubstr("(starts kept 800ms apart)"));  // the loop was paced
    std::this_thread::sleep_for(11s);  // past the 10 s after which the interval starts over
    const std::size_t delays_before = countOf(tendLog(), "settles respawning in");
    ASSERT_EQ(::kill(stable, SIGKILL), 0);
    ASSERT_TRUE(waitFor(
        [&] {
            const pid_t now = mainPidOf("settles");
            return now > 0 && now != stable && commandLine(now) == "sleep 1000 ";
        },
        20s))
        << statusOf("settles") << tendLog();
    EXPECT_EQ(countOf(tendLog(), "settles respawning in"), delays_before) << tendLog();
}

// A storm of 50 crash-looping services under tend's default pacing (`respawn limit unlimited`,
// no `respawn delay`): 100 ms doubling to 30 s, so each runs a handful of times, not hundreds,
// and tend answers throughout.
TEST_F(TendSupervisor, FiftyCrashLoopingServicesUnderDefaultPacingRunAHandfulOfTimesEach) {
    const std::string runs = path("runs").string();
    for (int i = 0; i < 50; ++i) {
        writeJob("storm" + std::to_string(i),
                 "start on startup\nrespawn\nrespawn limit unlimited\n"
                 "console none\nscript\n  echo x >> " +
                     runs + "\n  exit 1\nend script\n");
    }
    const auto begin = Clock::now();
    ASSERT_TRUE(startTend());
    for (int i = 0; i < 30; ++i) {
        EXPECT_EQ(ctl("version").exit_code, 0);
        std::this_thread::sleep_for(100ms);
    }
    // Paced, not stopped: every job runs again and again.
    ASSERT_TRUE(waitFor([&] { return countOf(readFile(runs), "x") >= 150; }, 60s)) << tendLog();
    const std::size_t total = countOf(readFile(runs), "x");
    const auto elapsed = msSince(begin);  // taken after the count: the bound only loosens
    // Starts kept 100, 200, 400 ms ... apart: by t ms a job has run at most 1 + k times, k the
    // most intervals whose sum 100 * (2^k - 1) fits in t. A slower machine runs fewer.
    std::size_t most = 1;
    for (long long sum = 100, interval = 100; sum <= elapsed; interval *= 2, sum += interval) {
        ++most;
    }
    EXPECT_LE(total, 50 * most) << "in " << elapsed << " ms";
    EXPECT_EQ(ctl("version").exit_code, 0);
}

// A restart storm: 30 jobs crash-looping at once with a short back-off. tend keeps answering
// promptly and its CPU use stays bounded.
TEST_F(TendSupervisor, RestartStormLeavesTendResponsive) {
    for (int i = 0; i < 30; ++i) {
        writeJob("crash" + std::to_string(i),
                 "start on startup\nrespawn\nrespawn limit unlimited\nrespawn delay 20ms 200ms\n"
                 "console none\nexec false\n");
    }
    writeJob("steady", "exec sleep 1000\n");
    ASSERT_TRUE(startTend());
    const long long before = tendCpuTicks();
    const auto storm_start = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) {
        const auto start = std::chrono::steady_clock::now();
        const ProcessResult status = ctl("status", "steady");
        EXPECT_EQ(status.out, "steady stop/waiting\n");
        // Typically tens of milliseconds; a supervisor swamped by the storm would take longer
        // than this generous bound, which leaves room for a loaded machine.
        EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(ctl("start", "steady").exit_code, 0);
    const long long used = tendCpuTicks() - before;
    const double elapsed_ticks =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - storm_start).count() *
        static_cast<double>(::sysconf(_SC_CLK_TCK));
    // A spinning supervisor would use all of the time that passed (about 1.2 s). Respawning 30
    // jobs costs some of it, more under the sanitizers, whose every spawn and exit is heavier.
    const double bound = test::kSanitizerSlowdown > 1 ? 0.8 : 0.5;
    EXPECT_LT(static_cast<double>(used), bound * elapsed_ticks)
        << "tend used " << used << " ticks of the " << elapsed_ticks << " the storm took";
    EXPECT_THAT(tendLog(), HasSubstr("respawning in"));
}

// SIGINT ends the session like SIGTERM; SIGHUP does not end it.
TEST_F(TendSupervisor, SigintEndsTheSessionAndSighupDoesNot) {
    writeJob("svc", "start on startup\nexec sleep 1000\n");
    ASSERT_TRUE(startTendForeground());
    ASSERT_TRUE(waitFor([&] { return mainPidOf("svc") > 0; }));
    const pid_t pid = mainPidOf("svc");
    ::kill(tendPid(), SIGHUP);
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(mainPidOf("svc"), pid);
    EXPECT_THAT(tendLog(), HasSubstr("SIGHUP"));
    ::kill(tendPid(), SIGINT);
    ASSERT_TRUE(waitFor([&] { return !processAlive(tendPid()); }, 10s));
    EXPECT_FALSE(processAlive(pid));
    EXPECT_THAT(tendLog(), HasSubstr("SIGINT: ending the session"));
}

// The log sits on a full disk (/dev/full answers every write with ENOSPC): tend says so once,
// the job keeps running, and once the log can be written again the output flows again.
TEST_F(TendSupervisor, FullDiskIsReportedOnceAndTheJobKeepsRunning) {
    writeJob("chatty",
             "script\n"
             "  i=0\n"
             "  while true; do i=$((i+1)); echo \"line $i\"; sleep 0.01; done\n"
             "end script\n");
    std::filesystem::create_directories(logPath("chatty").parent_path());
    std::filesystem::create_symlink("/dev/full", logPath("chatty"));
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "chatty").exit_code, 0);
    const pid_t pid = mainPidOf("chatty");
    ASSERT_TRUE(waitFor([&] { return countOf(tendLog(), "No space left on device") > 0; }, 3s))
        << tendLog();
    std::this_thread::sleep_for(300ms);  // thirty more lines hit the full disk
    EXPECT_EQ(countOf(tendLog(), "cannot write job log"), 1u) << tendLog();
    EXPECT_THAT(tendLog(), HasSubstr("the job keeps running and its output is discarded"));
    EXPECT_EQ(statusOf("chatty"), "chatty start/running, process " + std::to_string(pid) + "\n");

    std::filesystem::remove(logPath("chatty"));  // space again: a real file at the path
    ASSERT_TRUE(waitFor([&] { return countOf(readLog("chatty"), "line ") >= 3; }, 3s));
    EXPECT_THAT(tendLog(), HasSubstr("is writable again"));
    EXPECT_EQ(mainPidOf("chatty"), pid);
}

// A log path that cannot be opened at all (here a directory stands in its place; as a normal
// user a read-only log directory does the same): one clear line, and the job runs on.
TEST_F(TendSupervisor, UnopenableLogIsReportedOnceAndTheJobKeepsRunning) {
    writeJob("chatty",
             "script\n"
             "  while true; do echo tick; sleep 0.01; done\n"
             "end script\n");
    std::filesystem::create_directories(logPath("chatty"));
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "chatty").exit_code, 0);
    ASSERT_TRUE(waitFor([&] { return countOf(tendLog(), "cannot open job log") > 0; }, 3s))
        << tendLog();
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(countOf(tendLog(), "cannot open job log"), 1u) << tendLog();
    EXPECT_THAT(tendLog(), HasSubstr("Is a directory"));
    EXPECT_THAT(statusOf("chatty"), HasSubstr("chatty start/running, process "));
}

TEST_F(TendSupervisor, DeletedLogIsCreatedAgainWithLaterLines) {
    writeJob("chatty",
             "script\n"
             "  i=0\n"
             "  while true; do i=$((i+1)); echo \"line $i\"; sleep 0.02; done\n"
             "end script\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "chatty").exit_code, 0);
    ASSERT_TRUE(waitForFile(logPath("chatty"), "line 5\n"));
    const auto before = lines(readLog("chatty"));
    ASSERT_FALSE(before.empty());
    const int last_before = std::atoi(before.back().c_str() + 5);
    ASSERT_TRUE(fs::remove(logPath("chatty")));

    std::vector<std::string> after;
    EXPECT_TRUE(waitFor([&] { return (after = lines(readLog("chatty"))).size() >= 5; }, 3s));
    ASSERT_FALSE(after.empty());
    int previous = 0;
    for (const auto& line : after) {
        ASSERT_THAT(line, MatchesRegex("line [0-9]+")) << "a torn line";
        const int n = std::atoi(line.c_str() + 5);
        EXPECT_GT(n, last_before);
        if (previous) {
            EXPECT_EQ(n, previous + 1) << "lines missing or out of order";
        }
        previous = n;
    }
    struct stat st {};
    ASSERT_EQ(::stat(logPath("chatty").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(TendSupervisor, LogTimestampPrefixesEveryLine) {
    writeJob("stamped",
             "log timestamp\nscript\n  echo hello\n  echo world\n  exec sleep 1000\nend script\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "stamped").exit_code, 0);
    ASSERT_TRUE(waitForFile(logPath("stamped"), "world\n"));
    const auto got = lines(readLog("stamped"));
    ASSERT_EQ(got.size(), 2u) << readLog("stamped");
    const char* stamp = "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} ";
    EXPECT_THAT(got[0], MatchesRegex(std::string(stamp) + "hello"));
    EXPECT_THAT(got[1], MatchesRegex(std::string(stamp) + "world"));
}

// ---------------------------------------------------------------------------------------------
// Configuration

TEST_F(TendSupervisor, BadJobFileDoesNotTakeTheGoodOnesDown) {
    writeJob("good-one", "exec sleep 1000\n");
    writeJob("broken", "exec sleep 1000\nfrobnicate now\n");
    writeJob("good-two", "exec sleep 1000\n");
    ASSERT_TRUE(startTend());

    const ProcessResult list = ctl("list");
    EXPECT_EQ(list.exit_code, 0) << list.err;
    EXPECT_THAT(list.out, HasSubstr("good-one stop/waiting\n"));
    EXPECT_THAT(list.out, HasSubstr("good-two stop/waiting\n"));
    EXPECT_THAT(list.out, Not(HasSubstr("broken")));

    const ProcessResult started = ctl("start", "good-two");
    EXPECT_EQ(started.exit_code, 0) << started.err;
    EXPECT_THAT(started.out, MatchesRegex("good-two start/running, process [0-9]+\n"));
    const ProcessResult broken = ctl("start", "broken");
    EXPECT_EQ(broken.exit_code, 1);
    EXPECT_EQ(broken.err, "tendctl: Unknown job: broken\n");
    const std::string log = tendLog();
    EXPECT_THAT(log, HasSubstr("broken.conf:2:1"));
    EXPECT_THAT(log, HasSubstr("frobnicate"));
}

}  // namespace
}  // namespace tend
