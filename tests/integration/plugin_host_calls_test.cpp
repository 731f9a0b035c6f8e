// SPDX-License-Identifier: MIT
// What a plugin can ask of tend as a whole, against the real daemon and real jobs: control
// commands through the same command table as tendctl, the instances there are, job changes that
// say how the main process ended and why an instance failed, and tend's own log.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "support/daemon_fixture.hpp"

namespace tend::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using json = nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

class PluginHostCalls : public TendDaemonTest {
  protected:
    void SetUp() override {
        TendDaemonTest::SetUp();
        plugins_ = makePluginsDir();
        installPlugin(fs::path(TEND_TEST_PLUGINS_DIR) / "controller.so", plugins_, "controller");
        installPlugin(fs::path(TEND_PLUGINS_DIR) / "env-manager.so", plugins_, "env-manager");
    }

    ::testing::AssertionResult startWithController() {
        return startTend({"/bin/sh", "-c", "exec \"$@\" --plugins-dir " + plugins_.string(), "sh"});
    }

    // The plugin's reply to a control command: ok or error, the text, and the JSON.
    struct PluginReply {
        bool ok = false;
        std::string text;
        json data;
    };
    PluginReply run(const std::vector<std::string>& command) {
        std::vector<std::string> args{"ctl-run"};
        args.insert(args.end(), command.begin(), command.end());
        const ProcessResult result = ctlArgs(args);
        PluginReply reply;
        const auto first = result.out.find('\n');
        const auto last = result.out.rfind('\n', result.out.size() - 2);
        if (result.exit_code != 0 || first == std::string::npos || last <= first) {
            ADD_FAILURE() << "ctl-run failed: " << result.out << result.err;
            return reply;
        }
        reply.ok = result.out.substr(0, first) == "ok";
        reply.text = result.out.substr(first + 1, last - first - 1);
        reply.data = json::parse(result.out.substr(last + 1), nullptr, false);
        return reply;
    }

    fs::path plugins_;
};

TEST_F(PluginHostCalls, AControlCommandFromAPluginGetsWhatTendctlGets) {
    writeJob("svc", "exec sleep 1000\n");
    writeJob("on-go", "start on go\ntask\nexec true\n");
    ASSERT_TRUE(startWithController());

    const PluginReply started = run({"start", "svc"});
    EXPECT_TRUE(started.ok);
    const pid_t pid = mainPidOf("svc");
    ASSERT_GT(pid, 0);
    EXPECT_EQ(started.text, "svc start/running, process " + std::to_string(pid));

    // The same command, the same answer: text and JSON.
    const PluginReply status = run({"status", "svc"});
    EXPECT_EQ(status.text + "\n", ctl("status", "svc").out);
    EXPECT_EQ(status.data, json::parse(ctl("--json", "status", "svc").out)) << status.data.dump();
    const PluginReply list = run({"list"});
    EXPECT_EQ(list.text + "\n", ctl("list").out);

    // An event, waited for as `tendctl emit` waits.
    EXPECT_TRUE(run({"emit", "go"}).ok);
    EXPECT_THAT(tendLog(), HasSubstr("on-go state"));
    // --no-wait returns before the job has stopped.
    EXPECT_TRUE(run({"--no-wait", "stop", "svc"}).ok);
    ASSERT_TRUE(waitFor([&] { return ctl("status", "svc").out == "svc stop/waiting\n"; }));

    // Errors carry tendctl's text and code; a command that streams is refused.
    const PluginReply unknown = run({"start", "nosuch"});
    EXPECT_FALSE(unknown.ok);
    EXPECT_EQ(unknown.text, "Unknown job: nosuch");
    EXPECT_EQ(unknown.data.value("code", ""), "unknown-job");
    const PluginReply monitor = run({"monitor"});
    EXPECT_FALSE(monitor.ok);
    EXPECT_THAT(monitor.text, HasSubstr("streams"));
    // Another plugin's command goes through the same table: env-manager's set-env.
    EXPECT_TRUE(run({"set-env", "--global", "FROM_PLUGIN=1"}).ok);
    EXPECT_EQ(ctl("get-env", "--global", "FROM_PLUGIN").out, "1\n");
}

TEST_F(PluginHostCalls, InstancesAndJobChangesSayHowTheMainProcessEndedAndWhyItFailed) {
    writeJob("svc", "respawn\nexec sleep 1000\n");
    writeJob("crasher", "respawn\nrespawn limit 2 60\nexec sh -c 'exit 3'\n");
    ASSERT_TRUE(startWithController());
    ASSERT_EQ(ctl("start", "svc").exit_code, 0);
    const pid_t first = mainPidOf("svc");
    ASSERT_GT(first, 0);
    EXPECT_EQ(ctl("ctl-instances").out, "svc () start/running pid=" + std::to_string(first) +
                                            " respawns=0 exit= code=-1 failed=no\n");

    // Killed: respawned, and the snapshot says how the last one ended.
    ASSERT_EQ(::kill(first, SIGKILL), 0);
    ASSERT_TRUE(waitFor([&] {
        const pid_t now = mainPidOf("svc");
        return now > 0 && now != first;
    }));
    EXPECT_THAT(ctl("ctl-instances").out,
                HasSubstr("svc () start/running pid=" + std::to_string(mainPidOf("svc")) +
                          " respawns=1 exit=killed by KILL signal code=-1 failed=no"));

    // Past its respawn limit: the changes say it failed, and why.
    ctl("start", "crasher");
    ASSERT_TRUE(waitFor([&] {
        return ctl("ctl-changes")
                   .out.find(
                       "crasher waiting exit=terminated with status 3 code=3 "
                       "failed=yes: ") != std::string::npos;
    })) << ctl("ctl-changes").out;
    EXPECT_THAT(ctl("ctl-changes").out, HasSubstr("respawning too fast"));
    EXPECT_THAT(ctl("ctl-changes").out, HasSubstr("svc running exit= code=-1 failed=no"));
}

TEST_F(PluginHostCalls, TendsOwnLogReachesALogSinkWithItsLevel) {
    ASSERT_TRUE(startWithController());
    ASSERT_EQ(ctl("emit", "feed-me").exit_code, 0);
    ASSERT_EQ(ctl("start", "nosuch").exit_code, 1);
    ASSERT_TRUE(waitFor([&] {
        return ctl("ctl-log").out.find("0 handling event feed-me") != std::string::npos;
    })) << ctl("ctl-log").out;
    // What the sink logs itself goes to tend's log, once, and not back into the sink.
    ASSERT_TRUE(waitFor([&] { return countOf(tendLog(), "fed back by the log sink") == 1; }))
        << tendLog();
    EXPECT_THAT(ctl("ctl-log").out, Not(HasSubstr("fed back")));
    // Levels: 0 debug, 1 info, 2 warning, 3 error.
    writeJob("broken", "exce nothing\n");
    ASSERT_EQ(ctl("reload-configuration").exit_code, 0);
    ASSERT_TRUE(waitFor([&] {
        return ctl("ctl-log").out.find("3 " + (path("jobs") / "broken.conf").string() +
                                       ":1:1: unknown stanza 'exce'") != std::string::npos;
    })) << ctl("ctl-log").out;
    EXPECT_THAT(ctl("ctl-log").out, HasSubstr("1 loaded 0 job(s) from 1 directory"));
}

}  // namespace
}  // namespace tend::test
