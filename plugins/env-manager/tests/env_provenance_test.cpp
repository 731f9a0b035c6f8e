// SPDX-License-Identifier: MIT
// `tendctl env explain` and `tendctl env diff`, and the stale-environment note of status and
// list, against the real daemon: a bus that moves under a running job.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "env_manager_fixture.hpp"

namespace tend::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using json = nlohmann::json;

std::string secondLine(const std::string& text) {
    const auto first = text.find('\n');
    if (first == std::string::npos) {
        return "";
    }
    return text.substr(first + 1, text.find('\n', first + 1) - first - 1);
}

TEST_F(EnvManager, ExplainSaysWhereEachValueCameFrom) {
    writeEnvFile("10-desktop.conf", "# the desktop\nGTK_THEME=Adwaita\n");
    writeJob("dbus", "post-start exec " + tendctl_ +
                         " set-env --global DBUS_SESSION_BUS_ADDRESS=unix:path=/run/bus-1\n"
                         "exec sleep 1000\n");
    writeJob("styled", "env STYLE=plain\nexec sleep 1000\n");
    writeJob("coloured", "start on paint\nexec sleep 1000\n");
    ASSERT_TRUE(startWithPlugin({"DISPLAY=:7"}));
    ASSERT_EQ(ctl("start", "dbus").exit_code, 0) << tendLog();
    ASSERT_EQ(ctl("start", "styled").exit_code, 0) << tendLog();
    ASSERT_EQ(ctl("emit", "paint", "COLOUR=red").exit_code, 0) << tendLog();
    ASSERT_EQ(ctl("set-env", "BY_HAND=1").exit_code, 0);

    const ProcessResult display = ctl("env", "explain", "DISPLAY");
    EXPECT_EQ(display.exit_code, 0) << display.err;
    EXPECT_EQ(display.out,
              "DISPLAY=:7\n  imported from tend's own environment (the session's), at start\n");
    EXPECT_THAT(secondLine(ctl("env", "explain", "GTK_THEME").out),
                StartsWith("  from the environment.d file " +
                           (envDir() / "10-desktop.conf").string() + ":2, at "));
    EXPECT_THAT(secondLine(ctl("env", "explain", "DBUS_SESSION_BUS_ADDRESS").out),
                StartsWith("  from set-env --global, run by job dbus (pid "));
    EXPECT_THAT(secondLine(ctl("env", "explain", "BY_HAND").out),
                StartsWith("  from set-env, run outside any job (pid "));
    EXPECT_EQ(secondLine(ctl("env", "explain", "STYLE", "styled").out),
              "  from the job's env stanza: env STYLE=plain");
    EXPECT_THAT(secondLine(ctl("env", "explain", "COLOUR", "coloured").out),
                StartsWith("  from the event 'paint' that started the job"));
    // A job's own table has the global variables too, with their origins.
    EXPECT_EQ(secondLine(ctl("env", "explain", "DISPLAY", "styled").out),
              "  imported from tend's own environment (the session's), at start");

    const json origin = json::parse(ctl("--json", "env", "explain", "DBUS_SESSION_BUS_ADDRESS").out,
                                    nullptr, false);
    ASSERT_TRUE(origin.is_object());
    EXPECT_EQ(origin["value"], "unix:path=/run/bus-1");
    EXPECT_EQ(origin["origin"]["kind"], "set-env");
    EXPECT_EQ(origin["origin"]["job"], "dbus");
    EXPECT_GT(origin["origin"].value("pid", 0), 0);

    const ProcessResult unknown = ctl("env", "explain", "NOT_THERE");
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_THAT(unknown.err, HasSubstr("No such variable: NOT_THERE"));
    const ProcessResult not_running = ctl("env", "explain", "DISPLAY", "coloured", "other");
    EXPECT_EQ(not_running.exit_code, 1);
    EXPECT_THAT(not_running.err, HasSubstr("no running instance of coloured (other)"));
    const ProcessResult usage = ctl("env", "frobnicate");
    EXPECT_EQ(usage.exit_code, 1);
    EXPECT_THAT(usage.err, HasSubstr("usage: tendctl env explain VAR [JOB [INSTANCE]]"));
}

// The seed session: dbus announces the bus from its post-start, imapfilter starts after it.
// Neither runs with a stale environment, so list prints initctl's lines; a job that was
// already running when the bus appeared does, until it is restarted.
TEST_F(EnvManager, AJobStartedBeforeTheBusMovedRunsWithAStaleEnvironment) {
    writeJob("dbus", "post-start exec " + tendctl_ +
                         " set-env --global DBUS_SESSION_BUS_ADDRESS=unix:path=/run/bus-1\n"
                         "exec sleep 1000\n");
    writeJob("imapfilter", "start on started dbus\nexec sleep 1000\n");
    writeJob("early",
             "console log\n"
             "exec sh -c 'echo \"bus=${DBUS_SESSION_BUS_ADDRESS:-none}\"; "
             "exec sleep 1000'\n");
    writeJob("pinned", "env DBUS_SESSION_BUS_ADDRESS=unix:path=/pinned\nexec sleep 1000\n");
    ASSERT_TRUE(startWithPlugin());
    ASSERT_EQ(ctl("start", "early").exit_code, 0) << tendLog();
    ASSERT_EQ(ctl("start", "pinned").exit_code, 0) << tendLog();
    const pid_t early = mainPidOf("early");
    EXPECT_EQ(statusOf("early"), "early start/running, process " + std::to_string(early) + "\n");
    EXPECT_EQ(ctl("env", "diff", "early").out, "");

    ASSERT_EQ(ctl("start", "dbus").exit_code, 0) << tendLog();
    ASSERT_TRUE(waitFor([&] { return mainPidOf("imapfilter") > 0; })) << tendLog();
    const std::string list = ctl("list").out;
    EXPECT_THAT(
        list, HasSubstr("dbus start/running, process " + std::to_string(mainPidOf("dbus")) + "\n"));
    EXPECT_THAT(list, HasSubstr("imapfilter start/running, process " +
                                std::to_string(mainPidOf("imapfilter")) + "\n"));
    EXPECT_THAT(list, HasSubstr("pinned start/running, process " +
                                std::to_string(mainPidOf("pinned")) + "\n"));
    EXPECT_THAT(list, HasSubstr("early start/running, process " + std::to_string(early) +
                                " [stale environment: DBUS_SESSION_BUS_ADDRESS]\n"));
    EXPECT_EQ(statusOf("early"), "early start/running, process " + std::to_string(early) +
                                     " [stale environment: DBUS_SESSION_BUS_ADDRESS]\n");
    const json status = json::parse(ctl("--json", "status", "early").out, nullptr, false);
    ASSERT_TRUE(status.is_object());
    EXPECT_EQ(status["instances"][0]["stale_environment"],
              json::array({"DBUS_SESSION_BUS_ADDRESS"}));
    EXPECT_FALSE(json::parse(ctl("--json", "status", "imapfilter").out)["instances"][0].contains(
        "stale_environment"));

    ASSERT_EQ(ctl("set-env", "DISPLAY_GONE=1").exit_code, 0);
    ASSERT_EQ(ctl("unset-env", "DISPLAY_GONE").exit_code, 0);  // came and went: no change
    ASSERT_EQ(ctl("set-env", "ZZ_NEW=1").exit_code, 0);
    EXPECT_EQ(ctl("env", "diff", "early").out,
              "+DBUS_SESSION_BUS_ADDRESS=unix:path=/run/bus-1\n+ZZ_NEW=1\n");
    EXPECT_THAT(secondLine(ctl("env", "explain", "DBUS_SESSION_BUS_ADDRESS", "early").out),
                StartsWith("  from set-env --global, run by job dbus"));
    const json diff = json::parse(ctl("--json", "env", "diff", "early").out, nullptr, false);
    ASSERT_TRUE(diff.is_object());
    EXPECT_EQ(diff["diff"],
              json::array({"+DBUS_SESSION_BUS_ADDRESS=unix:path=/run/bus-1", "+ZZ_NEW=1"}));
    ASSERT_EQ(ctl("set-env", "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/bus-2").exit_code, 0);
    EXPECT_THAT(ctl("env", "diff", "imapfilter").out,
                HasSubstr("-DBUS_SESSION_BUS_ADDRESS=unix:path=/run/bus-1\n"
                          "+DBUS_SESSION_BUS_ADDRESS=unix:path=/run/bus-2\n"));

    // A restart starts the main process on the table as it is now.
    ASSERT_EQ(ctl("restart", "early").exit_code, 0) << tendLog();
    const pid_t restarted = mainPidOf("early");
    EXPECT_EQ(statusOf("early"),
              "early start/running, process " + std::to_string(restarted) + "\n");
    EXPECT_EQ(ctl("env", "diff", "early").out, "");
    ASSERT_TRUE(waitFor([&] { return lines(readLog("early")).size() == 2; }));
    EXPECT_EQ(readLog("early"), "bus=none\nbus=unix:path=/run/bus-2\n");
    const ProcessResult missing = ctl("env", "diff", "nosuchjob");
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_THAT(missing.err, HasSubstr("no running instance of nosuchjob"));
}

}  // namespace
}  // namespace tend::test
