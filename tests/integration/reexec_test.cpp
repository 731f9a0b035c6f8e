// SPDX-License-Identifier: MIT
// `tendctl reexec` against the real tend: it replaces itself with its binary and the jobs run
// on, with their pids, counters and logs; a binary that cannot run is refused; one that cannot
// read the state leaves a fresh tend that adopts the jobs (docs/reliability.md, scenario 31).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "support/daemon_fixture.hpp"

namespace tend {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

class Reexec : public test::TendDaemonTest {
  protected:
    // `tendctl list` as job (and instance) -> status line.
    std::map<std::string, std::string> listed() {
        std::map<std::string, std::string> out;
        std::istringstream lines(ctl("list").out);
        std::string line;
        while (std::getline(lines, line)) {
            out[line.substr(0, line.find(' '))] += line + "\n";
        }
        return out;
    }

    // How many lines of `file` are exactly `text`.
    static int countLines(const fs::path& file, const std::string& text) {
        std::istringstream lines(readFile(file));
        std::string line;
        int count = 0;
        while (std::getline(lines, line)) {
            count += line == text ? 1 : 0;
        }
        return count;
    }

    // A writer's log: "line 1" .. "line N" then "last N", each once and in order. Returns N, or
    // -1 (with a failure) when a line is lost, doubled or torn.
    int checkWriterLog(const fs::path& file) {
        std::istringstream lines(readFile(file));
        std::string line;
        int expected = 1;
        while (std::getline(lines, line)) {
            if (line.rfind("last ", 0) == 0) {
                EXPECT_EQ(line, "last " + std::to_string(expected - 1));
                return expected - 1;
            }
            if (line != "line " + std::to_string(expected)) {
                ADD_FAILURE() << "line " << expected << " of the writer's log is '" << line << "'";
                return -1;
            }
            ++expected;
        }
        ADD_FAILURE() << "the writer's log has no last line";
        return -1;
    }

    void writeWriter(const std::string& name, const fs::path& stop_file) {
        writeJob(name,
                 "start on startup\nscript\n"
                 "  i=0\n"
                 "  while [ ! -e " +
                     stop_file.string() +
                     " ]; do i=$((i+1)); echo \"line $i\"; sleep 0.002; done\n"
                     "  echo \"last $i\"\n"
                     "  exec sleep 1000\n"
                     "end script\n");
    }
};

TEST_F(Reexec, AHundredJobsKeepTheirProcessesAndAWritersEveryLineArrivesOnce) {
    for (int i = 0; i < 100; ++i) {
        writeJob("svc" + std::to_string(i), "start on startup\nexec sleep 1000\n");
    }
    writeJob("inst", "instance $N\nexec sleep 1000\n");
    const fs::path stop_file = path("stop-writing");
    writeWriter("writer", stop_file);
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "inst", "N=a").exit_code, 0);
    ASSERT_EQ(ctl("start", "inst", "N=b").exit_code, 0);
    ASSERT_TRUE(waitFor(
        [&] {
            const auto jobs = listed();
            for (int i = 0; i < 100; ++i) {
                const auto it = jobs.find("svc" + std::to_string(i));
                if (it == jobs.end() || it->second.find("start/running") == std::string::npos) {
                    return false;
                }
            }
            return true;
        },
        60s))
        << ctl("list").out;
    ASSERT_TRUE(waitForFile(logPath("writer"), "line 20\n", 20s));
    const auto before = listed();
    const pid_t tend_before = tendPid();

    for (int round = 0; round < 3; ++round) {
        const auto reexec = ctl("reexec");
        ASSERT_EQ(reexec.exit_code, 0) << reexec.out << reexec.err << tendLog();
        // 100 services, the writer and two instances of inst.
        EXPECT_EQ(reexec.out, "tend re-executed; 103 job instance(s) carried over\n");
    }

    // The same process, and every job with the process it had.
    EXPECT_EQ(std::atoi(readFile(path("run/tend.pid")).c_str()), tend_before);
    EXPECT_EQ(listed(), before);
    EXPECT_THAT(statusOf("inst", "N=b"), HasSubstr("inst (b) start/running, process "));
    // Output written throughout reached the log once, in order, and goes on arriving.
    const std::size_t size_after = fs::file_size(logPath("writer"));
    ASSERT_TRUE(waitFor([&] { return fs::file_size(logPath("writer")) > size_after; }, 20s));
    writeFile("stop-writing", "");
    ASSERT_TRUE(waitForFile(logPath("writer"), "last ", 20s));
    EXPECT_GT(checkWriterLog(logPath("writer")), 20);
    // And the jobs answer to the new tend: a stop ends the process.
    const pid_t svc = mainPidOf("svc7");
    ASSERT_EQ(ctl("stop", "svc7").exit_code, 0);
    EXPECT_TRUE(waitFor([&] { return !processAlive(svc); }, 20s));
    EXPECT_THAT(tendLog(), Not(HasSubstr("cannot take back")));
}

TEST_F(Reexec, AnInstanceKeepsTheDefinitionItStartedWithWhenItsFileHasChanged) {
    writeJob("svc", "start on startup\ndescription \"v1\"\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    ASSERT_THAT(waitForStatus("svc", "start/running", 20s), HasSubstr("start/running"));
    const pid_t pid = mainPidOf("svc");
    writeJob("svc", "start on startup\ndescription \"v2\"\nexec sleep 2000\n");
    ASSERT_THAT(waitForStatus("svc", "definition changed", 20s), HasSubstr("definition changed"));

    ASSERT_EQ(ctl("reexec").exit_code, 0) << tendLog();
    // Still running what it started with, and still told apart from the file.
    EXPECT_THAT(statusOf("svc"), HasSubstr("svc start/running, process " + std::to_string(pid) +
                                           " [definition changed"));
    ASSERT_EQ(ctl("restart", "--reload", "svc").exit_code, 0);
    EXPECT_THAT(statusOf("svc"), Not(HasSubstr("definition changed")));
    EXPECT_THAT(commandLine(mainPidOf("svc")), HasSubstr("sleep 2000"));
}

// The job file changes after the old tend last read it and before the next tend reads it (here
// by the new binary itself, before it execs tend): the instance still runs, and is told apart
// from, what it started with. The soak met this once in 29 re-execs.
TEST_F(Reexec, AFileThatChangesDuringTheReexecIsToldApartFromWhatTheInstanceRuns) {
    writeJob("svc", "start on startup\ndescription \"v1\"\nexec sleep 1000\n");
    writeFile("editor",
              "#!/bin/sh\n"
              "if [ \"$1\" != --state-version ]; then\n"
              "  printf 'start on startup\\ndescription \"v2\"\\nexec sleep 2000\\n' > " +
                  jobPath("svc").string() +
                  "\n"
                  "fi\n"
                  "exec " +
                  std::string(TEND_BIN) + " \"$@\"\n",
              0755);
    ASSERT_TRUE(startTend());
    ASSERT_THAT(waitForStatus("svc", "start/running", 20s), HasSubstr("start/running"));
    const pid_t pid = mainPidOf("svc");

    ASSERT_EQ(ctl("reexec", "--binary", path("editor").string()).exit_code, 0) << tendLog();
    EXPECT_THAT(statusOf("svc"), HasSubstr("svc start/running, process " + std::to_string(pid) +
                                           " [definition changed"));
    EXPECT_THAT(ctl("explain", "svc").out, HasSubstr("v2"));
    ASSERT_EQ(ctl("restart", "--reload", "svc").exit_code, 0);
    EXPECT_THAT(statusOf("svc"), Not(HasSubstr("definition changed")));
    EXPECT_THAT(commandLine(mainPidOf("svc")), HasSubstr("sleep 2000"));
}

TEST_F(Reexec, AJobThatTrippedItsRespawnLimitIsStillToldAsFailed) {
    writeJob("doomed", "start on startup\nrespawn\nrespawn limit 2 600\nexec false\n");
    ASSERT_TRUE(startTend());
    ASSERT_THAT(waitForStatus("doomed", "stop/waiting", 20s), HasSubstr("stop/waiting"));
    const auto lastRun = [&] {
        const auto parsed =
            nlohmann::json::parse(ctl("--json", "explain", "doomed").out, nullptr, false);
        return parsed.is_object() ? parsed.value("last_run", nlohmann::json()) : nlohmann::json();
    };
    const nlohmann::json before = lastRun();
    ASSERT_TRUE(before.is_object()) << ctl("explain", "doomed").out;
    ASSERT_EQ(before.value("failed", false), true);

    ASSERT_EQ(ctl("reexec").exit_code, 0) << tendLog();
    const nlohmann::json after = lastRun();
    ASSERT_TRUE(after.is_object()) << ctl("explain", "doomed").out;
    EXPECT_EQ(after.value("failed", false), true);
    ASSERT_TRUE(before.contains("failure"));
    EXPECT_EQ(after.value("failure", nlohmann::json()), before["failure"]);
    EXPECT_EQ(after.value("respawns", -1), before.value("respawns", -2));
}

TEST_F(Reexec, AStartOnHalfMatchedBeforeTheReexecStartsItsJobAfterIt) {
    writeJob("pair", "start on mail-new and network-up\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("emit", "mail-new", "FOLDER=inbox").exit_code, 0);
    ASSERT_THAT(ctl("status", "pair").out, HasSubstr("pair stop/waiting"));
    ASSERT_EQ(ctl("reexec").exit_code, 0) << tendLog();
    ASSERT_EQ(ctl("emit", "network-up").exit_code, 0);
    EXPECT_THAT(waitForStatus("pair", "start/running", 20s), HasSubstr("start/running"))
        << tendLog();
    // Its environment has both events: the one from before the re-exec with its variable.
    const pid_t pid = mainPidOf("pair");
    ASSERT_GT(pid, 0);
    const std::string environ = readFile("/proc/" + std::to_string(pid) + "/environ");
    EXPECT_THAT(environ, HasSubstr("FOLDER=inbox"));
    EXPECT_THAT(environ, HasSubstr("UPSTART_EVENTS=mail-new network-up"));
}

TEST_F(Reexec, WaitsForAJobThatIsStartingAndRunsNoHookTwice) {
    writeJob("slow",
             "start on startup\n"
             "pre-start script\n  echo pre >> " +
                 path("hooks").string() +
                 "\n  sleep 1\nend script\n"
                 "post-start exec sh -c 'echo post >> " +
                 path("hooks").string() +
                 "'\n"
                 "exec sleep 1000\n");
    ASSERT_TRUE(startTend());
    ASSERT_THAT(waitForStatus("slow", "pre-start", 20s), HasSubstr("slow start/pre-start"));
    const auto reexec = ctl("reexec");
    ASSERT_EQ(reexec.exit_code, 0) << reexec.err << tendLog();
    EXPECT_EQ(reexec.out, "tend re-executed; 1 job instance(s) carried over\n");
    // It re-executed once the job ran, and the job runs with that process still.
    const pid_t main = mainPidOf("slow");
    EXPECT_GT(main, 0) << statusOf("slow");
    EXPECT_EQ(countLines(path("hooks"), "pre"), 1);
    EXPECT_EQ(countLines(path("hooks"), "post"), 1);
    const std::string log = tendLog();
    EXPECT_LT(log.find("slow state post-start -> running"), log.find("re-executing"));
    EXPECT_EQ(mainPidOf("slow"), main);
}

TEST_F(Reexec, ACrashLoopingJobKeepsItsRespawnCountAndDelay) {
    // Three respawns allowed, kept 300 ms apart: four runs in all, whatever happens in between.
    writeJob("crasher",
             "start on startup\nrespawn\nrespawn limit 3 600\nrespawn delay 300ms 300ms\n"
             "exec sh -c 'echo run; exit 3'\n");
    ASSERT_TRUE(startTend());
    ASSERT_TRUE(waitFor([&] { return countLines(logPath("crasher"), "run") >= 2; }, 20s));
    const auto reexec = ctl("reexec");
    ASSERT_EQ(reexec.exit_code, 0) << reexec.err << tendLog();
    EXPECT_THAT(reexec.out, HasSubstr("1 job instance(s) carried over"));
    EXPECT_THAT(waitForStatus("crasher", "stop/waiting", 30s), HasSubstr("crasher stop/waiting"));
    EXPECT_THAT(tendLog(), HasSubstr("crasher respawning too fast, stopped"));
    EXPECT_EQ(countLines(logPath("crasher"), "run"), 4) << tendLog();
}

TEST_F(Reexec, ABinaryThatCannotTakeTheStateIsRefusedAndTendRunsOnAsItWas) {
    writeJob("svc", "start on startup\nexec sleep 1000\n");
    writeFile("not-tend", "#!/bin/sh\necho something else\n", 0755);
    ASSERT_TRUE(startTend());
    ASSERT_THAT(waitForStatus("svc", "start/running", 20s), HasSubstr("start/running"));
    const pid_t svc = mainPidOf("svc");

    const auto missing = ctl("reexec", "--binary", path("nowhere").string());
    EXPECT_NE(missing.exit_code, 0);
    EXPECT_THAT(missing.err, HasSubstr("reexec: cannot run " + path("nowhere").string() +
                                       ": No such file or directory; tend runs on as it was"));
    const auto other = ctl("reexec", "--binary", path("not-tend").string());
    EXPECT_NE(other.exit_code, 0);
    EXPECT_THAT(other.err, HasSubstr("does not read this tend's saved state (it says 'something "
                                     "else', and this tend writes tend-saved-state 2)"));

    EXPECT_EQ(mainPidOf("svc"), svc);
    EXPECT_EQ(ctl("version").exit_code, 0);
    EXPECT_THAT(tendLog(), Not(HasSubstr("re-executing")));
}

TEST_F(Reexec, AnExecThatFailsLeavesTheOldTendWithItsLogsAndPluginsBack) {
    const fs::path plugins = makePluginsDir();
    installPlugin(fs::path(TEND_TEST_PLUGINS_DIR) / "echo.so", plugins, "echo");
    writeWriter("writer", path("stop-writing"));
    // Starting takes 3 s: the re-exec waits for it, and the binary goes meanwhile.
    writeJob("slow", "pre-start exec sleep 3\nexec sleep 1000\n");
    writeFile("vanishing",
              "#!/bin/sh\n"
              "[ \"$1\" = --state-version ] && touch " +
                  path("probed").string() + "\nexec " + std::string(TEND_BIN) + " \"$@\"\n",
              0755);
    ASSERT_TRUE(
        startTend({"/bin/sh", "-c", "exec \"$@\" --plugins-dir " + plugins.string(), "sh"}));
    ASSERT_TRUE(waitForFile(logPath("writer"), "line 20\n", 20s));
    const pid_t writer = mainPidOf("writer");
    ASSERT_EQ(ctl("start", "-n", "slow").exit_code, 0);
    const std::string reexec = std::string(TENDCTL_BIN) + " --socket " + socketPath() +
                               " reexec --binary " + path("vanishing").string() + " 2> " +
                               path("reexec.err").string() + "; echo $? > " +
                               path("reexec.rc").string();
    ASSERT_EQ(test::runProcess({"/bin/sh", "-c", "(" + reexec + ") >/dev/null 2>&1 &"}).exit_code,
              0);
    ASSERT_TRUE(waitFor([&] { return fs::exists(path("probed")); }, 20s));
    fs::remove(path("vanishing"));
    // The shell makes the file before `echo` writes to it: wait for the whole line.
    ASSERT_TRUE(waitForFile(path("reexec.rc"), "\n", 60s)) << tendLog();
    EXPECT_EQ(readFile(path("reexec.rc")), "1\n");
    EXPECT_THAT(readFile(path("reexec.err")),
                HasSubstr("No such file or directory; tend runs on as it was"));
    // The same tend, its jobs, its plugin started again, and the writer's log going on whole.
    EXPECT_EQ(mainPidOf("writer"), writer);
    EXPECT_THAT(statusOf("slow"), HasSubstr("slow start/running"));
    EXPECT_EQ(ctl("echo-pings").exit_code, 0) << tendLog();
    const std::size_t size_after = fs::file_size(logPath("writer"));
    ASSERT_TRUE(waitFor([&] { return fs::file_size(logPath("writer")) > size_after; }, 20s));
    writeFile("stop-writing", "");
    ASSERT_TRUE(waitForFile(logPath("writer"), "last ", 20s));
    EXPECT_GT(checkWriterLog(logPath("writer")), 20);
}

TEST_F(Reexec, ABinaryThatCannotReadTheStateStartsAfreshAndAdoptsTheJobs) {
    writeJob("svc", "start on startup\nexec sleep 1000\n");
    const fs::path stop_file = path("stop-writing");
    writeWriter("writer", stop_file);
    // It answers --state-version as tend does, then spoils the state before tend reads it.
    writeFile("spoiler",
              "#!/bin/sh\n"
              "prev=\n"
              "for a; do [ \"$prev\" = --resume ] && printf 'not a state' > \"$a\"; prev=$a; done\n"
              "exec " +
                  std::string(TEND_BIN) + " \"$@\"\n",
              0755);
    ASSERT_TRUE(startTend());
    ASSERT_TRUE(waitForFile(logPath("writer"), "line 20\n", 20s));
    const pid_t svc = mainPidOf("svc");
    const pid_t writer = mainPidOf("writer");

    const auto reexec = ctl("reexec", "--binary", path("spoiler").string());
    ASSERT_EQ(reexec.exit_code, 0) << reexec.err << tendLog();
    EXPECT_EQ(reexec.out,
              "tend re-executed, but the new tend could not read the saved state (not a saved "
              "state (not a JSON object)); it started afresh and adopted 2 running job "
              "instance(s)\n");
    EXPECT_THAT(statusOf("svc"), HasSubstr("svc start/running, process " + std::to_string(svc)));
    EXPECT_THAT(statusOf("writer"),
                HasSubstr("writer start/running, process " + std::to_string(writer)));
    // Its output pipes were found: nothing was lost and the log goes on.
    writeFile("stop-writing", "");
    ASSERT_TRUE(waitForFile(logPath("writer"), "last ", 20s));
    EXPECT_GT(checkWriterLog(logPath("writer")), 20);
    // The startup event was not emitted again: nothing started twice.
    EXPECT_EQ(mainPidOf("svc"), svc);
    ASSERT_EQ(ctl("stop", "svc").exit_code, 0);
    EXPECT_TRUE(waitFor([&] { return !processAlive(svc); }, 20s));
}

TEST_F(Reexec, APluginStartsAgainWithWhatItSavedAndTheGlobalEnvironmentStays) {
    const fs::path plugins = makePluginsDir();
    installPlugin(fs::path(TEND_TEST_PLUGINS_DIR) / "echo.so", plugins, "echo");
    installPlugin(fs::path(TEND_PLUGINS_DIR) / "env-manager.so", plugins, "env-manager");
    ASSERT_TRUE(
        startTend({"/bin/sh", "-c", "exec \"$@\" --plugins-dir " + plugins.string(), "sh"}));
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(ctl("emit", "ping").exit_code, 0);
    }
    ASSERT_EQ(ctl("echo-pings").out, "3\n");
    ASSERT_EQ(ctl("set-env", "-g", "CARRIED=across").exit_code, 0);

    const auto reexec = ctl("reexec");
    ASSERT_EQ(reexec.exit_code, 0) << reexec.err << tendLog();
    // The echo plugin counted three pings before; its saved count came back to it.
    EXPECT_EQ(ctl("echo-pings").out, "3\n");
    ASSERT_EQ(ctl("emit", "ping").exit_code, 0);
    EXPECT_EQ(ctl("echo-pings").out, "4\n");
    EXPECT_THAT(ctl("get-env", "-g", "CARRIED").out, HasSubstr("across"));
    EXPECT_THAT(ctl("plugins").out, HasSubstr("running"));
}

TEST_F(Reexec, AMonitorConnectedAtTheTimeSeesItsConnectionEndAndIsNotLeftHanging) {
    ASSERT_TRUE(startTend());
    // In the background, bounded by timeout(1) whatever happens; its status goes to a file.
    const std::string monitor = "timeout 60 " + std::string(TENDCTL_BIN) + " --socket " +
                                socketPath() + " monitor > " + path("monitor.out").string() +
                                " 2>&1; echo $? > " + path("monitor.rc").string();
    ASSERT_EQ(test::runProcess({"/bin/sh", "-c", "(" + monitor + ") >/dev/null 2>&1 &"}).exit_code,
              0);
    ASSERT_TRUE(waitFor(
        [&] {
            ctl("emit", "-n", "probe");
            return readFile(path("monitor.out")).find("event probe") != std::string::npos;
        },
        20s));
    ASSERT_EQ(ctl("reexec").exit_code, 0) << tendLog();
    // Ended by the exec (timeout's 124 would say it hung on a connection nobody serves).
    ASSERT_TRUE(waitForFile(path("monitor.rc"), "\n", 30s));  // made before echo writes
    EXPECT_EQ(readFile(path("monitor.rc")), "1\n") << readFile(path("monitor.out"));
    EXPECT_EQ(ctl("version").exit_code, 0);
}

TEST_F(Reexec, StateVersionAndUsageSayWhatThisTendReads) {
    // --state-version answers without starting anything.
    const auto version = test::runProcess({TEND_BIN, "--state-version"});
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_EQ(version.out, "tend-saved-state 2\n");
    // reexec is in tendctl's usage, with its option.
    EXPECT_THAT(test::runProcess({TENDCTL_BIN, "--help"}).out, HasSubstr("reexec [--binary PATH]"));
}

}  // namespace
}  // namespace tend
