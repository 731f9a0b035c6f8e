// SPDX-License-Identifier: MIT
// The plugin host against real plugins (tests/plugins/), loaded by the real tend from a private
// plugins.d: what loads, what is refused and why, dependency order, hot drop, and faults that
// must cost the plugin but never the session.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "support/plugin_fixture.hpp"
#include "tend/plugin/plugin.hpp"

namespace tend::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST_F(TendPlugins, AWellBehavedPluginServesCommandsEventsAndSettings) {
    install("echo");
    std::ofstream(plugins_ / "echo.conf") << "# settings for echo\nsetting prefix >> \n";
    writeJob("watcher", "start on file FILE=/tmp/x EVENT=create\nexec sleep 1000\n");
    writeJob("on-pong", "start on pong WHO=*\ntask\nexec true\n");
    ASSERT_TRUE(startWithPlugins());
    EXPECT_EQ(stateOf("echo").first, "running");
    const ProcessResult list = ctl("plugins");
    EXPECT_THAT(list.out, HasSubstr("echo 1.2.3 running"));
    EXPECT_THAT(tendLog(), HasSubstr("[echo] echo started"));

    const ProcessResult echoed = ctl("echo", "a", "b");
    EXPECT_EQ(echoed.exit_code, 0) << echoed.err;
    EXPECT_EQ(echoed.out, ">>a b\n");
    // The plugin saw the job classes, and what `file` events they wait for.
    EXPECT_EQ(ctl("echo-classes").out, "on-pong watcher file=watcher:/tmp/x\n");

    // An event in, an event out: the plugin answers ping with pong, whose job runs. `emit ping`
    // waits for ping alone; pong is an event of its own, handled after ping's.
    const ProcessResult ping = ctl("emit", "ping", "WHO=me");
    EXPECT_EQ(ping.exit_code, 0) << ping.err;
    EXPECT_TRUE(waitFor(
        [&] { return tendLog().find("on-pong state post-stop -> waiting") != std::string::npos; },
        10s))
        << tendLog();

    // A held event keeps its emitter waiting until the plugin lets go (300 ms).
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(ctl("emit", "hold-me").exit_code, 0);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 280ms);
}

TEST_F(TendPlugins, JobChangesReplayWhatRunsAndReportGoalOnlyChanges) {
    install("echo");
    writeJob("sleeper", "exec sleep 1000\n");
    writeJob("stubborn", "pre-stop exec sh -c 'while [ ! -e " + path("go").string() +
                             " ]; do sleep 0.05; done'\nexec sleep 1000\n");
    ASSERT_TRUE(startWithPlugins());
    ASSERT_EQ(ctl("start", "sleeper").exit_code, 0);
    ASSERT_EQ(ctl("start", "stubborn").exit_code, 0);
    ASSERT_EQ(ctl("echo-watch-jobs").exit_code, 0) << tendLog();
    // What ran before the plugin asked, replayed as it stands.
    EXPECT_THAT(ctl("echo-job-changes").out, HasSubstr("sleeper goal start->start state "
                                                       "running->running"));
    // A stop whose pre-stop hangs: the goal changes, the state stays pre-stop.
    ASSERT_EQ(ctl("stop", "--no-wait", "stubborn").exit_code, 0);
    ASSERT_TRUE(waitFor([&] {
        return ctl("echo-job-changes")
                   .out.find(
                       "stubborn goal start->stop state "
                       "running->running") != std::string::npos;
    })) << ctl("echo-job-changes").out;
    writeFile("go", "");
    EXPECT_EQ(waitForStatus("stubborn", "stop/waiting", 10s), "stubborn stop/waiting\n");
}

TEST_F(TendPlugins, AWritableSocketIsReportedOnceUntilAskedAgainAndReadsKeepComing) {
    install("echo");
    ASSERT_TRUE(startWithPlugins());
    ASSERT_EQ(ctl("echo-fd", "start").exit_code, 0) << tendLog();
    ASSERT_EQ(ctl("echo-fd", "poke").exit_code, 0);
    // The loop has turned many times by the time the poke is read: had Writable been re-armed
    // after each call, it would have been reported over and over.
    ASSERT_TRUE(waitFor([&] { return ctl("echo-fd").out == "writable=1 readable=1\n"; }))
        << ctl("echo-fd").out;
    ASSERT_EQ(ctl("echo-fd", "want-write").exit_code, 0);
    ASSERT_TRUE(waitFor([&] { return ctl("echo-fd").out == "writable=2 readable=1\n"; }))
        << ctl("echo-fd").out;
    ASSERT_EQ(ctl("echo-fd", "poke").exit_code, 0);
    ASSERT_TRUE(waitFor([&] { return ctl("echo-fd").out == "writable=2 readable=2\n"; }))
        << ctl("echo-fd").out;
}

TEST_F(TendPlugins, RefusesWhatItCannotTrustOrRunAndSaysWhy) {
    install("wrong_api");
    install("no_factory");
    install("unmet_dependency");
    install("echo", "world_writable");
    fs::permissions(plugins_ / "world_writable.so", fs::perms(0666));
    std::ofstream(plugins_ / "random.so") << std::string(4096, '\x5a');
    std::ofstream(plugins_ / "tiny.so") << "#!/bin/sh\n";
    {
        // A half-copied plugin: the first 3,000 bytes of a real one.
        std::ifstream whole(fs::path(TEND_TEST_PLUGINS_DIR) / "echo.so", std::ios::binary);
        std::string bytes(3000, '\0');
        whole.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        std::ofstream(plugins_ / "truncated.so", std::ios::binary) << bytes;
    }
    const fs::path marker = root_ / "marker";
    ::setenv("TEND_TEST_MARKER", marker.c_str(), 1);
    const bool started = startWithPlugins();
    ::unsetenv("TEND_TEST_MARKER");
    ASSERT_TRUE(started) << tendLog();

    EXPECT_EQ(stateOf("wrong_api"),
              std::make_pair(std::string("refused"),
                             "refused: built for plugin API 999; this tend speaks " +
                                 std::to_string(tend::plugin::kApiVersion)));
    EXPECT_FALSE(fs::exists(marker)) << "tend ran code of a plugin it refused";
    EXPECT_EQ(stateOf("no_factory").first, "failed");
    EXPECT_THAT(stateOf("no_factory").second, HasSubstr("tend_plugin_factory_v1"));
    EXPECT_EQ(stateOf("unmet_dependency"),
              std::make_pair(std::string("skipped"),
                             std::string("it requires no-such-plugin, which is not running")));
    EXPECT_THAT(stateOf("world_writable").second,
                HasSubstr("group- or world-writable (mode 0666)"));
    EXPECT_THAT(stateOf("random").second, HasSubstr("not an ELF file"));
    EXPECT_THAT(stateOf("tiny").second, HasSubstr("too short"));
    EXPECT_THAT(stateOf("truncated").second, HasSubstr("truncated"));
    // Every refusal is in the log with the file it is about, and tend carries on.
    EXPECT_THAT(tendLog(), HasSubstr("random.so: refused: not a plugin: not an ELF file"));
    EXPECT_EQ(ctl("version").exit_code, 0);
}

TEST_F(TendPlugins, StartsInDependencyOrderAndDisablesByConfiguration) {
    install("needs_echo");  // sorts before echo, but needs it
    install("echo");
    install("idle");
    std::ofstream(plugins_ / "idle.conf") << "disable\n";
    ASSERT_TRUE(startWithPlugins());
    EXPECT_EQ(stateOf("echo").first, "running");
    EXPECT_EQ(stateOf("needs_echo").first, "running") << stateOf("needs_echo").second;
    EXPECT_EQ(stateOf("idle"),
              std::make_pair(std::string("disabled"), std::string("disabled in idle.conf")));
    EXPECT_EQ(ctl("needs-echo").out, "echo is there\n");
    const std::string log = tendLog();
    EXPECT_LT(log.find("plugin echo 1.2.3 started"), log.find("plugin needs_echo 1.0 started"));
}

TEST_F(TendPlugins, PluginsThatRequireEachOtherAreSkippedAndTheRestRun) {
    install("cycle_a");
    install("cycle_b");
    install("echo");
    writeJob("svc", "start on startup\nexec sleep 1000\n");
    ASSERT_TRUE(startWithPlugins());
    EXPECT_EQ(stateOf("cycle_a"),
              std::make_pair(std::string("skipped"),
                             std::string("its requirements form a cycle: cycle_a -> cycle_b -> "
                                         "cycle_a")));
    EXPECT_EQ(stateOf("cycle_b"),
              std::make_pair(std::string("skipped"),
                             std::string("its requirements form a cycle: cycle_b -> cycle_a -> "
                                         "cycle_b")));
    EXPECT_EQ(stateOf("echo").first, "running");
    EXPECT_EQ(ctl("echo", "x").out, "x\n");
    EXPECT_THAT(tendLog(), HasSubstr("plugin cycle_a: skipped: its requirements form a cycle"));
    EXPECT_TRUE(waitFor([&] { return mainPidOf("svc") > 0; }));
}

TEST_F(TendPlugins, DroppingInReplacingAndRemovingAPluginTakeEffectAtOnce) {
    writeJob("svc", "start on startup\nexec sleep 1000\n");
    ASSERT_TRUE(startWithPlugins());
    ASSERT_TRUE(waitFor([&] { return mainPidOf("svc") > 0; }));
    const pid_t svc = mainPidOf("svc");
    EXPECT_EQ(ctl("echo", "x").exit_code, 2);  // nobody serves it yet

    install("echo");
    ASSERT_TRUE(waitFor([&] { return stateOf("echo").first == "running"; }, 3s)) << tendLog();
    EXPECT_EQ(ctl("echo", "x").out, "x\n");

    install("echo");  // a new copy: a new inode, so a restart on the new code
    ASSERT_TRUE(
        waitFor([&] { return countOf(tendLog(), "its file changed; restarting") == 1; }, 3s))
        << tendLog();
    ASSERT_TRUE(waitFor([&] { return stateOf("echo").first == "running"; }, 3s));

    fs::remove(plugins_ / "echo.so");
    ASSERT_TRUE(waitFor([&] { return stateOf("echo").first == "absent"; }, 3s)) << tendLog();
    const ProcessResult gone = ctl("echo", "x");
    EXPECT_EQ(gone.exit_code, 2);
    EXPECT_THAT(gone.err, HasSubstr("unknown command 'echo'"));
    EXPECT_THAT(tendLog(), HasSubstr("[echo] echo stopping"));
    EXPECT_EQ(mainPidOf("svc"), svc);  // the jobs never noticed
}

// A plugin's posted work that never ran (unloaded in the same turn) can still hold an event:
// the emitter is let go, and the host is whole while the hold lets go of it.
TEST_F(TendPlugins, AnEventHeldByWorkThatNeverRanIsLetGoWhenThePluginIsUnloaded) {
    writeJob("svc", "start on startup\nexec sleep 1000\n");
    install("echo");
    ASSERT_TRUE(startWithPlugins());
    ASSERT_TRUE(waitFor([&] { return stateOf("echo").first == "running"; }, 3s)) << tendLog();
    ASSERT_TRUE(waitFor([&] { return mainPidOf("svc") > 0; }));
    const pid_t svc = mainPidOf("svc");

    ProcessResult emitted;
    std::thread emitter([&] { emitted = ctl("emit", "hold-past-stop"); });
    // The emit waits on the hold; the plugin goes while it does.
    const bool held =
        waitFor([&] { return countOf(tendLog(), "holding hold-past-stop") == 1; }, 5s);
    fs::remove(plugins_ / "echo.so");
    emitter.join();
    ASSERT_TRUE(held) << tendLog();
    EXPECT_EQ(emitted.exit_code, 0) << emitted.err;
    ASSERT_TRUE(waitFor([&] { return stateOf("echo").first == "absent"; }, 3s)) << tendLog();
    EXPECT_EQ(mainPidOf("svc"), svc);
    EXPECT_EQ(ctl("emit", "after").exit_code, 0);  // tend goes on
}

// The kernel drops inotify events once a watcher's queue is full and says only that it did.
// A plugin dropped in at such a moment still loads: the overflow makes tend look at every
// plugins.d again.
TEST_F(TendPlugins, APluginDroppedInWhileTheWatchQueueOverflowedStillLoads) {
    ASSERT_TRUE(startWithPlugins());
    ASSERT_TRUE(waitFor([&] { return ctl("plugins").exit_code == 0; }));
    pauseTend();
    overflowInotifyQueue(plugins_);
    install("echo");  // its events come after the overflow: they are lost
    resumeTend();
    ASSERT_TRUE(waitFor([&] { return stateOf("echo").first == "running"; }, 10s)) << tendLog();
    EXPECT_THAT(tendLog(), HasSubstr("the plugin directories' inotify queue overflowed"));
    EXPECT_EQ(ctl("echo", "after", "overflow").out, "after overflow\n");
}

// API 2: a command learns who ran it (and in which job), may answer later, and a command
// that never answers costs the client an error, not a hang.
TEST_F(TendPlugins, ACommandKnowsItsCallerAndMayAnswerLaterOrNotAtAll) {
    install("echo");
    writeJob("inside", "console log\nexec " + std::string(TENDCTL_BIN) + " echo-caller\n");
    ASSERT_TRUE(startWithPlugins());
    ASSERT_TRUE(waitFor([&] { return stateOf("echo").first == "running"; })) << tendLog();

    const ProcessResult outside = ctl("echo-caller");
    EXPECT_THAT(outside.out, HasSubstr("uid=" + std::to_string(::geteuid()) + " pid="));
    EXPECT_THAT(outside.out, HasSubstr(" job= instance= json=no"));
    EXPECT_THAT(outside.out, Not(HasSubstr("pid=0 ")));
    ASSERT_EQ(ctl("start", "inside").exit_code, 0);
    ASSERT_TRUE(waitFor([&] { return readLog("inside").find("job=") != std::string::npos; }));
    EXPECT_THAT(readLog("inside"), HasSubstr(" job=inside instance= json=no"));

    EXPECT_EQ(ctl("echo-later", "x").out, "later x\n");
    const ProcessResult never = ctl("echo-never");
    EXPECT_EQ(never.exit_code, 1);
    EXPECT_THAT(never.err, HasSubstr("plugin echo failed to answer 'echo-never'"));
    EXPECT_EQ(ctl("version").exit_code, 0);
}

TEST_F(TendPlugins, ExpansionFollowsTheGlobalEnvironmentAndTheHomeDirectory) {
    install("echo");
    ASSERT_TRUE(startWithPlugins());
    ASSERT_TRUE(waitFor([&] { return stateOf("echo").first == "running"; })) << tendLog();
    const char* home = std::getenv("HOME");  // tend's global table is this process's environment
    const std::string tilde = home ? home : "";
    const std::string dollar = home ? std::string(home) + "/x" : "(unset)";
    EXPECT_EQ(ctl("echo-expand", "~/Mail/new/*", "$HOME/x", "${NOPE:-fallback}", "$NOPE").out,
              tilde + "/Mail/new/*|" + dollar + "|fallback|(unset)\n");
}

TEST_F(TendPlugins, APluginThatThrowsIsDisabledAndTheJobsKeepRunning) {
    install("throws_in_factory");
    install("throws_in_start");
    install("throws_in_callback");
    writeJob("svc", "start on startup\nexec sleep 1000\n");
    ASSERT_TRUE(startWithPlugins());
    ASSERT_TRUE(waitFor([&] { return mainPidOf("svc") > 0; }));
    const pid_t svc = mainPidOf("svc");
    EXPECT_EQ(stateOf("throws_in_factory").first, "failed");
    EXPECT_THAT(tendLog(), HasSubstr("[throws_in_factory] its factory threw: the factory gave up"));
    EXPECT_EQ(stateOf("throws_in_start").first, "failed");
    EXPECT_THAT(tendLog(), HasSubstr("[throws_in_start] start() threw: start() gave up"));

    ASSERT_EQ(stateOf("throws_in_callback").first, "running");
    EXPECT_EQ(ctl("throws_in_callback").out, "throws_in_callback answers\n");
    EXPECT_EQ(ctl("emit", "fault").exit_code, 0);
    ASSERT_TRUE(waitFor([&] { return stateOf("throws_in_callback").first == "failed"; }));
    EXPECT_THAT(tendLog(),
                HasSubstr("[throws_in_callback] an event callback threw: the callback gave up; "
                          "disabling the plugin"));
    // Its registrations went with it.
    EXPECT_EQ(ctl("throws_in_callback").exit_code, 2);
    EXPECT_EQ(mainPidOf("svc"), svc);
    EXPECT_EQ(ctl("emit", "fault").exit_code, 0);
}

TEST_F(TendPlugins, APluginThatBlocksTheLoopIsReportedThenDisabled) {
    install("slow_callback");
    ASSERT_TRUE(startWithPlugins());
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(ctl("emit", "fault").exit_code, 0);
    }
    EXPECT_THAT(tendLog(),
                HasSubstr("[slow_callback] an event callback blocked tend's event loop"));
    ASSERT_TRUE(waitFor([&] { return stateOf("slow_callback").first == "failed"; }));
    EXPECT_THAT(stateOf("slow_callback").second, HasSubstr("blocked the event loop too often"));
}

// A segfault in a plugin takes tend with it: no in-process host survives that. What must not
// happen is a session whose jobs run on unsupervised forever: the next tend on the same socket
// (the session's launcher starting it again) ends what the crashed one left, then starts the
// jobs afresh.
// A crash that is no plugin's (tend's own, here a SIGSEGV while its loop is in no plugin call)
// takes tend down; the next tend ends what it left behind.
TEST_F(TendPlugins, AfterTendCrashesTheNextTendEndsWhatItLeftBehind) {
    sanitizer_reports_expected_ = true;  // the segfault, which AddressSanitizer may report
    install("echo");
    writeJob("svc", "start on startup\nexec sleep 1000\n");
    ASSERT_TRUE(startWithPlugins());
    ASSERT_TRUE(waitFor([&] { return mainPidOf("svc") > 0; }));
    const pid_t orphan = mainPidOf("svc");
    const pid_t crashed = tendPid();
    ASSERT_EQ(::kill(crashed, SIGSEGV), 0);
    ASSERT_TRUE(waitFor([&] { return !processAlive(crashed); }, 5s)) << "tend survived a segfault?";
    EXPECT_TRUE(processAlive(orphan)) << "the job went with tend: nothing to clean up";

    // A program of the desktop: the launcher exported TEND_SESSION to the whole session, but
    // it is no job of tend's, and the next tend must leave it be.
    pid_t bystander = 0;
    {
        std::vector<std::string> env_storage;
        for (char** e = environ; *e != nullptr; ++e) {
            env_storage.emplace_back(*e);
        }
        env_storage.push_back("TEND_SESSION=" + socketPath());
        std::vector<char*> envp;
        for (auto& e : env_storage) {
            envp.push_back(e.data());
        }
        envp.push_back(nullptr);
        const char* argv[] = {"/bin/sleep", "1000", nullptr};
        ASSERT_EQ(::posix_spawn(&bystander, "/bin/sleep", nullptr, nullptr,
                                const_cast<char* const*>(argv), envp.data()),
                  0);
    }

    ASSERT_TRUE(startWithPlugins()) << tendLog();
    ASSERT_TRUE(waitFor([&] { return !processAlive(orphan); }, 5s))
        << "the crashed tend's job still runs unsupervised";
    EXPECT_THAT(tendLog(), HasSubstr("still running without a tend"));
    EXPECT_THAT(tendLog(), HasSubstr("1 process(es) of this session are still running"));
    int bystander_status = 0;
    EXPECT_EQ(::waitpid(bystander, &bystander_status, WNOHANG), 0)
        << "the next tend ended a program of the desktop that was no job of its";
    ::kill(bystander, SIGKILL);
    ::waitpid(bystander, &bystander_status, 0);
    ASSERT_TRUE(waitFor([&] { return mainPidOf("svc") > 0; }));
    EXPECT_NE(mainPidOf("svc"), orphan);
    EXPECT_EQ(jobProcesses("svc").size(), 1u);  // one svc, not two
}

// A plugin's stanza is checked at its position like any other and reaches the plugin with the
// class. When the plugin goes, the job says what it needs and
// runs on under its last good definition; when the plugin returns, all is as before.
TEST_F(TendPlugins, APluginStanzaIsCheckedCarriedAndItsLossIsShown) {
    install("echo");
    writeJob("greeter", "greeting hello\nstart on startup\nexec sleep 1000\n");
    writeJob("mute", "start on startup\ngreeting nobody\nexec sleep 1000\n");
    ASSERT_TRUE(startWithPlugins());
    ASSERT_TRUE(waitFor([&] { return mainPidOf("greeter") > 0; })) << tendLog();
    const pid_t greeter = mainPidOf("greeter");
    EXPECT_EQ(ctl("echo-greetings").out, "greeter=hello\n");
    EXPECT_THAT(tendLog(), HasSubstr("mute.conf:2:1: greeting: nobody is not a greeting"));
    EXPECT_THAT(ctl("status", "mute").err, HasSubstr("Unknown job: mute"));

    fs::remove(plugins_ / "echo.so");
    ASSERT_TRUE(waitFor(
        [&] {
            return statusOf("greeter").find(
                       "[needs plugin echo; the last good definition is in force]") !=
                   std::string::npos;
        },
        3s))
        << statusOf("greeter") << tendLog();
    EXPECT_THAT(tendLog(), HasSubstr("greeter.conf:1:1: stanza 'greeting' needs plugin "
                                     "echo, which is not loaded"));
    EXPECT_EQ(mainPidOf("greeter"), greeter);
    const json status = json::parse(ctl("--json", "status", "greeter").out, nullptr, false);
    EXPECT_THAT(status.dump(), HasSubstr("needs plugin echo"));

    install("echo");
    ASSERT_TRUE(waitFor([&] { return statusOf("greeter").find("[") == std::string::npos; }, 3s))
        << statusOf("greeter") << tendLog();
    EXPECT_EQ(ctl("echo-greetings").out, "greeter=hello\n");
    EXPECT_EQ(mainPidOf("greeter"), greeter);
}

// A plugin that keeps its stanza's registration past its own end: when it is removed, the host
// retires the stanza itself, so no job file is ever checked by code that has been unloaded.
TEST_F(TendPlugins, AStanzaWhosePluginLeftItBehindIsRetiredWithThePlugin) {
    sanitizer_reports_expected_ = true;  // the plugin leaks the registration it keeps
    install("keeps_stanza");
    writeJob("wise", "motto carpe\nstart on startup\nexec sleep 1000\n");
    ASSERT_TRUE(startWithPlugins());
    ASSERT_TRUE(waitFor([&] { return mainPidOf("wise") > 0; })) << tendLog();
    const pid_t wise = mainPidOf("wise");

    fs::remove(plugins_ / "keeps_stanza.so");
    ASSERT_TRUE(waitFor(
        [&] {
            return statusOf("wise").find(
                       "[needs plugin keeps_stanza; the last good definition "
                       "is in force]") != std::string::npos;
        },
        3s * kSanitizerSlowdown))
        << statusOf("wise") << tendLog();
    // Reading the file again, as an edit makes tend do, finds no check to call.
    writeJob("wise", "motto carpe diem\nstart on startup\nexec sleep 1000\n");
    ASSERT_TRUE(waitFor(
        [&] {
            return countOf(tendLog(),
                           "stanza 'motto' needs plugin keeps_stanza, which is not "
                           "loaded") >= 2;
        },
        3s * kSanitizerSlowdown))
        << tendLog();
    EXPECT_EQ(mainPidOf("wise"), wise);
    EXPECT_EQ(ctl("version").exit_code, 0);
    if (kSanitizerSlowdown > 1) {
        // The sanitizer build's canary for leaks in tend's own process: this one is found when
        // tend exits, so one of tend's own would be too (every test fails on such a report).
        ASSERT_TRUE(stopTend().has_value());
        EXPECT_THAT(sanitizerReports(), HasSubstr("LeakSanitizer: detected memory leaks"));
    }
}

// check-config through a running tend knows the stanzas its plugins add and runs their checks;
// offline, the same stanza is unknown, and tendctl says why.
TEST_F(TendPlugins, CheckConfigThroughTendKnowsItsPluginsStanzas) {
    install("echo");
    writeJob("greeter", "greeting hello\nstart on startup\nexec sleep 1000\n");
    ASSERT_TRUE(startWithPlugins());
    const fs::path drafts = root_ / "drafts";
    fs::create_directories(drafts);
    std::ofstream(drafts / "new.conf") << "start on started greeter\ngreeting nobody\nexec true\n";

    const ProcessResult session = ctl("check-config");
    EXPECT_EQ(session.exit_code, 0) << session.err;
    EXPECT_EQ(session.err, "1 job file checked: no errors\n");

    // tend's own search path is the session around the draft: `started greeter` is known.
    const ProcessResult draft = ctl("check-config", (drafts / "new.conf").string());
    EXPECT_EQ(draft.exit_code, 1);
    EXPECT_EQ(draft.err, (drafts / "new.conf").string() +
                             ":2:1: error: greeting: nobody is not a greeting\n"
                             "    greeting nobody\n"
                             "    ^\n"
                             "1 job file checked: 1 error in 1 of them\n");

    // A relative path is the caller's, and is shown as given.
    const ProcessResult relative = runProcess(
        {"/bin/sh", "-c", "cd \"$1\" && exec \"$2\" --socket \"$3\" check-config new.conf", "sh",
         drafts.string(), TENDCTL_BIN, socketPath()});
    EXPECT_EQ(relative.exit_code, 1);
    EXPECT_THAT(relative.err, ::testing::StartsWith("new.conf:2:1: error: greeting:"));

    const json report =
        json::parse(ctl("--json", "check-config", drafts.string()).out, nullptr, false);
    ASSERT_TRUE(report.is_object());
    EXPECT_EQ(report.value("errors", -1), 1);
    EXPECT_EQ(report["findings"][0].value("line", 0), 2);

    const ProcessResult offline = ctl("check-config", "--offline", (drafts / "new.conf").string());
    EXPECT_EQ(offline.exit_code, 1);
    EXPECT_THAT(offline.err, HasSubstr("new.conf:2:1: error: unknown stanza 'greeting'"));
    EXPECT_THAT(offline.err, HasSubstr("note: checked without a running tend, so stanzas that "
                                       "plugins add are unknown here\n"));

    // The check reads files; tend's own jobs go on as they were.
    EXPECT_THAT(statusOf("greeter"), HasSubstr("start/running"));
}

// An output sink gets every line a job writes, and from which stream, each stream in order; the
// job's log file still gets them all too.
TEST_F(TendPlugins, AnOutputSinkSeesEveryLineAndItsStreamAndTheLogKeepsThem) {
    install("echo");
    writeJob("talker",
             "start on startup\ntask\nscript\n  for i in $(seq 1 500); do echo \"line $i\"; done\n"
             "  echo to-stderr >&2\n  printf 'no newline'\nend script\n");
    ASSERT_TRUE(startWithPlugins());
    std::string seen;
    ASSERT_TRUE(waitFor(
        [&] {
            seen = ctl("echo-streams", "talker").out;
            return seen.find("no newline") != std::string::npos &&
                   seen.find("to-stderr") != std::string::npos;
        },
        5s))
        << seen << tendLog();
    // The plugin keeps the last 100 lines; stderr's may come anywhere among stdout's.
    std::string stdout_lines;
    std::string stderr_lines;
    std::istringstream tagged(seen);
    for (std::string line; std::getline(tagged, line);) {
        (line.starts_with("2") ? stderr_lines : stdout_lines) += line + "\n";
    }
    EXPECT_EQ(stderr_lines, "2 9 to-stderr\n");
    EXPECT_THAT(stdout_lines, HasSubstr("1 8 line 499\n1 8 line 500\n1 10 no newline\n"));
    const std::string file = readLog("talker");
    EXPECT_THAT(file, HasSubstr("line 1\nline 2\n"));
    EXPECT_THAT(file, HasSubstr("line 500\n"));
    EXPECT_THAT(file, HasSubstr("\nto-stderr\n"));
    EXPECT_THAT(file, HasSubstr("\nno newline\n"));

    // Without the plugin, output goes on to the file alone.
    fs::remove(plugins_ / "echo.so");
    ASSERT_TRUE(waitFor([&] { return stateOf("echo").first == "absent"; }, 3s));
    EXPECT_EQ(ctl("start", "talker").exit_code, 0);
    ASSERT_TRUE(waitFor([&] { return countOf(readLog("talker"), "no newline") == 2; }, 3s));
}

// A line over 64 KiB reaches the sinks in pieces that say they go on, and the file whole.
TEST_F(TendPlugins, ALineOver64KiBReachesSinksInPiecesAndTheFileWhole) {
    install("echo");
    // Half the line, then (once tend has written a piece of it to the file) the rest: the line
    // reaches tend in two reads whatever the machine's speed. tend writes a piece once over
    // 64 KiB of the line wait, and may keep the rest of the first half back, so the script waits
    // for the file to have anything at all, not for the whole first half.
    const std::string half = "head -c 100000 /dev/zero | tr '\\0' a\n";
    writeJob("long", "start on startup\ntask\nscript\n  " + half + "  until [ \"$(stat -c %s " +
                         logPath("long").string() +
                         " 2>/dev/null || echo 0)\" -gt 0 ]; do sleep 0.01; done\n  " + half +
                         "  echo\n  echo after\nend script\n");
    ASSERT_TRUE(startWithPlugins());
    std::string seen;
    ASSERT_TRUE(waitFor(
        [&] {
            seen = ctl("echo-streams", "long").out;
            return seen.find(" after") != std::string::npos;
        },
        5s * kSanitizerSlowdown))
        << seen << tendLog();
    std::size_t total = 0;
    int pieces = 0;
    std::istringstream tagged(seen);
    std::string last;
    for (std::string line; std::getline(tagged, line) && !line.ends_with(" after");) {
        ASSERT_TRUE(line.starts_with("1")) << line;
        total += std::stoul(line.substr(2));
        ++pieces;
        last = line;
    }
    EXPECT_EQ(total, 200000u);
    EXPECT_GE(pieces, 2);
    EXPECT_EQ(last.substr(0, 2), "1 ") << "the last piece ends the line";
    EXPECT_EQ(countOf(seen, "1+"), static_cast<std::size_t>(pieces - 1)) << seen;
    EXPECT_THAT(readLog("long"), HasSubstr(std::string(200000, 'a') + "\nafter\n"));
}

// `console journal` output goes to a carrier instead of the file while one is there; without
// one, or when the carrier gives lines back, the file has them.
TEST_F(TendPlugins, ACarrierTakesConsoleJournalOutputAndTheFileIsItsFallback) {
    install("echo");
    std::ofstream(plugins_ / "echo.conf") << "setting carry journal\n";
    writeJob("carried", "console journal\ntask\nexec echo carried-line\n");
    writeJob("plain", "task\nexec echo plain-line\n");
    ASSERT_TRUE(startWithPlugins());
    ASSERT_EQ(ctl("start", "carried").exit_code, 0);
    ASSERT_EQ(ctl("start", "plain").exit_code, 0);
    ASSERT_TRUE(waitFor(
        [&] {
            return ctl("echo-streams", "carried").out == "1 12 carried-line carried\n" &&
                   ctl("echo-streams", "plain").out == "1 10 plain-line\n";
        },
        5s))
        << ctl("echo-streams", "carried").out << tendLog();
    EXPECT_EQ(readLog("plain"), "plain-line\n");
    EXPECT_FALSE(fs::exists(logPath("carried"))) << readLog("carried");
    const ProcessResult log = ctl("log", "carried");
    EXPECT_EQ(log.exit_code, 1);
    EXPECT_THAT(log.err, HasSubstr("carried sends its output to the journal (console journal): "
                                   "journalctl TEND_JOB=carried shows it"));

    // A new configuration restarts the plugin.
    const auto reconfigure = [&](const std::string& conf) {
        const std::string restarted = "plugin echo: its configuration changed; restarting";
        const std::size_t before = countOf(tendLog(), restarted);
        if (conf.empty()) {
            fs::remove(plugins_ / "echo.conf");
        } else {
            std::ofstream(plugins_ / "echo.conf") << conf;
        }
        return waitFor(
            [&] {
                return countOf(tendLog(), restarted) > before && stateOf("echo").first == "running";
            },
            5s);
    };
    // A carrier that gives the lines back: they are in the file.
    ASSERT_TRUE(reconfigure("setting carry journal\nsetting carry-give-back yes\n")) << tendLog();
    ASSERT_EQ(ctl("start", "carried").exit_code, 0);
    ASSERT_TRUE(waitFor([&] { return readLog("carried") == "carried-line\n"; }, 5s)) << tendLog();

    // No carrier: the file, and the sinks see the lines as the file's.
    ASSERT_TRUE(reconfigure("")) << tendLog();
    ASSERT_EQ(ctl("start", "carried").exit_code, 0);
    ASSERT_TRUE(waitFor([&] { return readLog("carried") == "carried-line\ncarried-line\n"; }, 5s))
        << tendLog();
    EXPECT_EQ(ctl("echo-streams", "carried").out, "1 12 carried-line\n");

    // `setting carry default`: jobs without a console stanza are carried too.
    ASSERT_TRUE(reconfigure("setting carry default\n")) << tendLog();
    ASSERT_EQ(ctl("start", "plain").exit_code, 0);
    ASSERT_TRUE(waitFor(
        [&] { return ctl("echo-streams", "plain").out == "1 10 plain-line carried\n"; }, 5s))
        << ctl("echo-streams", "plain").out;
    EXPECT_EQ(readLog("plain"), "plain-line\n");
}

// A sink that falls behind the job's output: past the host's bound (8 MiB waiting for the
// sinks) lines are not passed on but counted in tend's log. Every line is in the job's log, and
// every line either reached the sink or was counted.
TEST_F(TendPlugins, ASinkThatFallsBehindMissesLinesThatAreCountedAndTheLogHasThemAll) {
    install("echo");
    const fs::path release = root_ / "release-the-sink";
    std::ofstream(plugins_ / "echo.conf") << "setting sink-hold-file " << release.string() << "\n";
    constexpr std::size_t kLines = 300000;  // 100 bytes each: 30 MB, over 3x the bound
    const std::string line = std::string(99, '0') + "\n";
    writeJob("flood", "start on startup\ntask\nscript\n  yes \"$(printf '%099d' 0)\" | head -n " +
                          std::to_string(kLines) + "\nend script\n");
    ASSERT_TRUE(startWithPlugins());
    // The sink holds tend's loop on its first batch; the log router is not held.
    ASSERT_TRUE(waitFor([&] { return countOf(readLog("flood"), line) == kLines; },
                        10s * kSanitizerSlowdown));
    std::ofstream(release) << "go\n";

    const auto missed = [&] {
        std::size_t total = 0;
        const std::string log = tendLog();
        const std::string marker = "output sinks fell behind: ";
        for (auto at = log.find(marker); at != std::string::npos; at = log.find(marker, at + 1)) {
            total += std::stoul(log.substr(at + marker.size()));
        }
        return total;
    };
    const auto seen = [&] { return std::stoul("0" + ctl("echo-output-count", "flood").out); };
    ASSERT_TRUE(waitFor([&] { return seen() + missed() == kLines; }, 10s * kSanitizerSlowdown))
        << "seen " << seen() << ", missed " << missed() << "\n"
        << tendLog();
    EXPECT_GT(missed(), 0u);
    EXPECT_GT(seen(), 0u);
    std::string last_hundred;
    for (int i = 0; i < 100; ++i) {
        last_hundred += line;
    }
    EXPECT_EQ(ctl("echo-output", "flood").out, last_hundred);
    EXPECT_EQ(stateOf("echo").first, "running");
    EXPECT_THAT(statusOf("flood"), HasSubstr("stop/waiting"));
}

TEST_F(TendPlugins, AnUntrustedDirectoryIsRefusedWhole) {
    install("echo");
    fs::permissions(plugins_, fs::perms(0777));
    ASSERT_TRUE(startWithPlugins());
    EXPECT_EQ(stateOf("echo").first, "refused");
    EXPECT_THAT(stateOf("echo").second, HasSubstr("plugins.d is group- or world-writable"));
    fs::permissions(plugins_, fs::perms(0755));
}

}  // namespace
}  // namespace tend::test
