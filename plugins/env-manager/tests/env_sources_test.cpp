// SPDX-License-Identifier: MIT
// Where the global table's values come from, against the real daemon: the names tend imports
// from its own environment, env-manager's import setting, the environment.d files as they are
// edited, and list-env's order in the session's locale.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "env_manager_fixture.hpp"

namespace tend::test {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

TEST_F(EnvManager, TheGlobalTableTakesWhatADesktopSessionNeedsAndNothingElse) {
    writeJob("shows",
             "console log\nexec sh -c 'echo \"$DISPLAY|$XDG_SESSION_TYPE|$LC_TIME|"
             "${LEFTOVER:-unset}\"; exec sleep 1000'\n");
    ASSERT_TRUE(startWithPlugin({"DISPLAY=:7", "XDG_SESSION_TYPE=x11", "LC_TIME=C", "TERM=xterm",
                                 "LEFTOVER=from-a-terminal", "UPSTART_EVENTS=launcher"}));
    const auto global = globalEnv();
    EXPECT_THAT(global, Contains("DISPLAY=:7"));
    EXPECT_THAT(global, Contains("XDG_SESSION_TYPE=x11"));
    EXPECT_THAT(global, Contains("LC_TIME=C"));
    EXPECT_THAT(global, Contains("TERM=xterm"));
    EXPECT_TRUE(std::any_of(global.begin(), global.end(),
                            [](const std::string& entry) { return entry.starts_with("PATH="); }));
    EXPECT_THAT(global, Not(Contains("LEFTOVER=from-a-terminal")));
    EXPECT_THAT(global, Not(Contains("UPSTART_EVENTS=launcher")));
    ASSERT_EQ(ctl("start", "shows").exit_code, 0) << tendLog();
    ASSERT_TRUE(waitFor([&] { return !readLog("shows").empty(); }));
    EXPECT_EQ(readLog("shows"), ":7|x11|C|unset\n");
}

// A Wayland session has no DISPLAY; what it has is imported, and what it lacks is no warning.
TEST_F(EnvManager, AWaylandSessionsVariablesAreImportedAndAbsentOnesWarnOfNothing) {
    ASSERT_TRUE(startWithPlugin(
        {"-u", "DISPLAY", "WAYLAND_DISPLAY=wayland-1", "XAUTHORITY=/run/user/auth"}));
    const auto global = globalEnv();
    EXPECT_THAT(global, Contains("WAYLAND_DISPLAY=wayland-1"));
    EXPECT_THAT(global, Contains("XAUTHORITY=/run/user/auth"));
    EXPECT_TRUE(std::none_of(global.begin(), global.end(), [](const std::string& entry) {
        return entry.starts_with("DISPLAY=");
    }));
    std::istringstream log(tendLog());
    for (std::string line; std::getline(log, line);) {
        if (line.find("warning:") != std::string::npos ||
            line.find("error:") != std::string::npos) {
            for (const char* name : {"DISPLAY", "XDG_", "DBUS_", "SSH_AUTH_SOCK", "SESSION"}) {
                EXPECT_EQ(line.find(name), std::string::npos) << line;
            }
        }
    }
}

// One name set in all four places: what the session gave tend, an environment.d file,
// set-env, and the job's own `env`. The job gets its stanza's value; the global table holds
// set-env's; and env explain names the source of each.
TEST_F(EnvManager, OneVariableSetInEveryPlaceTakesTheValueOfTheNearestAndExplainSaysWhich) {
    writeEnvFile("10-display.conf", "DISPLAY=:8\n");
    writeJob("near",
             "env DISPLAY=:10\nconsole log\nexec sh -c 'echo \"$DISPLAY\"; exec sleep 1000'\n");
    writeJob("far", "console log\nexec sh -c 'echo \"$DISPLAY\"; exec sleep 1000'\n");
    ASSERT_TRUE(startWithPlugin({"DISPLAY=:7"}));
    EXPECT_EQ(ctl("get-env", "DISPLAY").out, ":8\n");  // environment.d over the import
    EXPECT_THAT(ctl("env", "explain", "DISPLAY").out, HasSubstr("environment.d file"));
    ASSERT_EQ(ctl("set-env", "--global", "DISPLAY=:9").exit_code, 0);
    EXPECT_EQ(ctl("get-env", "DISPLAY").out, ":9\n");
    EXPECT_THAT(ctl("env", "explain", "DISPLAY").out, HasSubstr("from set-env"));

    ASSERT_EQ(ctl("start", "near").exit_code, 0) << tendLog();
    ASSERT_EQ(ctl("start", "far").exit_code, 0) << tendLog();
    ASSERT_TRUE(waitFor([&] { return !readLog("near").empty() && !readLog("far").empty(); }));
    EXPECT_EQ(readLog("near"), ":10\n");
    EXPECT_EQ(readLog("far"), ":9\n");
    EXPECT_THAT(ctl("env", "explain", "DISPLAY", "near").out,
                HasSubstr("from the job's env stanza: env DISPLAY=:10"));
    EXPECT_THAT(ctl("env", "explain", "DISPLAY", "far").out, HasSubstr("from set-env"));
}

// unset-env of a variable a running job started with: the job keeps it and is shown as stale;
// as in initctl, `restart` keeps the instance's table (the variable too), and a stop and a
// start begin on the global table without it.
TEST_F(EnvManager, AVariableUnsetWhileAJobRunsStaysUntilTheJobStopsAndStartsAgain) {
    writeJob("user", "console log\nexec sh -c 'echo \"${TOKEN:-none}\"; exec sleep 1000'\n");
    ASSERT_TRUE(startWithPlugin({}));
    ASSERT_EQ(ctl("set-env", "--global", "TOKEN=abc").exit_code, 0);
    ASSERT_EQ(ctl("start", "user").exit_code, 0) << tendLog();
    ASSERT_TRUE(waitFor([&] { return readLog("user") == "abc\n"; })) << readLog("user");
    ASSERT_EQ(ctl("unset-env", "--global", "TOKEN").exit_code, 0);
    EXPECT_THAT(ctl("status", "user").out, HasSubstr("[stale environment: TOKEN]"));
    ASSERT_EQ(ctl("restart", "user").exit_code, 0) << tendLog();
    ASSERT_TRUE(waitFor([&] { return readLog("user") == "abc\nabc\n"; })) << readLog("user");
    ASSERT_EQ(ctl("stop", "user").exit_code, 0) << tendLog();
    ASSERT_EQ(ctl("start", "user").exit_code, 0) << tendLog();
    ASSERT_TRUE(waitFor([&] { return readLog("user") == "abc\nabc\nnone\n"; })) << readLog("user");
    EXPECT_THAT(ctl("status", "user").out, Not(HasSubstr("stale")));
}

TEST_F(EnvManager, TheImportSettingAddsNamesFromTendsOwnEnvironment) {
    std::ofstream(plugins_ / "env-manager.conf")
        << "setting import \"GTK_* QT_QPA_PLATFORMTHEME\"\n";
    ASSERT_TRUE(startWithPlugin(
        {"GTK_THEME=Adwaita", "QT_QPA_PLATFORMTHEME=gtk3", "GTK_NOT_A_PREFIX_MATCH=", "OTHER=x"}));
    EXPECT_EQ(ctl("get-env", "GTK_THEME").out, "Adwaita\n");
    EXPECT_EQ(ctl("get-env", "QT_QPA_PLATFORMTHEME").out, "gtk3\n");
    EXPECT_EQ(ctl("get-env", "OTHER").exit_code, 1);
    EXPECT_THAT(ctl("env", "explain", "GTK_THEME").out,
                HasSubstr("imported from tend's own environment (env-manager's import setting)"));
    // reset-env goes back to the table tend started with, the imports included.
    ASSERT_EQ(ctl("set-env", "GTK_THEME=changed").exit_code, 0);
    ASSERT_EQ(ctl("reset-env", "--global").exit_code, 0);
    EXPECT_EQ(ctl("get-env", "GTK_THEME").out, "Adwaita\n");
}

TEST_F(EnvManager, EnvironmentDFilesApplyInLexicalOrderWithExpansion) {
    writeEnvFile("20-later.conf", "FOO=two\nQUOTED=\"a b\"\nBAR=${UNSET_THING:-fallback}\n");
    writeEnvFile("10-first.conf",
                 "# a comment\n\n  FOO = one  \nMINE=${HOME}/bin:$FOO\nSPARE=${FOO:+set}\n");
    writeEnvFile("notes.txt", "NOT_READ=1\n");
    writeJob("sees", "console log\nexec sh -c 'echo \"$FOO|$MINE|$QUOTED\"; exec sleep 1000'\n");
    const std::string home = (root_ / "home").string();
    fs::create_directories(home);
    ASSERT_TRUE(startWithPlugin({"HOME=" + home}));
    EXPECT_EQ(ctl("get-env", "FOO").out, "two\n");
    EXPECT_EQ(ctl("get-env", "MINE").out, home + "/bin:one\n");
    EXPECT_EQ(ctl("get-env", "SPARE").out, "set\n");
    EXPECT_EQ(ctl("get-env", "QUOTED").out, "a b\n");
    EXPECT_EQ(ctl("get-env", "BAR").out, "fallback\n");
    EXPECT_EQ(ctl("get-env", "NOT_READ").exit_code, 1);
    ASSERT_EQ(ctl("start", "sees").exit_code, 0) << tendLog();
    ASSERT_TRUE(waitFor([&] { return !readLog("sees").empty(); }));
    EXPECT_EQ(readLog("sees"), "two|" + home + "/bin:one|a b\n");
}

TEST_F(EnvManager, BadLinesAreReportedAtTheirPlaceAndTheRestApplies) {
    writeEnvFile("30-bad.conf",
                 "GOOD=1\nthis is not an assignment\n1BAD=x\nBROKEN=${OPEN\nALSO_GOOD=2\n");
    ASSERT_TRUE(startWithPlugin());
    EXPECT_EQ(ctl("get-env", "GOOD").out, "1\n");
    EXPECT_EQ(ctl("get-env", "ALSO_GOOD").out, "2\n");
    EXPECT_EQ(ctl("get-env", "BROKEN").exit_code, 1);
    const std::string file = (envDir() / "30-bad.conf").string();
    const std::string log = tendLog();
    // The log line's level says "error" once; the message does not say it again.
    EXPECT_THAT(log, HasSubstr(file + ":2:1: expected KEY=VALUE"));
    EXPECT_THAT(log, Not(HasSubstr(": error: expected KEY=VALUE")));
    EXPECT_THAT(log, HasSubstr(file + ":3:1: invalid variable name '1BAD'"));
    EXPECT_THAT(log, HasSubstr(file + ":4:8: unterminated '${'"));
}

TEST_F(EnvManager, EditsApplyAndARemovedLineTakesItsVariableBackUnlessSetSince) {
    writeEnvFile("10-desktop.conf", "DISPLAY=:9\nLINE_GOES=x\nUSER_SETS=file\nKEPT=k\n");
    ASSERT_TRUE(startWithPlugin({"DISPLAY=:7"}));
    EXPECT_EQ(ctl("get-env", "DISPLAY").out, ":9\n");
    ASSERT_EQ(ctl("set-env", "USER_SETS=mine").exit_code, 0);

    writeEnvFile("10-desktop.conf", "KEPT=k2\n");
    ASSERT_TRUE(waitFor([&] { return ctl("get-env", "KEPT").out == "k2\n"; })) << tendLog();
    EXPECT_EQ(ctl("get-env", "DISPLAY").out, ":7\n");  // what the line had overridden
    EXPECT_EQ(ctl("get-env", "LINE_GOES").exit_code, 1);
    EXPECT_EQ(ctl("get-env", "USER_SETS").out, "mine\n");

    fs::remove(envDir() / "10-desktop.conf");
    ASSERT_TRUE(waitFor([&] { return ctl("get-env", "KEPT").exit_code == 1; })) << tendLog();
    EXPECT_EQ(ctl("get-env", "DISPLAY").out, ":7\n");
}

TEST_F(EnvManager, TheDirectoryMayComeAfterTendHasStarted) {
    fs::create_directories(envDir().parent_path());
    ASSERT_TRUE(startWithPlugin());
    EXPECT_EQ(ctl("get-env", "LATE").exit_code, 1);
    writeEnvFile("50-late.conf", "LATE=arrived\n");
    ASSERT_TRUE(waitFor([&] { return ctl("get-env", "LATE").out == "arrived\n"; })) << tendLog();
}

// The seed session's listing: `SESSIONTYPE=` before `SESSION=`, as strcoll orders them in an
// English locale, which this test builds for itself (the machine may have none installed).
TEST_F(EnvManager, ListEnvSortsInTheSessionsCollationOrder) {
    const fs::path locales = root_ / "locale";
    fs::create_directories(locales);
    const ProcessResult made = runProcess(
        {"/bin/sh", "-c", "command -v localedef >/dev/null && localedef -i en_US -f UTF-8 \"$0\"",
         (locales / "en_US.UTF-8").string()});
    if (made.exit_code != 0 || !fs::exists(locales / "en_US.UTF-8")) {
        GTEST_SKIP() << "cannot build the en_US.UTF-8 locale (localedef and glibc's locale "
                        "sources are needed): "
                     << made.err;
    }
    ASSERT_TRUE(startWithPlugin({"-i", "LOCPATH=" + locales.string(), "LANG=en_US.UTF-8"}));
    ASSERT_EQ(ctl("set-env", "-g", "PATH=/home/nitro/bin:/usr/bin:/bin",
                  "SSH_AUTH_SOCK=/tmp/ssh-ZlMOWJzORL00/agent.3457", "SSH_AGENT_PID=3460",
                  "SESSION=ubuntu", "SESSIONTYPE=gnome-session", "JOB=dbus",
                  "INSTANCE=", "UPSTART_EVENTS=started xsession",
                  "DBUS_SESSION_BUS_ADDRESS=unix:abstract=/tmp/dbus-vGmn0j3MRp",
                  "GNOME_DESKTOP_SESSION_ID=this-is-deprecated")
                  .exit_code,
              0);
    EXPECT_EQ(ctl("list-env").out,
              "DBUS_SESSION_BUS_ADDRESS=unix:abstract=/tmp/dbus-vGmn0j3MRp\n"
              "GNOME_DESKTOP_SESSION_ID=this-is-deprecated\n"
              "INSTANCE=\n"
              "JOB=dbus\n"
              "LANG=en_US.UTF-8\n"
              "PATH=/home/nitro/bin:/usr/bin:/bin\n"
              "SESSIONTYPE=gnome-session\n"
              "SESSION=ubuntu\n"
              "SSH_AGENT_PID=3460\n"
              "SSH_AUTH_SOCK=/tmp/ssh-ZlMOWJzORL00/agent.3457\n"
              "UPSTART_EVENTS=started xsession\n" +
                  configHome() + "\n");
}

}  // namespace
}  // namespace tend::test
