// SPDX-License-Identifier: MIT
// tend installed with its Upstart shortcuts (`initctl` and `start` are tendctl under those
// names): Upstart job files from the corpus that call `initctl` in their scripts run unchanged,
// and jobs see UPSTART_SESSION beside TEND_SESSION. env-manager serves set-env, as it does in a
// session.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "env_manager_fixture.hpp"

namespace tend::test {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class UpstartShortcuts : public EnvManager {
  protected:
    // A bin directory with initctl, start, stop ... as links to tendctl, as the shortcuts
    // package installs them, first on the PATH tend and its jobs get.
    std::string shortcutsPath() {
        const fs::path bin = root_ / "bin";
        fs::create_directories(bin);
        for (const char* name : {"initctl", "start", "stop", "restart", "reload", "status"}) {
            fs::create_symlink(TENDCTL_BIN, bin / name);
        }
        return "PATH=" + bin.string() + ":" + std::getenv("PATH");
    }

    // A corpus file, unchanged, as a job file.
    void installCorpusJob(const std::string& corpus_name, const std::string& job) {
        fs::copy_file(fs::path(TEND_CORPUS_DIR) / corpus_name, jobs_dir_ / (job + ".conf"));
    }
};

TEST_F(UpstartShortcuts, CorpusJobsThatCallInitctlRunUnchanged) {
    // 009: sets a global variable and emits xsession with initctl.
    installCorpusJob("009-upstart-session-xsession-init.conf", "xsession-init");
    // 004: `initctl emit --no-wait not-container`, then `stop` from its pre-start.
    installCorpusJob("004-upstart-container-detect.conf", "container-detect");
    // 008: started by hand, its pre-start runs `initctl set-env FORCE=--force` for its own
    // main process, which passes it to logrotate (here a stand-in that records its arguments).
    installCorpusJob("008-upstart-session-logrotate.conf", "logrotate");
    const fs::path bin = root_ / "bin";
    const std::string path = shortcutsPath();
    writeFile("bin/logrotate",
              "#!/bin/sh\necho \"$@\" > " + (root_ / "logrotate.args").string() + "\n");
    fs::permissions(bin / "logrotate", fs::perms(0755));
    writeJob("on-xsession",
             "start on xsession\ntask\n"
             "exec sh -c 'echo \"session=$SESSION type=$SESSIONTYPE "
             "gnome=$GNOME_DESKTOP_SESSION_ID\"'\n");
    writeJob("on-not-container", "start on not-container\ntask\nexec echo not a container\n");
    ASSERT_TRUE(startWithPlugin({path, "DESKTOP_SESSION=xfce", "SESSIONTYPE=gnome-session",
                                 "XDG_CACHE_HOME=" + (root_ / "cache").string()}));

    ASSERT_TRUE(waitFor([&] { return !readLog("on-xsession").empty(); })) << tendLog();
    EXPECT_EQ(readLog("on-xsession"), "session=xfce type=gnome-session gnome=this-is-deprecated\n");
    EXPECT_EQ(ctl("get-env", "GNOME_DESKTOP_SESSION_ID").out, "this-is-deprecated\n");

    ASSERT_EQ(ctl("emit", "mounted", "MOUNTPOINT=/run").exit_code, 0) << tendLog();
    ASSERT_TRUE(waitFor([&] { return !readLog("on-not-container").empty(); })) << tendLog();
    EXPECT_EQ(readLog("on-not-container"), "not a container\n");
    EXPECT_THAT(statusOf("container-detect"), HasSubstr("stop/waiting"));

    // It started on startup and waits a minute before rotating. `stop logrotate` and `start
    // logrotate` through the shortcuts, as its header says: started by hand, it forces.
    const auto shortcut = [&](const char* name) {
        return runProcess({"/usr/bin/env", path, "TEND_SESSION=" + (run_dir_ / "control").string(),
                           name, "logrotate"});
    };
    const ProcessResult stopped = shortcut("stop");
    EXPECT_EQ(stopped.exit_code, 0) << stopped.err << tendLog();
    EXPECT_EQ(stopped.out, "logrotate stop/waiting\n");
    EXPECT_FALSE(fs::exists(root_ / "logrotate.args"));
    const ProcessResult started = shortcut("start");
    EXPECT_EQ(started.exit_code, 0) << started.err << tendLog();
    ASSERT_TRUE(waitFor([&] { return fs::exists(root_ / "logrotate.args"); })) << tendLog();
    EXPECT_THAT(readFile(root_ / "logrotate.args"), ::testing::StartsWith("--force -s "));
}

TEST_F(UpstartShortcuts, JobsSeeUpstartSessionOnlyWhenInitctlIsTendctl) {
    const std::string show = "task\nexec sh -c 'echo \"upstart=${UPSTART_SESSION:-unset}\"'\n";
    writeJob("show", show);
    ASSERT_TRUE(startWithPlugin({shortcutsPath()}));
    ASSERT_EQ(ctl("start", "show").exit_code, 0);
    ASSERT_TRUE(waitFor([&] { return !readLog("show").empty(); }));
    EXPECT_EQ(readLog("show"), "upstart=unix:path=" + (run_dir_ / "control").string() + "\n");
    // initctl finds tend from UPSTART_SESSION alone, and says its own name.
    const ProcessResult listed =
        runProcess({"/usr/bin/env", "-u", "TEND_SESSION", "-u", "XDG_RUNTIME_DIR",
                    "UPSTART_SESSION=unix:path=" + (run_dir_ / "control").string(),
                    (root_ / "bin" / "initctl").string(), "status", "show"});
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    EXPECT_EQ(listed.out, "show stop/waiting\n");
    const ProcessResult wrong = runProcess({(root_ / "bin" / "initctl").string(), "--bogus"});
    EXPECT_THAT(wrong.err, ::testing::StartsWith("initctl: "));
    stopTend();

    // Without the shortcuts, no UPSTART_SESSION: a job that tests it takes its other path.
    fs::remove(logPath("show"));
    ASSERT_TRUE(startWithPlugin());
    ASSERT_EQ(ctl("start", "show").exit_code, 0);
    ASSERT_TRUE(waitFor([&] { return !readLog("show").empty(); }));
    EXPECT_EQ(readLog("show"), "upstart=unset\n");
}

}  // namespace
}  // namespace tend::test
