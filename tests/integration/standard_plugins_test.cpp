// SPDX-License-Identifier: MIT
// The five standard plugins loaded together, as a package installs them: tend ends cleanly
// (exit status 0) with all of them, also after one of them was unloaded while its timer
// waited. A plugin's callbacks live in its shared library; whatever tend's loop still holds of
// them when a plugin goes must not outlive the library.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/daemon_fixture.hpp"

namespace tend::test {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kStandardPlugins[] = {"env-manager", "file-bridge", "journal-logger",
                                            "logrotate", "dbus-bridge"};

class StandardPlugins : public TendDaemonTest {
  protected:
    void SetUp() override {
        TendDaemonTest::SetUp();
        plugins_ = makePluginsDir();
        for (const char* name : kStandardPlugins) {
            installPlugin(fs::path(TEND_PLUGINS_DIR) / (std::string(name) + ".so"), plugins_, name);
        }
        extra_args_ = {"--plugins-dir", plugins_.string()};
        writeJob("chatty",
                 "start on startup\nexec sh -c 'while :; do echo chat; sleep 0.1; done'\n");
    }

    // Every standard plugin running, and the job's output in its log.
    void allRunning() {
        std::string said;
        const bool running = waitFor([&] {
            said = ctl("plugins").out;
            std::size_t running = 0;
            for (const char* name : kStandardPlugins) {
                running += lineOf(said, name).find("running") != std::string::npos;
            }
            return running == std::size(kStandardPlugins);
        });
        ASSERT_TRUE(running) << said << tendLog();
        ASSERT_TRUE(waitForFile(logPath("chatty"), "chat\n"));
    }

    // The line of `tendctl plugins` about plugin `name`, or "".
    static std::string lineOf(const std::string& said, const std::string& name) {
        for (const std::string& line : lines(said)) {
            if (line.starts_with(name + " ")) {
                return line;
            }
        }
        return "";
    }

    fs::path plugins_;
};

TEST_F(StandardPlugins, TendEndsWithStatusZeroWithAllFiveLoaded) {
    ASSERT_TRUE(startTendForeground());
    allRunning();
    EXPECT_EQ(stopTend(), 0) << tendLog();
    EXPECT_THAT(tendLog(), HasSubstr("session ended"));
}

// logrotate keeps a timer armed (its periodic check); unloading it cancels that wait, and the
// cancelled wait is handled on the loop after the library has gone.
TEST_F(StandardPlugins, APluginUnloadedWhileItsTimerWaitsLeavesTendRunning) {
    ASSERT_TRUE(startTendForeground());
    allRunning();
    fs::remove(plugins_ / "logrotate.so");
    ASSERT_TRUE(waitFor([&] { return lineOf(ctl("plugins").out, "logrotate").empty(); }));
    // The loop has gone round since: a command is served and a job still starts.
    writeJob("later", "task\nexec echo later\n");
    EXPECT_EQ(ctl("reload-configuration").exit_code, 0);
    EXPECT_EQ(ctl("start", "later").exit_code, 0) << tendLog();
    EXPECT_TRUE(waitForFile(logPath("later"), "later\n"));
    EXPECT_EQ(stopTend(), 0) << tendLog();
}

}  // namespace
}  // namespace tend::test
