// SPDX-License-Identifier: MIT
// tendctl against a real tend: initctl's texts and exit statuses, the `start`/`status` shortcuts,
// how it finds tend, --json on every command, and the commands initctl never had (explain,
// graph, log, monitor, stop --all). Every assertion is on what a user sees: tendctl's stdout,
// stderr and exit status, pids, job logs and tend's own log.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/daemon_fixture.hpp"

namespace tend {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using json = nlohmann::json;
using test::ProcessResult;
using ::testing::ContainsRegex;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

using Clock = std::chrono::steady_clock;

// A tendctl that keeps running (`monitor`, `log -f`): stdin is /dev/null, stdout and stderr are
// read as they come. The destructor kills it if the test has not waited for it.
class Child {
  public:
    explicit Child(const std::vector<std::string>& argv) {
        int out[2];
        int err[2];
        if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
            return;
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        posix_spawn_file_actions_adddup2(&actions, err[1], 2);
        std::vector<char*> args;
        for (const auto& arg : argv) {
            args.push_back(const_cast<char*>(arg.c_str()));
        }
        args.push_back(nullptr);
        if (::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) {
            pid_ = 0;
        }
        posix_spawn_file_actions_destroy(&actions);
        ::close(out[1]);
        ::close(err[1]);
        fds_[0] = out[0];
        fds_[1] = err[0];
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
        }
        for (int fd : fds_) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
    }

    pid_t pid() const { return pid_; }
    const std::string& out() const { return out_; }
    const std::string& err() const { return err_; }

    // Reads until stdout holds `text`; false after `timeout` or once the child closed stdout.
    bool readUntil(const std::string& text, std::chrono::milliseconds timeout = 5s) {
        const auto deadline = Clock::now() + timeout;
        while (out_.find(text) == std::string::npos) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0 || !readSome(left)) {
                return out_.find(text) != std::string::npos;
            }
        }
        return true;
    }

    // The exit status once the child has ended on its own, nothing after `timeout`.
    std::optional<int> waitExit(std::chrono::milliseconds timeout = 5s) {
        if (pid_ <= 0) {
            return std::nullopt;
        }
        const auto deadline = Clock::now() + timeout;
        while (Clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = 0;
                while (readSome(0ms)) {
                }
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            readSome(20ms);
        }
        return std::nullopt;
    }

  private:
    // One poll of both pipes; false once both are closed.
    bool readSome(std::chrono::milliseconds wait) {
        pollfd polled[2] = {{fds_[0], POLLIN, 0}, {fds_[1], POLLIN, 0}};
        if (fds_[0] < 0 && fds_[1] < 0) {
            if (wait.count() > 0) {
                ::poll(nullptr, 0, static_cast<int>(wait.count()));
            }
            return false;
        }
        if (::poll(polled, 2, static_cast<int>(wait.count())) <= 0) {
            return true;
        }
        std::string* into[2] = {&out_, &err_};
        for (int i = 0; i < 2; ++i) {
            if (fds_[i] < 0 || polled[i].revents == 0) {
                continue;
            }
            char buffer[65536];
            const ssize_t n = ::read(fds_[i], buffer, sizeof buffer);
            if (n > 0) {
                into[i]->append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                ::close(fds_[i]);
                fds_[i] = -1;
            }
        }
        return true;
    }

    pid_t pid_ = 0;
    int fds_[2] = {-1, -1};
    std::string out_;
    std::string err_;
};

class Tendctl : public test::TendDaemonTest {
  protected:
    // tendctl run with an environment of our choosing and no --socket, through env(1):
    // `unset` names variables to remove, `set` holds NAME=VALUE entries.
    ProcessResult tendctlWithEnv(const std::vector<std::string>& unset,
                                 const std::vector<std::string>& set,
                                 const std::vector<std::string>& args) {
        std::vector<std::string> argv{"/usr/bin/env"};
        for (const auto& name : unset) {
            argv.insert(argv.end(), {"-u", name});
        }
        argv.insert(argv.end(), set.begin(), set.end());
        argv.emplace_back(TENDCTL_BIN);
        argv.insert(argv.end(), args.begin(), args.end());
        return test::runProcess(argv);
    }

    // `tendctl --json ARGS...`, its stdout parsed (a discarded value when it is not JSON).
    template <typename... Args>
    json ctlJson(ProcessResult& run, Args&&... args) {
        run = ctl("--json", std::forward<Args>(args)...);
        return json::parse(run.out, nullptr, false);
    }

    std::vector<std::string> ctlBase() const { return {TENDCTL_BIN, "--socket", socketPath()}; }

    // A `tendctl monitor` that is known to be listening: it has printed an event we emitted
    // after it started.
    std::unique_ptr<Child> listeningMonitor(bool as_json) {
        auto argv = ctlBase();
        if (as_json) {
            argv.emplace_back("--json");
        }
        argv.emplace_back("monitor");
        auto monitor = std::make_unique<Child>(argv);
        const std::string probe = as_json ? "\"event\":\"monitor-probe\"" : "event monitor-probe";
        const bool ready = waitFor([&] {
            ctl("emit", "-n", "monitor-probe");
            return monitor->readUntil(probe, 100ms);
        });
        EXPECT_TRUE(ready) << "monitor printed: " << monitor->out() << monitor->err();
        return monitor;
    }

    // tend without inotify: job file changes apply on reload-configuration or SIGHUP only.
    ::testing::AssertionResult startTendNotWatching() {
        return startTend({"/bin/sh", "-c", "exec \"$@\" --watch off", "sh"});
    }

    // A process's command line once it has one: a main process that tend reports running may
    // still be inside execve(), when /proc shows an empty command line.
    static std::string execedCommandLine(pid_t pid) {
        std::string line;
        waitFor([&] {
            line = commandLine(pid);
            return !line.empty();
        });
        return line;
    }

    // Waits until `count` jobs run.
    bool waitForRunning(std::size_t count) {
        return waitFor([&] { return countOf(ctl("list").out, "start/running") == count; }, 10s);
    }
};

// ---------------------------------------------------------------------------------------------
// initctl's texts and exit statuses

TEST_F(Tendctl, StartPrintsTheStatusLineWithTheMainPid) {
    writeJob("svc", "exec sleep 1000\n");
    ASSERT_TRUE(startTend());
    const ProcessResult started = ctl("start", "svc");
    EXPECT_EQ(started.exit_code, 0) << started.err;
    EXPECT_THAT(started.out, MatchesRegex("svc start/running, process [0-9]+\n"));
    EXPECT_EQ(started.err, "");
    const pid_t pid = pidIn(started.out);
    EXPECT_TRUE(processAlive(pid));
    EXPECT_THAT(execedCommandLine(pid), StartsWith("sleep 1000"));
    EXPECT_EQ(statusOf("svc"), started.out);
}

TEST_F(Tendctl, StartOfARunningJobFailsWithAlreadyRunning) {
    writeJob("svc", "exec sleep 1000\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "svc").exit_code, 0);
    const ProcessResult again = ctl("start", "svc");
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_EQ(again.out, "");
    EXPECT_EQ(again.err, "tendctl: Job is already running: svc\n");
}

// exposes: initctl's wording for a job that does not run named an instance with an empty name,
// `tendctl: Unknown instance: `, which tells the user nothing.
TEST_F(Tendctl, StopOfAJobThatIsNotRunningSaysAlreadyStopped) {
    writeJob("svc", "exec sleep 1000\n");
    ASSERT_TRUE(startTend());
    const ProcessResult stopped = ctl("stop", "svc");
    EXPECT_EQ(stopped.exit_code, 1);
    EXPECT_EQ(stopped.out, "");
    EXPECT_EQ(stopped.err, "tendctl: Job has already been stopped: svc\n");
    ProcessResult run;
    EXPECT_EQ(ctlJson(run, "stop", "svc"), json::parse(R"({"ok":false,"code":"already-stopped",
                              "error":"Job has already been stopped: svc"})"));
    EXPECT_EQ(ctl("restart", "svc").err, "tendctl: Job has already been stopped: svc\n");
}

TEST_F(Tendctl, StopOfAnInstanceThatDoesNotRunNamesTheJobAndTheInstance) {
    writeJob("each", "instance $N\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "each", "N=1").exit_code, 0);
    const ProcessResult stopped = ctl("stop", "each", "N=7");
    EXPECT_EQ(stopped.exit_code, 1);
    EXPECT_EQ(stopped.out, "");
    EXPECT_EQ(stopped.err, "tendctl: Unknown instance: each (7)\n");
    ProcessResult run;
    EXPECT_EQ(ctlJson(run, "stop", "each", "N=7"), (json{{"ok", false},
                                                         {"code", "unknown-instance"},
                                                         {"error", "Unknown instance: each (7)"}}));
    EXPECT_EQ(ctl("status", "each", "N=7").err, "tendctl: Unknown instance: each (7)\n");
}

TEST_F(Tendctl, StopOfAJobAlreadyStoppingSaysAlreadyStopped) {
    writeJob("svc", "exec sleep 1000\npre-stop exec sleep 0.5\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "svc").exit_code, 0);
    const ProcessResult first = ctl("stop", "-n", "svc");
    EXPECT_EQ(first.exit_code, 0) << first.err;
    EXPECT_EQ(first.out, "");
    const ProcessResult second = ctl("stop", "svc");
    EXPECT_EQ(second.exit_code, 1);
    EXPECT_EQ(second.err, "tendctl: Job has already been stopped: svc\n");
    EXPECT_EQ(waitForStatus("svc", "stop/waiting", 5s), "svc stop/waiting\n");
}

TEST_F(Tendctl, UnknownJobFailsWithUnknownJob) {
    ASSERT_TRUE(startTend());
    for (const char* command : {"start", "stop", "status", "restart"}) {
        const ProcessResult run = ctl(command, "nosuch");
        EXPECT_EQ(run.exit_code, 1) << command;
        EXPECT_EQ(run.out, "") << command;
        EXPECT_EQ(run.err, "tendctl: Unknown job: nosuch\n") << command;
    }
}

TEST_F(Tendctl, StatusOfAnInstanceNamesTheInstance) {
    writeJob("getty", "instance $N\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    const ProcessResult started = ctl("start", "getty", "N=1");
    ASSERT_EQ(started.exit_code, 0) << started.err;
    EXPECT_THAT(started.out, MatchesRegex("getty \\(1\\) start/running, process [0-9]+\n"));
    const ProcessResult status = ctl("status", "getty", "N=1");
    EXPECT_EQ(status.exit_code, 0) << status.err;
    EXPECT_EQ(status.out, started.out);
}

TEST_F(Tendctl, MissingJobNameIsAUsageError) {
    ASSERT_TRUE(startTend());
    for (const char* command : {"start", "stop", "status", "usage"}) {
        const ProcessResult run = ctl(command);
        EXPECT_EQ(run.exit_code, 2) << command;
        EXPECT_EQ(run.out, "") << command;
        EXPECT_EQ(run.err,
                  "tendctl: missing job name\nTry `tendctl --help' for more information.\n")
            << command;
    }
}

TEST_F(Tendctl, UsagePrintsTheUsageStanzaOrNothingAfterTheColon) {
    writeJob("tty", "instance $DEV\nusage \"tty DEV=ttyX - where X is console id\"\nexec true\n");
    writeJob("plain", "exec true\n");
    ASSERT_TRUE(startTend());
    const ProcessResult with = ctl("usage", "tty");
    EXPECT_EQ(with.exit_code, 0) << with.err;
    EXPECT_EQ(with.out, "Usage: tty DEV=ttyX - where X is console id\n");
    const ProcessResult without = ctl("usage", "plain");
    EXPECT_EQ(without.exit_code, 0) << without.err;
    EXPECT_EQ(without.out, "Usage: \n");
}

TEST_F(Tendctl, EmitFailsWhenAJobItStartsFails) {
    writeJob("broken", "start on foo\nexec /nonexistent\n");
    ASSERT_TRUE(startTend());
    const ProcessResult emitted = ctl("emit", "foo");
    EXPECT_EQ(emitted.exit_code, 1);
    EXPECT_EQ(emitted.out, "");
    EXPECT_THAT(emitted.err, StartsWith("tendctl: Event failed"));
    EXPECT_EQ(statusOf("broken"), "broken stop/waiting\n");
}

TEST_F(Tendctl, EmitWaitsUntilTheJobsItStartsRun) {
    writeJob("slow", "start on go\npre-start exec sleep 0.5\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    const ProcessResult emitted = ctl("emit", "go");
    EXPECT_EQ(emitted.exit_code, 0) << emitted.err;
    EXPECT_EQ(emitted.out, "");
    EXPECT_THAT(statusOf("slow"), MatchesRegex("slow start/running, process [0-9]+\n"));
}

TEST_F(Tendctl, EmitNoWaitReturnsBeforeTheJobRuns) {
    writeJob("slow", "start on go\npre-start exec sleep 0.5\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    const ProcessResult emitted = ctl("emit", "-n", "go");
    EXPECT_EQ(emitted.exit_code, 0) << emitted.err;
    EXPECT_EQ(emitted.out, "");
    EXPECT_THAT(statusOf("slow"), MatchesRegex("slow start/(starting|pre-start).*\n"));
    EXPECT_THAT(waitForStatus("slow", "start/running", 5s),
                MatchesRegex("slow start/running, process [0-9]+\n"));
}

TEST_F(Tendctl, StatusShowsEveryLiveProcessOfTheJob) {
    writeJob("multi", "exec sleep 1000\npost-start exec sleep 2\n");
    ASSERT_TRUE(startTend());
    const ProcessResult started = ctl("start", "-n", "multi");
    ASSERT_EQ(started.exit_code, 0) << started.err;
    EXPECT_EQ(started.out, "");
    const std::string status = waitForStatus("multi", "post-start process", 3s);
    EXPECT_THAT(
        status,
        MatchesRegex("multi start/post-start, process [0-9]+\n\tpost-start process [0-9]+\n"));
    const pid_t main = pidIn(status);
    const pid_t post_start = static_cast<pid_t>(std::atol(status.c_str() + status.rfind(' ')));
    EXPECT_THAT(execedCommandLine(main), StartsWith("sleep 1000"));
    EXPECT_THAT(execedCommandLine(post_start), StartsWith("sleep 2"));
}

// ---------------------------------------------------------------------------------------------
// The shortcuts: tendctl linked as `start`, `status`, ... runs that command

class TendctlShortcut : public Tendctl {
  protected:
    // Runs tendctl through a symlink named `name`.
    template <typename... Args>
    ProcessResult shortcut(const std::string& name, Args&&... args) {
        const fs::path link = path("bin") / name;
        if (!fs::exists(fs::symlink_status(link))) {
            fs::create_directories(link.parent_path());
            fs::create_symlink(TENDCTL_BIN, link);
        }
        return test::runProcess(
            {link.string(), "--socket", socketPath(), std::forward<Args>(args)...});
    }
};

TEST_F(TendctlShortcut, StatusLinkPrintsStatusAndPrefixesErrorsWithStatus) {
    writeJob("svc", "exec sleep 1000\n");
    ASSERT_TRUE(startTend());
    const ProcessResult idle = shortcut("status", "svc");
    EXPECT_EQ(idle.exit_code, 0) << idle.err;
    EXPECT_EQ(idle.out, "svc stop/waiting\n");
    const ProcessResult unknown = shortcut("status", "nosuch");
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_EQ(unknown.err, "status: Unknown job: nosuch\n");
    const ProcessResult missing = shortcut("status");
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_EQ(missing.err, "status: missing job name\nTry `status --help' for more information.\n");
}

TEST_F(TendctlShortcut, StartLinkStartsAndPrefixesErrorsWithStart) {
    writeJob("svc", "exec sleep 1000\n");
    ASSERT_TRUE(startTend());
    const ProcessResult started = shortcut("start", "svc");
    EXPECT_EQ(started.exit_code, 0) << started.err;
    EXPECT_THAT(started.out, MatchesRegex("svc start/running, process [0-9]+\n"));
    const ProcessResult again = shortcut("start", "svc");
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_EQ(again.err, "start: Job is already running: svc\n");
}

// exposes: `status --help` fails with "status: status: unknown option '--help'" (exit 2), the
// very command its own errors tell the user to try.
TEST_F(TendctlShortcut, HelpOfALinkIsWhatItsErrorsSuggest) {
    const ProcessResult help = shortcut("status", "--help");
    EXPECT_EQ(help.exit_code, 0) << help.err;
    EXPECT_THAT(help.out, HasSubstr("status"));
    EXPECT_EQ(help.err, "");
}

// ---------------------------------------------------------------------------------------------
// Finding tend

TEST_F(Tendctl, FindsTendThroughTendSession) {
    writeJob("svc", "exec sleep 1000\n");
    ASSERT_TRUE(startTend());
    const ProcessResult run = tendctlWithEnv(
        {}, {"TEND_SESSION=" + socketPath(), "XDG_RUNTIME_DIR=" + path("elsewhere").string()},
        {"status", "svc"});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.out, "svc stop/waiting\n");
}

TEST_F(Tendctl, WithoutSessionOrRuntimeDirSaysHowToStartTend) {
    ASSERT_TRUE(startTend());
    const ProcessResult run =
        tendctlWithEnv({"TEND_SESSION", "XDG_RUNTIME_DIR"}, {}, {"status", "svc"});
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_EQ(run.out, "");
    EXPECT_THAT(run.err, StartsWith("tendctl: cannot find tend"));
    EXPECT_THAT(run.err, HasSubstr("start tend"));
    EXPECT_THAT(run.err, HasSubstr("--socket"));
}

TEST_F(Tendctl, FindsTendUnderXdgRuntimeDir) {
    writeJob("svc", "exec sleep 1000\n");
    ASSERT_TRUE(startTend());
    fs::create_directories(path("xdg"));
    fs::create_directory_symlink(run_dir_, path("xdg/tend"));
    const ProcessResult run = tendctlWithEnv(
        {"TEND_SESSION"}, {"XDG_RUNTIME_DIR=" + path("xdg").string()}, {"status", "svc"});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.out, "svc stop/waiting\n");
}

TEST_F(Tendctl, JobsGetTheSessionInTendSession) {
    writeJob("where", "task\nexec sh -c 'echo $TEND_SESSION'\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "where").exit_code, 0);
    EXPECT_TRUE(waitForFile(logPath("where"), "\n"));
    EXPECT_EQ(readLog("where"), socketPath() + "\n");
}

TEST_F(Tendctl, AJobReachesTendWithoutSocket) {
    writeJob("svc", "exec sleep 1000\n");
    writeJob("asker", std::string("task\nexec ") + TENDCTL_BIN + " status svc\n");
    ASSERT_TRUE(startTend());
    const ProcessResult started = ctl("start", "svc");
    ASSERT_EQ(started.exit_code, 0) << started.err;
    ASSERT_EQ(ctl("start", "asker").exit_code, 0);
    EXPECT_TRUE(waitForFile(logPath("asker"), "\n"));
    EXPECT_EQ(readLog("asker"), started.out);
}

// ---------------------------------------------------------------------------------------------
// --json

TEST_F(Tendctl, JsonListHasEveryJobWithItsInstances) {
    writeJob("idle", "exec sleep 1000\n");
    writeJob("getty", "instance $N\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    const pid_t pid = pidIn(ctl("start", "getty", "N=1").out);
    ASSERT_GT(pid, 0);
    ProcessResult run;
    const json data = ctlJson(run, "list");
    EXPECT_EQ(run.exit_code, 0) << run.err;
    ASSERT_TRUE(data.is_object()) << run.out;
    EXPECT_EQ(data, json::parse(R"({"jobs":[
        {"job":"getty","instances":[{"job":"getty","instance":"1","goal":"start",
          "state":"running","processes":[{"process":"main","pid":)" +
                                std::to_string(pid) + R"(}],"respawns":0}]},
        {"job":"idle","instances":[]}]})"));
}

TEST_F(Tendctl, JsonStatusHasTheJobAndItsInstances) {
    writeJob("svc", "exec sleep 1000\n");
    ASSERT_TRUE(startTend());
    const pid_t pid = pidIn(ctl("start", "svc").out);
    ProcessResult run;
    const json data = ctlJson(run, "status", "svc");
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(data, json::parse(R"({"job":"svc","instances":[{"job":"svc","instance":"",
        "goal":"start","state":"running","processes":[{"process":"main","pid":)" +
                                std::to_string(pid) + R"(}],"respawns":0}]})"));
}

TEST_F(Tendctl, JsonStartIsTheStartedInstance) {
    writeJob("svc", "exec sleep 1000\n");
    ASSERT_TRUE(startTend());
    ProcessResult run;
    const json data = ctlJson(run, "start", "svc");
    EXPECT_EQ(run.exit_code, 0) << run.err;
    const pid_t pid = mainPidOf("svc");
    ASSERT_GT(pid, 0);
    EXPECT_EQ(data, json::parse(R"({"job":"svc","instance":"","goal":"start","state":"running",
        "processes":[{"process":"main","pid":)" +
                                std::to_string(pid) + R"(}],"respawns":0})"));
}

TEST_F(Tendctl, JsonVersionNamesTheProtocol) {
    ASSERT_TRUE(startTend());
    ProcessResult run;
    const json data = ctlJson(run, "version");
    EXPECT_EQ(run.exit_code, 0) << run.err;
    ASSERT_TRUE(data.is_object()) << run.out;
    EXPECT_EQ(data.value("protocol", 0), 1);
    ASSERT_TRUE(data.contains("version") && data["version"].is_string()) << run.out;
    EXPECT_EQ(ctl("version").out, "tend " + data["version"].get<std::string>() + "\n");
}

TEST_F(Tendctl, JsonErrorIsAnObjectWithAStableCode) {
    writeJob("svc", "exec sleep 1000\n");
    ASSERT_TRUE(startTend());
    ProcessResult run;
    json data = ctlJson(run, "status", "x");
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_EQ(data, json::parse(R"({"ok":false,"code":"unknown-job","error":"Unknown job: x"})"));
    EXPECT_EQ(run.err, "tendctl: Unknown job: x\n");

    ASSERT_EQ(ctl("start", "svc").exit_code, 0);
    data = ctlJson(run, "start", "svc");
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_EQ(data, json::parse(R"({"ok":false,"code":"already-running",
                                    "error":"Job is already running: svc"})"));
}

// exposes: `tendctl --json log nosuch` prints {"ok":false,"error":"Unknown job: nosuch"} with no
// "code": `log` relays tend's error without the code every other command carries.
TEST_F(Tendctl, JsonErrorOfLogCarriesTheCodeToo) {
    ASSERT_TRUE(startTend());
    ProcessResult run;
    const json data = ctlJson(run, "log", "nosuch");
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_EQ(data, json::parse(R"({"ok":false,"code":"unknown-job",
                                    "error":"Unknown job: nosuch"})"));
}

TEST_F(Tendctl, JsonShowConfigHasEachConditionAndItsEvents) {
    writeJob("a", "exec sleep 1000\n");
    writeJob("b", "emits ready\nstart on started a and foo\nstop on stopping a\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    ProcessResult run;
    const json data = ctlJson(run, "show-config", "b");
    EXPECT_EQ(run.exit_code, 0) << run.err;
    ASSERT_TRUE(data.contains("jobs") && data["jobs"].size() == 1) << run.out;
    const json& job = data["jobs"][0];
    EXPECT_EQ(job["job"], "b");
    EXPECT_EQ(job["emits"], json::parse(R"(["ready"])"));
    EXPECT_EQ(job["start_on"]["events"], json::parse(R"([{"event":"started","args":[{"value":"a"}]},
                                                         {"event":"foo","args":[]}])"));
    EXPECT_THAT(job["start_on"].value("expression", ""), HasSubstr("started a and foo"));
    EXPECT_EQ(job["stop_on"]["events"],
              json::parse(R"([{"event":"stopping","args":[{"value":"a"}]}])"));
    const json all = ctlJson(run, "show-config");
    ASSERT_TRUE(all.contains("jobs")) << run.out;
    EXPECT_EQ(all["jobs"].size(), 2u);
    EXPECT_EQ(all["jobs"][0]["start_on"], nullptr);
}

TEST_F(Tendctl, JsonLogPriorityIsTheLevel) {
    ASSERT_TRUE(startTend());
    ProcessResult run;
    EXPECT_EQ(ctlJson(run, "log-priority"), json::parse(R"({"priority":"debug"})"));
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(ctlJson(run, "log-priority", "error"), json::parse(R"({"priority":"error"})"));
    EXPECT_EQ(ctlJson(run, "log-priority"), json::parse(R"({"priority":"error"})"));
}

TEST_F(Tendctl, JsonReloadConfigurationListsWhatChanged) {
    writeJob("same", "exec sleep 1000\n");
    writeJob("edited", "exec sleep 1000\n");
    writeJob("dropped", "exec sleep 1000\n");
    ASSERT_TRUE(startTendNotWatching());
    writeJob("edited", "exec sleep 1001\n");
    fs::remove(jobs_dir_ / "dropped.conf");
    writeJob("fresh", "exec sleep 1000\n");
    ProcessResult run;
    const json data = ctlJson(run, "reload-configuration");
    EXPECT_EQ(run.exit_code, 0) << run.err;
    ASSERT_TRUE(data.is_object()) << run.out;
    EXPECT_EQ(data["files"], 3) << run.out;
    EXPECT_EQ(data["added"], json::parse(R"(["fresh"])")) << run.out;
    EXPECT_EQ(data["changed"], json::parse(R"(["edited"])")) << run.out;
    EXPECT_EQ(data["removed"], json::parse(R"(["dropped"])")) << run.out;
    EXPECT_EQ(data["kept_last_good"], json::array()) << run.out;
    EXPECT_EQ(data["unchanged"], 1) << run.out;
    EXPECT_EQ(data["errors"], json::array()) << run.out;
}

// exposes: check-config --json printed the report the running tend sent indented over many
// lines, where every other command prints one JSON document per line.
TEST_F(Tendctl, JsonCheckConfigThroughTendIsOneLine) {
    writeJob("svc", "start on peach\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    ProcessResult run;
    const json report = ctlJson(run, "check-config");
    EXPECT_EQ(run.exit_code, 1) << run.err;
    ASSERT_TRUE(report.is_object()) << run.out;
    EXPECT_EQ(run.out.find('\n'), run.out.size() - 1) << run.out;
    // tend checked its own job directory: the report is the running tend's.
    ASSERT_EQ(report["files"].size(), 1u) << run.out;
    EXPECT_EQ(report["files"][0]["path"], (jobs_dir_ / "svc.conf").string());
    EXPECT_EQ(report["findings"][0]["kind"], "unknown-event");
}

// ---------------------------------------------------------------------------------------------
// show-config

TEST_F(Tendctl, ShowConfigUsesUpstartsLayout) {
    writeJob("a", "emits ev1 ev2\nstart on started b\nstop on stopping b\nexec sleep 1000\n");
    writeJob("b", "exec sleep 1000\n");
    ASSERT_TRUE(startTend());
    const ProcessResult all = ctl("show-config");
    EXPECT_EQ(all.exit_code, 0) << all.err;
    EXPECT_EQ(all.out,
              "a\n"
              "  emits ev1\n"
              "  emits ev2\n"
              "  start on started b\n"
              "  stop on stopping b\n"
              "b\n");
    EXPECT_EQ(ctl("show-config", "b").out, "b\n");
}

// exposes: tend prints `  start on starting a and (b or c var=2)`; initctl parenthesises every
// operator as parsed (docs: `start on (starting A and (B or C var=2))`).
TEST_F(Tendctl, ShowConfigParenthesisesConditionsLikeInitctl) {
    writeJob("j", "start on starting a and (b or c var=2)\nexec true\n");
    ASSERT_TRUE(startTend());
    const ProcessResult shown = ctl("show-config", "j");
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    EXPECT_EQ(shown.out, "j\n  start on (starting a and (b or c var=2))\n");
}

// exposes: tend prints `(job: a, env: )` and `(job: , env: )`. initctl prints
// "(job:%s%s, env:%s)" with a space only before a value: `(job: a, env:)`, `(job:, env:)`,
// `(job:, env: var=2)` (util/initctl.c; the format tools that parse it expect).
TEST_F(Tendctl, ShowConfigEnumerateMatchesInitctlsFormat) {
    writeJob("j", "start on starting a and (b or c var=2)\nstop on stopping a\nexec true\n");
    ASSERT_TRUE(startTend());
    const ProcessResult shown = ctl("show-config", "-e", "j");
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    EXPECT_EQ(shown.out,
              "j\n"
              "  start on starting (job: a, env:)\n"
              "  start on b (job:, env:)\n"
              "  start on c (job:, env: var=2)\n"
              "  stop on stopping (job: a, env:)\n");
}

TEST_F(Tendctl, ShowConfigEnumerateHasOneLinePerEvent) {
    writeJob("a", "exec sleep 1000\n");
    writeJob("b", "start on started a and foo\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    const ProcessResult shown = ctl("show-config", "--enumerate", "b");
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    const std::string& out = shown.out;
    EXPECT_THAT(out, StartsWith("b\n"));
    EXPECT_EQ(countOf(out, "\n  start on "), 2u) << out;
    EXPECT_THAT(out, ContainsRegex("\n  start on started \\(job: a, env: ?\\)\n"));
    EXPECT_THAT(out, ContainsRegex("\n  start on foo \\(job: ?, env: ?\\)\n"));
}

// ---------------------------------------------------------------------------------------------
// reload-configuration

TEST_F(Tendctl, ReloadConfigurationAddsANewJob) {
    writeJob("old", "exec sleep 1000\n");
    ASSERT_TRUE(startTendNotWatching());
    writeJob("fresh", "exec sleep 1000\n");
    EXPECT_EQ(ctl("list").out, "old stop/waiting\n");
    const ProcessResult reloaded = ctl("reload-configuration");
    EXPECT_EQ(reloaded.exit_code, 0) << reloaded.err;
    EXPECT_THAT(reloaded.out,
                EndsWith("\n2 job files: 1 added, 0 changed, 1 unchanged; 0 removed\n"));
    EXPECT_EQ(ctl("list").out, "fresh stop/waiting\nold stop/waiting\n");
    EXPECT_THAT(ctl("start", "fresh").out, MatchesRegex("fresh start/running, process [0-9]+\n"));
}

TEST_F(Tendctl, ReloadConfigurationKeepsTheLastGoodDefinitionOfABrokenFile) {
    writeJob("svc", "exec sleep 1001\n");
    ASSERT_TRUE(startTendNotWatching());
    writeJob("svc", "start on\nexec sleep 1003\n");
    ProcessResult run;
    const json data = ctlJson(run, "reload-configuration");
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(data["kept_last_good"], json::parse(R"(["svc"])")) << run.out;
    ASSERT_TRUE(data["errors"].is_array() && data["errors"].size() == 1) << run.out;
    const std::string where = (jobs_dir_ / "svc.conf").string() + ":1:9: error:";
    EXPECT_THAT(data["errors"][0].get<std::string>(), StartsWith(where));
    // In tend's log, the line's level says it is an error.
    EXPECT_THAT(tendLog(), HasSubstr("error: " + (jobs_dir_ / "svc.conf").string() +
                                     ":1:9: expected an event name"));

    writeJob("svc", "start on\nexec sleep 1004\n");
    const ProcessResult reloaded = ctl("reload-configuration");
    EXPECT_EQ(reloaded.exit_code, 0) << reloaded.err;
    EXPECT_THAT(reloaded.out,
                HasSubstr("1 job file: 0 added, 0 changed, 0 unchanged, 1 with errors "
                          "(last good definition kept); 0 removed\n"));

    EXPECT_THAT(ctl("list").out, StartsWith("svc stop/waiting"));
    const ProcessResult started = ctl("start", "svc");
    ASSERT_EQ(started.exit_code, 0) << started.err;
    EXPECT_THAT(execedCommandLine(pidIn(started.out)), StartsWith("sleep 1001"));
}

// One rescan that meets a broken file beside good edits, a new file and a removal: the good
// ones all apply, the broken one keeps its last good definition, and its running instance runs on.
TEST_F(Tendctl, OneReloadWithABrokenFileStillAppliesTheGoodOnes) {
    writeJob("edited", "description \"old\"\nexec sleep 1001\n");
    writeJob("broken", "exec sleep 1002\n");
    writeJob("removed", "exec sleep 1003\n");
    ASSERT_TRUE(startTendNotWatching());
    ASSERT_EQ(ctl("start", "broken").exit_code, 0);
    const pid_t broken = mainPidOf("broken");

    writeJob("edited", "description \"new\"\nexec sleep 1011\n");
    writeJob("broken", "start on (\nexec sleep 1012\n");
    writeJob("added", "exec sleep 1014\n");
    std::filesystem::remove(jobs_dir_ / "removed.conf");
    ProcessResult run;
    const json data = ctlJson(run, "reload-configuration");
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(data["kept_last_good"], json::parse(R"(["broken"])")) << run.out;
    EXPECT_THAT(ctl("explain", "edited").out, HasSubstr("new"));
    EXPECT_THAT(statusOf("broken"), HasSubstr("broken start/running, process " +
                                              std::to_string(broken) + " [job file has errors"));
    EXPECT_EQ(statusOf("added"), "added stop/waiting\n");
    EXPECT_EQ(ctl("status", "removed").exit_code, 1);
    const ProcessResult started = ctl("start", "edited");
    ASSERT_EQ(started.exit_code, 0) << started.err;
    EXPECT_THAT(execedCommandLine(pidIn(started.out)), StartsWith("sleep 1011"));
}

// As in Upstart, a running instance keeps the definition it started with, `restart` included;
// the new one applies from the next start.
TEST_F(Tendctl, ChangedFileAppliesFromTheNextStartNotToRestart) {
    writeJob("svc", "exec sleep 1001\n");
    ASSERT_TRUE(startTendNotWatching());
    const pid_t first = pidIn(ctl("start", "svc").out);
    ASSERT_GT(first, 0);
    writeJob("svc", "exec sleep 1002\n");
    EXPECT_THAT(ctl("reload-configuration").out,
                EndsWith("\n1 job file: 0 added, 1 changed, 0 unchanged; 0 removed\n"));
    EXPECT_EQ(mainPidOf("svc"), first);
    EXPECT_THAT(execedCommandLine(first), StartsWith("sleep 1001"));

    const ProcessResult restarted = ctl("restart", "svc");
    ASSERT_EQ(restarted.exit_code, 0) << restarted.err;
    const pid_t second = pidIn(restarted.out);
    EXPECT_NE(second, first);
    EXPECT_THAT(execedCommandLine(second), StartsWith("sleep 1001"));

    ASSERT_EQ(ctl("stop", "svc").exit_code, 0);
    const pid_t third = pidIn(ctl("start", "svc").out);
    ASSERT_GT(third, 0);
    EXPECT_THAT(execedCommandLine(third), StartsWith("sleep 1002"));
}

TEST_F(Tendctl, DeletedFileKeepsItsJobListedUntilItStops) {
    writeJob("gone", "exec sleep 1000\n");
    ASSERT_TRUE(startTendNotWatching());
    const ProcessResult started = ctl("start", "gone");
    ASSERT_EQ(started.exit_code, 0) << started.err;
    const pid_t pid = pidIn(started.out);
    fs::remove(jobs_dir_ / "gone.conf");
    EXPECT_THAT(ctl("reload-configuration").out,
                EndsWith("\n0 job files: 0 added, 0 changed, 0 unchanged; 1 removed\n"));
    EXPECT_THAT(ctl("list").out, StartsWith("gone start/running, process " + std::to_string(pid)));

    const ProcessResult again = ctl("start", "gone");
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_EQ(again.err, "tendctl: Unknown job: gone\n");

    const ProcessResult stopped = ctl("stop", "gone");
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
    EXPECT_EQ(stopped.out, "gone stop/waiting\n");
    EXPECT_EQ(ctl("list").out, "");
    EXPECT_EQ(ctl("status", "gone").err, "tendctl: Unknown job: gone\n");
}

TEST_F(Tendctl, SighupReloadsTheConfiguration) {
    writeJob("old", "exec sleep 1000\n");
    ASSERT_TRUE(startTendNotWatching());
    writeJob("fresh", "exec sleep 1000\n");
    EXPECT_EQ(ctl("status", "fresh").exit_code, 1);
    ASSERT_EQ(::kill(tendPid(), SIGHUP), 0);
    EXPECT_TRUE(waitForFile(tend_log_, "SIGHUP: reloading the configuration\n")) << tendLog();
    EXPECT_TRUE(waitForFile(tend_log_, "SIGHUP: added fresh")) << tendLog();
    EXPECT_EQ(statusOf("fresh"), "fresh stop/waiting\n");
}

// ---------------------------------------------------------------------------------------------
// log

class TendctlLog : public Tendctl {
  protected:
    void SetUp() override {
        Tendctl::SetUp();
        writeJob("talk", "task\nscript\n  echo one\n  echo two\n  echo three\nend script\n");
        writeJob("msg", "task\nexec echo \"msg $MSG\"\n");
    }
    // One line in msg's log per call: "msg TEXT".
    void say(const std::string& text) {
        const ProcessResult run = ctl("start", "msg", "MSG=" + text);
        ASSERT_EQ(run.exit_code, 0) << run.err;
        ASSERT_TRUE(waitForFile(logPath("msg"), "msg " + text + "\n")) << readLog("msg");
    }
    std::unique_ptr<Child> follow(const std::string& job) {
        auto argv = ctlBase();
        argv.insert(argv.end(), {"log", "-f", job});
        return std::make_unique<Child>(argv);
    }
};

TEST_F(TendctlLog, PrintsTheJobsLog) {
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "talk").exit_code, 0);
    ASSERT_TRUE(waitForFile(logPath("talk"), "three\n"));
    const ProcessResult shown = ctl("log", "talk");
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    EXPECT_EQ(shown.out, "one\ntwo\nthree\n");
}

// An instance's log is named by its variables, whether it runs now or has ended; without them
// tendctl says which are missing.
TEST_F(TendctlLog, AnInstancesLogIsFoundByItsVariablesRunningOrNot) {
    writeJob("each", "instance $N\nconsole log\nexec echo \"n=$N\"\ntask\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "each", "N=2").exit_code, 0);   // a task: it has ended when this returns
    ASSERT_TRUE(waitForFile(logPath("each-2"), "n=2\n"));  // written on the router's thread
    const ProcessResult shown = ctl("log", "each", "N=2");
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    EXPECT_EQ(shown.out, "n=2\n");
    const ProcessResult unnamed = ctl("log", "each");
    EXPECT_EQ(unnamed.exit_code, 1);
    EXPECT_THAT(unnamed.err, HasSubstr("Unknown parameter in instance name '$N'"));
    EXPECT_THAT(unnamed.err, HasSubstr("tendctl log each KEY=VALUE"));
}

TEST_F(TendctlLog, LinesPrintsTheLastLines) {
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "talk").exit_code, 0);
    ASSERT_TRUE(waitForFile(logPath("talk"), "three\n"));
    const ProcessResult shown = ctl("log", "-n", "2", "talk");
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    EXPECT_EQ(shown.out, "two\nthree\n");
}

TEST_F(TendctlLog, FollowPrintsNewLinesAcrossRotation) {
    ASSERT_TRUE(startTend());
    say("1");
    auto follower = follow("msg");
    EXPECT_TRUE(follower->readUntil("msg 1\n")) << follower->out() << follower->err();
    say("2");
    EXPECT_TRUE(follower->readUntil("msg 2\n")) << follower->out() << follower->err();
    fs::rename(logPath("msg"), log_dir_ / "msg.log.1");
    say("3");
    EXPECT_TRUE(follower->readUntil("msg 3\n")) << follower->out() << follower->err();
    EXPECT_EQ(follower->out(), "msg 1\nmsg 2\nmsg 3\n");
}

// exposes: a line written just before the log is rotated is lost to `log -f` when the follower
// has not read it yet (here: it is stopped meanwhile, as a busy reader would be); the follower
// switches to the new file without reading the rest of the old one.
TEST_F(TendctlLog, FollowKeepsALineWrittenJustBeforeRotation) {
    ASSERT_TRUE(startTend());
    say("1");
    auto follower = follow("msg");
    ASSERT_TRUE(follower->readUntil("msg 1\n")) << follower->out() << follower->err();
    ASSERT_EQ(::kill(follower->pid(), SIGSTOP), 0);
    say("2");
    fs::rename(logPath("msg"), log_dir_ / "msg.log.1");
    say("3");
    ASSERT_EQ(::kill(follower->pid(), SIGCONT), 0);
    EXPECT_TRUE(follower->readUntil("msg 3\n")) << follower->out() << follower->err();
    EXPECT_EQ(follower->out(), "msg 1\nmsg 2\nmsg 3\n");
}

// exposes: `log -f` printed the whole log before following it; tail -f and journalctl -f start
// with the last 10 lines.
TEST_F(TendctlLog, FollowStartsWithTheLastTenLines) {
    writeJob("many",
             "task\nscript\n  for i in $(seq 1 15); do echo \"line $i\"; done\nend script\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "many").exit_code, 0);
    ASSERT_TRUE(waitForFile(logPath("many"), "line 15\n")) << readLog("many");
    auto follower = follow("many");
    ASSERT_TRUE(follower->readUntil("line 15\n")) << follower->out() << follower->err();
    std::string expected;
    for (int i = 6; i <= 15; ++i) {
        expected += "line " + std::to_string(i) + "\n";
    }
    EXPECT_EQ(follower->out(), expected);
    // Without -f, the whole log, as before.
    EXPECT_EQ(countOf(ctl("log", "many").out, "\n"), 15u);
}

TEST_F(TendctlLog, FollowWithLinesStartsWithThatMany) {
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "talk").exit_code, 0);
    ASSERT_TRUE(waitForFile(logPath("talk"), "three\n"));
    auto argv = ctlBase();
    argv.insert(argv.end(), {"log", "-f", "-n", "1", "talk"});
    Child follower(argv);
    ASSERT_TRUE(follower.readUntil("three\n")) << follower.out() << follower.err();
    EXPECT_EQ(follower.out(), "three\n");
}

// exposes: `tendctl --json log` printed the log as plain text, though every command speaks JSON.
TEST_F(TendctlLog, JsonIsOneObjectPerLine) {
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "talk").exit_code, 0);
    ASSERT_TRUE(waitForFile(logPath("talk"), "three\n"));
    const ProcessResult shown = ctl("--json", "log", "talk");
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    EXPECT_EQ(shown.out, R"({"instance":"","job":"talk","text":"one"})"
                         "\n"
                         R"({"instance":"","job":"talk","text":"two"})"
                         "\n"
                         R"({"instance":"","job":"talk","text":"three"})"
                         "\n");
    const ProcessResult last = ctl("--json", "log", "-n", "1", "talk");
    EXPECT_EQ(last.out, R"({"instance":"","job":"talk","text":"three"})"
                        "\n");
}

TEST_F(TendctlLog, JsonTakesTheTimestampIntoTime) {
    writeJob("stamped", "task\nlog timestamp\nexec echo \"hello  world\"\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "stamped").exit_code, 0);
    ASSERT_TRUE(waitForFile(logPath("stamped"), "hello  world\n")) << readLog("stamped");
    ProcessResult shown;
    const json line = ctlJson(shown, "log", "stamped");
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    ASSERT_TRUE(line.is_object()) << shown.out;
    EXPECT_EQ(line["job"], "stamped");
    EXPECT_EQ(line["text"], "hello  world");
    ASSERT_TRUE(line.contains("time")) << shown.out;
    EXPECT_THAT(line["time"].get<std::string>(),
                MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}"));
    EXPECT_EQ(readLog("stamped"), line["time"].get<std::string>() + " hello  world\n");
}

TEST_F(TendctlLog, JsonReplacesBytesThatAreNotUtf8) {
    writeJob("raw", "task\nscript\n  printf 'bad \\377 byte\\n'\nend script\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "raw").exit_code, 0);
    ASSERT_TRUE(waitForFile(logPath("raw"), " byte\n")) << readLog("raw");
    ProcessResult shown;
    const json line = ctlJson(shown, "log", "raw");
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    ASSERT_TRUE(line.is_object()) << shown.out;
    EXPECT_EQ(line["text"], "bad \xEF\xBF\xBD byte");
}

TEST_F(TendctlLog, JsonFollowPrintsEachNewLineAsAnObject) {
    ASSERT_TRUE(startTend());
    say("1");
    auto argv = ctlBase();
    argv.insert(argv.end(), {"--json", "log", "-f", "msg"});
    Child follower(argv);
    ASSERT_TRUE(follower.readUntil("\"msg 1\"}\n")) << follower.out() << follower.err();
    say("2");
    ASSERT_TRUE(follower.readUntil("\"msg 2\"}\n")) << follower.out() << follower.err();
    EXPECT_EQ(follower.out(), R"({"instance":"","job":"msg","text":"msg 1"})"
                              "\n"
                              R"({"instance":"","job":"msg","text":"msg 2"})"
                              "\n");
}

TEST_F(TendctlLog, JobWithoutALogFileSaysSo) {
    writeJob("quiet", "console none\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    const ProcessResult shown = ctl("log", "quiet");
    EXPECT_EQ(shown.exit_code, 1);
    EXPECT_EQ(shown.out, "");
    EXPECT_THAT(shown.err, StartsWith("tendctl: quiet does not log to a file"));
}

// ---------------------------------------------------------------------------------------------
// monitor

TEST_F(Tendctl, MonitorPrintsGoalsStatesAndEvents) {
    writeJob("svc", "exec sleep 1000\n");
    ASSERT_TRUE(startTend());
    auto monitor = listeningMonitor(false);
    ASSERT_EQ(ctl("start", "svc").exit_code, 0);
    EXPECT_TRUE(monitor->readUntil("event started JOB=svc INSTANCE=\n")) << monitor->out();
    const std::string& out = monitor->out();
    EXPECT_THAT(out, HasSubstr("\nsvc goal stop -> start\n"));
    EXPECT_THAT(out, HasSubstr("\nsvc state waiting -> starting\n"));
    EXPECT_THAT(out, HasSubstr("\nevent starting JOB=svc INSTANCE=\n"));
    EXPECT_THAT(out, HasSubstr("\nsvc state post-start -> running\n"));
    EXPECT_LT(out.find("svc goal stop -> start"), out.find("event started JOB=svc"));
}

TEST_F(Tendctl, MonitorJsonPrintsOneTypedObjectPerLine) {
    writeJob("svc", "exec sleep 1000\n");
    ASSERT_TRUE(startTend());
    auto monitor = listeningMonitor(true);
    ASSERT_EQ(ctl("start", "svc").exit_code, 0);
    ASSERT_TRUE(monitor->readUntil(R"("event":"started")")) << monitor->out();
    ASSERT_TRUE(monitor->readUntil("\n", 1s));
    std::vector<json> lines;
    std::size_t start = 0;
    for (auto end = monitor->out().find('\n'); end != std::string::npos;
         start = end + 1, end = monitor->out().find('\n', start)) {
        lines.push_back(json::parse(monitor->out().substr(start, end - start), nullptr, false));
        EXPECT_TRUE(lines.back().is_object()) << monitor->out().substr(start, end - start);
    }
    const auto has = [&](const json& wanted) {
        for (const json& line : lines) {
            bool all = line.is_object();
            for (const auto& [key, value] : wanted.items()) {
                all = all && line.contains(key) && line[key] == value;
            }
            if (all) {
                return true;
            }
        }
        return false;
    };
    EXPECT_TRUE(has({{"type", "goal"}, {"job", "svc"}, {"from", "stop"}, {"to", "start"}}))
        << monitor->out();
    EXPECT_TRUE(has({{"type", "state"}, {"job", "svc"}, {"from", "waiting"}, {"to", "starting"}}))
        << monitor->out();
    EXPECT_TRUE(has(
        {{"type", "event"}, {"event", "started"}, {"env", json::array({"JOB=svc", "INSTANCE="})}}))
        << monitor->out();
}

// exposes: monitor ended silently when tend did, and missed the last changes of the jobs stopped
// at session end: tend stopped its event loop before their lines had gone out.
TEST_F(Tendctl, MonitorShowsEveryJobStoppingAtSessionEndThenThatTendExited) {
    writeJob("one", "exec sleep 1000\n");
    writeJob("two", "exec sleep 1000\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "one").exit_code, 0);
    ASSERT_EQ(ctl("start", "two").exit_code, 0);
    auto monitor = listeningMonitor(false);
    ASSERT_TRUE(stopTend().has_value());
    EXPECT_EQ(monitor->waitExit(10s), 0) << monitor->out() << monitor->err();
    const std::string& out = monitor->out();
    EXPECT_THAT(out, HasSubstr("\nevent session-end TYPE=shutdown\n"));
    for (const std::string job : {"one", "two"}) {
        EXPECT_THAT(out, HasSubstr("\n" + job + " goal start -> stop\n"));
        EXPECT_THAT(out, HasSubstr("\n" + job + " state post-stop -> waiting\n"));
    }
    EXPECT_THAT(out, EndsWith("\ntend exited; the session ended\n"));
    EXPECT_EQ(monitor->err(), "");
}

TEST_F(Tendctl, MonitorJsonEndsWithAnExitObject) {
    writeJob("svc", "exec sleep 1000\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "svc").exit_code, 0);
    auto monitor = listeningMonitor(true);
    ASSERT_TRUE(stopTend().has_value());
    EXPECT_EQ(monitor->waitExit(10s), 0) << monitor->out() << monitor->err();
    const std::string& out = monitor->out();
    EXPECT_THAT(out, HasSubstr(R"({"from":"post-stop","goal":"stop","instance":"","job":"svc",)"
                               R"("to":"waiting","type":"state"})"
                               "\n"));
    EXPECT_THAT(out, EndsWith("\n{\"type\":\"exit\"}\n"));
    EXPECT_EQ(monitor->err(), "");
}

TEST_F(Tendctl, MonitorSaysSoWhenTendGoesWithoutEndingTheSession) {
    ASSERT_TRUE(startTend());
    auto monitor = listeningMonitor(false);
    ASSERT_EQ(::kill(tendPid(), SIGKILL), 0);
    EXPECT_EQ(monitor->waitExit(10s), 1) << monitor->out() << monitor->err();
    EXPECT_THAT(monitor->out(), Not(HasSubstr("tend exited")));
    EXPECT_EQ(monitor->err(),
              "tendctl: lost the connection to tend before the session ended (did tend "
              "crash?)\n");
}

// ---------------------------------------------------------------------------------------------
// explain

TEST_F(Tendctl, ExplainSaysWhatAJobStillWaitsForThenThatItRuns) {
    writeJob("a", "exec sleep 1000\n");
    writeJob("b", "start on started a and foo\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "a").exit_code, 0);

    const ProcessResult waiting = ctl("explain", "b");
    EXPECT_EQ(waiting.exit_code, 0) << waiting.err;
    EXPECT_THAT(waiting.out, HasSubstr("b stop/waiting"));
    EXPECT_THAT(waiting.out, HasSubstr("is still waiting for: foo\n"));
    ProcessResult run;
    const json data = ctlJson(run, "explain", "b");
    EXPECT_EQ(data["start_on"]["unmatched"], json::parse(R"(["foo"])")) << run.out;

    ASSERT_EQ(ctl("emit", "foo").exit_code, 0);
    const pid_t pid = mainPidOf("b");
    ASSERT_GT(pid, 0) << statusOf("b");
    const ProcessResult running = ctl("explain", "b");
    EXPECT_THAT(running.out, HasSubstr("why: running, main process " + std::to_string(pid)));
}

// exposes: "matched" lists every event of the condition, "started a" included while it is also
// in "unmatched" (explainClass compares pointers into two different copies of the condition).
TEST_F(Tendctl, ExplainJsonMatchedHoldsOnlyWhatMatched) {
    writeJob("a", "exec sleep 1000\n");
    writeJob("b", "start on started a and foo\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    ProcessResult run;
    json data = ctlJson(run, "explain", "b");
    EXPECT_EQ(data["start_on"]["matched"], json::array()) << run.out;
    ASSERT_EQ(ctl("start", "a").exit_code, 0);
    data = ctlJson(run, "explain", "b");
    EXPECT_EQ(data["start_on"]["matched"], json::parse(R"(["started a"])")) << run.out;
}

TEST_F(Tendctl, ExplainShowsTheRespawnCountsOfACrashLoop) {
    writeJob("flap", "respawn\nrespawn limit 100 5\nexec sh -c 'sleep 0.1; exit 1'\n");
    ASSERT_TRUE(startTend());
    ctl("start", "flap");
    ProcessResult run;
    ASSERT_TRUE(waitFor([&] {
        const json data = ctlJson(run, "explain", "flap");
        return data.is_object() && data["instances"].size() == 1 &&
               data["instances"][0].value("respawns", 0) >= 2;
    })) << run.out;
    const ProcessResult explained = ctl("explain", "flap");
    EXPECT_EQ(explained.exit_code, 0) << explained.err;
    EXPECT_THAT(explained.out, ContainsRegex("respawn: [0-9]+ so far, [0-9]+ in the current "
                                             "window \\(limit 100 in 5 s\\)"));
    EXPECT_THAT(explained.out, HasSubstr("last exit: main process terminated with status 1"));
    EXPECT_EQ(ctl("stop", "flap").out, "flap stop/waiting\n");
}

TEST_F(Tendctl, ExplainSaysAFailedTaskFailedWithItsExitStatus) {
    writeJob("check", "task\nexec sh -c 'exit 3'\n");
    ASSERT_TRUE(startTend());
    const ProcessResult started = ctl("start", "check");
    EXPECT_EQ(started.exit_code, 1);
    EXPECT_THAT(started.err, StartsWith("tendctl: Job failed to start"));
    const ProcessResult explained = ctl("explain", "check");
    EXPECT_EQ(explained.exit_code, 0) << explained.err;
    EXPECT_THAT(explained.out, ContainsRegex("last run ended .*: it failed"));
    EXPECT_THAT(explained.out, HasSubstr("status 3"));
    ProcessResult run;
    const json data = ctlJson(run, "explain", "check");
    EXPECT_EQ(data["last_run"]["failed"], true) << run.out;
    EXPECT_EQ(data["last_run"]["last_exit"], json::parse(R"({"status":3})")) << run.out;
}

TEST_F(Tendctl, ExplainOfAJobWithoutStartOnSaysOnlyTendctlStartsIt) {
    writeJob("lonely", "exec sleep 1000\n");
    ASSERT_TRUE(startTend());
    const ProcessResult explained = ctl("explain", "lonely");
    EXPECT_EQ(explained.exit_code, 0) << explained.err;
    EXPECT_THAT(explained.out, HasSubstr("it starts only with `tendctl start lonely`"));
}

// ---------------------------------------------------------------------------------------------
// graph

TEST_F(Tendctl, GraphIsDotWithAnEdgeFromTheJobItFollows) {
    writeJob("a", "exec sleep 1000\n");
    writeJob("b", "start on started a\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    const ProcessResult graph = ctl("graph");
    EXPECT_EQ(graph.exit_code, 0) << graph.err;
    EXPECT_THAT(graph.out, StartsWith("digraph tend {\n"));
    EXPECT_THAT(graph.out, HasSubstr("\"job:a\" -> \"job:b\""));
    EXPECT_THAT(graph.out, EndsWith("}\n"));
}

TEST_F(Tendctl, GraphJsonHasNodesAndEdges) {
    writeJob("a", "exec sleep 1000\n");
    writeJob("b", "start on started a or tick\nexec sleep 1000\n");
    ASSERT_TRUE(startTend());
    ProcessResult run;
    const json data = ctlJson(run, "graph");
    EXPECT_EQ(run.exit_code, 0) << run.err;
    ASSERT_TRUE(data.is_object()) << run.out;
    EXPECT_EQ(data["nodes"], json::parse(R"([{"id":"job:a","kind":"job","name":"a"},
        {"id":"job:b","kind":"job","name":"b"},{"id":"event:tick","kind":"event","name":"tick"}])"));
    ASSERT_TRUE(data["edges"].is_array()) << run.out;
    EXPECT_EQ(data["edges"].size(), 2u) << run.out;
    EXPECT_EQ(data["edges"][0]["from"], "job:a");
    EXPECT_EQ(data["edges"][0]["to"], "job:b");
    EXPECT_EQ(data["edges"][0]["kind"], "start");
    EXPECT_EQ(data["edges"][1]["from"], "event:tick");
    EXPECT_EQ(data["edges"][1]["to"], "job:b");
}

// ---------------------------------------------------------------------------------------------
// log-priority

TEST_F(Tendctl, LogPriorityPrintsAndSetsTheLevel) {
    ASSERT_TRUE(startTend());
    EXPECT_EQ(ctl("log-priority").out, "debug\n");
    const ProcessResult set = ctl("log-priority", "warn");
    EXPECT_EQ(set.exit_code, 0) << set.err;
    EXPECT_EQ(set.out, "");
    EXPECT_EQ(ctl("log-priority").out, "warn\n");
}

TEST_F(Tendctl, LogPriorityRejectsAnUnknownLevelNamingTheValidOnes) {
    ASSERT_TRUE(startTend());
    const ProcessResult bad = ctl("log-priority", "loud");
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_EQ(bad.out, "");
    EXPECT_THAT(bad.err, HasSubstr("loud"));
    EXPECT_THAT(bad.err, HasSubstr("debug, info, message, warn, error or fatal"));
    EXPECT_EQ(ctl("log-priority").out, "debug\n");
}

// exposes: `log-priority message` reads back as `info`; Upstart's levels are debug, info,
// message (its default), warn, error and fatal, and `message` is a level of its own.
TEST_F(Tendctl, LogPriorityMessageReadsBackAsMessage) {
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("log-priority", "message").exit_code, 0);
    EXPECT_EQ(ctl("log-priority").out, "message\n");
}

// ---------------------------------------------------------------------------------------------
// stop --all

class TendctlStopAll : public Tendctl {
  protected:
    void startTwenty() {
        for (int i = 1; i <= 20; ++i) {
            writeJob("s" + std::to_string(100 + i), "exec sleep 1000\n");
        }
        ASSERT_TRUE(startTend());
        for (int i = 1; i <= 20; ++i) {
            ASSERT_EQ(ctl("start", "-n", "s" + std::to_string(100 + i)).exit_code, 0);
        }
        ASSERT_TRUE(waitForRunning(20)) << ctl("list").out;
    }
};

TEST_F(TendctlStopAll, StopsEveryJobAndSaysNothingElseWhenPiped) {
    startTwenty();
    const ProcessResult stopped = ctl("stop", "--all");
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
    EXPECT_EQ(stopped.out, "stopped 20 of 20 job instances\n");
    EXPECT_EQ(stopped.err, "");
    const std::string list = ctl("list").out;
    EXPECT_EQ(countOf(list, " stop/waiting\n"), 20u) << list;
    EXPECT_EQ(countOf(list, "start/"), 0u) << list;
}

TEST_F(TendctlStopAll, ShowsProgressOnATerminal) {
    startTwenty();
    // script(1) runs tendctl on a pseudo-terminal and copies what it printed there.
    const std::string command =
        std::string(TENDCTL_BIN) + " --socket " + socketPath() + " stop --all";
    const ProcessResult shown = test::runProcess(
        {"/bin/sh", "-c", "exec script -qec '" + command + "' /dev/null </dev/null"});
    EXPECT_EQ(shown.exit_code, 0) << shown.out << shown.err;
    EXPECT_THAT(shown.out, HasSubstr("stopping"));
    EXPECT_THAT(shown.out, ContainsRegex("[0-9]+/20"));
    EXPECT_THAT(shown.out, HasSubstr("stopped 20 of 20 job instances"));
    EXPECT_EQ(countOf(ctl("list").out, " stop/waiting\n"), 20u);
}

}  // namespace
}  // namespace tend
