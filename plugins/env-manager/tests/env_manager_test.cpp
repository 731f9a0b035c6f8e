// SPDX-License-Identifier: MIT
// env-manager against the real daemon: the env commands from a terminal and from inside jobs'
// processes, as initctl had them, the imapfilter scenario's DBUS_SESSION_BUS_ADDRESS, bad input
// that changes nothing, and a table that outlives the plugin.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "env_manager_fixture.hpp"

namespace tend::test {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
namespace fs = std::filesystem;

// The imapfilter scenario: the dbus job says where the bus is, and the job that starts after
// it inherits that.
TEST_F(EnvManager, SetEnvGlobalInAPostStartReachesTheJobsStartedAfterIt) {
    writeJob("dbus", "post-start exec " + tendctl_ +
                         " set-env --global DBUS_SESSION_BUS_ADDRESS=unix:path=/run/bus-1\n"
                         "exec sleep 1000\n");
    writeJob("imapfilter",
             "start on started dbus\nconsole log\n"
             "exec sh -c 'echo \"bus=$DBUS_SESSION_BUS_ADDRESS\"; exec sleep 1000'\n");
    ASSERT_TRUE(startWithPlugin());
    ASSERT_EQ(ctl("start", "dbus").exit_code, 0) << tendLog();
    ASSERT_TRUE(waitFor([&] { return readLog("imapfilter").find("bus=") != std::string::npos; }))
        << tendLog();
    EXPECT_EQ(readLog("imapfilter"), "bus=unix:path=/run/bus-1\n");
    EXPECT_EQ(ctl("get-env", "DBUS_SESSION_BUS_ADDRESS").out, "unix:path=/run/bus-1\n");
}

TEST_F(EnvManager, SetEnvInAPreStartReachesItsOwnMainProcessAndNoOtherJob) {
    writeJob("own", "pre-start exec " + tendctl_ +
                        " set-env FROM_PRE_START=yes\nconsole log\n"
                        "exec sh -c 'echo \"own=${FROM_PRE_START:-unset}\"; exec sleep 1000'\n");
    writeJob("other",
             "console log\n"
             "exec sh -c 'echo \"other=${FROM_PRE_START:-unset}\"; exec sleep 1000'\n");
    ASSERT_TRUE(startWithPlugin());
    ASSERT_EQ(ctl("start", "own").exit_code, 0) << tendLog();
    ASSERT_EQ(ctl("start", "other").exit_code, 0) << tendLog();
    ASSERT_TRUE(waitFor([&] { return !readLog("own").empty() && !readLog("other").empty(); }));
    EXPECT_EQ(readLog("own"), "own=yes\n");
    EXPECT_EQ(readLog("other"), "other=unset\n");
    const ProcessResult global = ctl("get-env", "FROM_PRE_START");
    EXPECT_EQ(global.exit_code, 1);
    EXPECT_THAT(global.err, HasSubstr("No such variable: FROM_PRE_START"));
}

TEST_F(EnvManager, ListGetUnsetRetainAndResetFollowInitctl) {
    ASSERT_TRUE(startWithPlugin());
    // The JSON form: an inherited value may hold a newline, which the text form cannot show.
    const auto listed_env = [&] { return globalEnv(); };
    const auto imported = listed_env();
    ASSERT_FALSE(imported.empty());
    EXPECT_TRUE(std::is_sorted(imported.begin(), imported.end(),
                               [](const std::string& a, const std::string& b) {
                                   return std::strcoll(a.c_str(), b.c_str()) < 0;
                               }));
    EXPECT_TRUE(std::any_of(imported.begin(), imported.end(),
                            [](const std::string& line) { return line.starts_with("PATH="); }));

    ASSERT_EQ(ctl("set-env", "KEEP=first", "EMPTY").exit_code, 0);
    ASSERT_EQ(ctl("set-env", "--retain", "KEEP=second").exit_code, 0);
    EXPECT_EQ(ctl("get-env", "KEEP").out, "first\n");
    const json empty = json::parse(ctl("--json", "get-env", "EMPTY").out, nullptr, false);
    EXPECT_EQ(empty.value("value", "absent"), "");
    const json listed = json::parse(ctl("--json", "list-env").out, nullptr, false);
    ASSERT_TRUE(listed.is_object()) << ctl("--json", "list-env").out;
    EXPECT_EQ(listed["scope"], "global");
    EXPECT_EQ(listed["env"].size(), imported.size() + 2);

    ASSERT_EQ(ctl("unset-env", "KEEP").exit_code, 0);
    const ProcessResult again = ctl("unset-env", "KEEP");
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_THAT(again.err, HasSubstr("No such variable: KEEP"));
    const ProcessResult missing = ctl("get-env");
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_THAT(missing.err, HasSubstr("missing variable name"));

    ASSERT_EQ(ctl("reset-env", "--global").exit_code, 0);
    EXPECT_EQ(listed_env(), imported);
}

TEST_F(EnvManager, BadInputGetsAClearErrorAndLeavesTheTableAsItWas) {
    // A running job's own table takes a global set-env too: its post-stop shows what it holds.
    writeJob("running",
             "console log\nexec sleep 1000\n"
             "post-stop exec sh -c 'echo \"GOOD=${GOOD:-unset}\"'\n");
    ASSERT_TRUE(startWithPlugin());
    ASSERT_EQ(ctl("start", "running").exit_code, 0);
    const std::string before = ctl("list-env").out;
    const auto refused = [&](std::vector<std::string> args, const std::string& why) {
        args.insert(args.begin(), "set-env");
        const ProcessResult result = ctlArgs(args);
        EXPECT_EQ(result.exit_code, 1) << why;
        EXPECT_THAT(result.err, HasSubstr(why));
        EXPECT_EQ(ctl("list-env").out, before) << why;
    };
    refused({"GOOD=1", "BAD NAME=1"}, "invalid variable name 'BAD NAME'");
    refused({"GOOD=1", "1ST=x"}, "invalid variable name '1ST'");
    refused({"GOOD=1", "LINES=a\nb"}, "the value of LINES holds a NUL or a newline");
    refused({"GOOD=1", "HUGE=" + std::string(100 * 1024, 'x')},
            "the value of HUGE is 102400 bytes; the limit is 65536");
    std::vector<std::string> many;
    for (int i = 0; i < 10000; ++i) {
        many.push_back("MANY_" + std::to_string(i) + "=1");
    }
    refused(many, "would pass the limit of 4096");
    const ProcessResult option = ctl("set-env", "--bogus", "X=1");
    EXPECT_EQ(option.exit_code, 1);
    EXPECT_THAT(option.err, HasSubstr("set-env: unknown option '--bogus'"));
    EXPECT_EQ(ctl("version").exit_code, 0);  // and tend goes on
    ASSERT_EQ(ctl("stop", "running").exit_code, 0);
    // The log router writes on its own thread: the line comes a moment after the stop.
    ASSERT_TRUE(waitFor([&] { return !readLog("running").empty(); })) << tendLog();
    EXPECT_EQ(readLog("running"), "GOOD=unset\n");
}

TEST_F(EnvManager, TheTableOutlivesThePlugin) {
    writeJob("later", "console log\nexec sh -c 'echo \"later=$SET_BEFORE\"; exec sleep 1000'\n");
    ASSERT_TRUE(startWithPlugin());
    ASSERT_EQ(ctl("set-env", "SET_BEFORE=kept").exit_code, 0);
    fs::remove(plugins_ / "env-manager.so");
    ASSERT_TRUE(waitFor([&] { return ctl("get-env", "SET_BEFORE").exit_code == 2; }))
        << tendLog();  // unknown command: the plugin has gone
    ASSERT_EQ(ctl("start", "later").exit_code, 0);
    ASSERT_TRUE(waitFor([&] { return !readLog("later").empty(); }));
    EXPECT_EQ(readLog("later"), "later=kept\n");
    install();
    ASSERT_TRUE(waitFor([&] { return ctl("get-env", "SET_BEFORE").out == "kept\n"; })) << tendLog();
}

// The user turns off a plugin installed system-wide with a .conf of their own: tend reads a
// plugin's .conf from the first plugins.d that has one.
TEST_F(EnvManager, TheUsersOwnConfTurnsItOff) {
    const fs::path user = makePluginsDir("user-plugins.d");
    std::ofstream(user / "env-manager.conf") << "# not for this session\ndisable\n";
    ASSERT_TRUE(startTend(
        {"/bin/sh", "-c",
         "exec \"$@\" --plugins-dir " + user.string() + " --plugins-dir " + plugins_.string(),
         "sh"}));
    const ProcessResult listed = ctl("plugins");
    EXPECT_THAT(listed.out, HasSubstr("env-manager 1.0 disabled: disabled in env-manager.conf"));
    EXPECT_EQ(ctl("list-env").exit_code, 2);  // nobody serves it
}

}  // namespace
}  // namespace tend::test
