// SPDX-License-Identifier: MIT
// check-config's thread: the files are read and checked off the loop, a plugin's stanza is
// checked on the loop, and tend can end while a check waits for the loop.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "control/background_check.hpp"
#include "support/job_text.hpp"

namespace tend::test {
namespace {

namespace fs = std::filesystem;

struct CheckThreadTest : ::testing::Test {
    CheckThreadTest() {
        dir = fs::temp_directory_path() / ("tend-check-thread-" + std::to_string(::getpid()));
        fs::create_directories(dir);
        registry = test::coreRegistry();
        // A stanza of tend's own that notes the thread it ran on, and a plugin's that does too.
        registry.add("probe", "core", [this](conf::StanzaContext&) {
            std::lock_guard lock(mutex);
            core_thread = std::this_thread::get_id();
        });
        registry.add("gauge", "someplugin", [this](conf::StanzaContext& c) {
            std::lock_guard lock(mutex);
            plugin_thread = std::this_thread::get_id();
            if (c.argCount() != 1) {
                c.error(c.stanza().offset, "gauge: one argument");
            }
        });
        std::ofstream(dir / "job.conf") << "probe\ngauge\nexec sleep 1\n";
    }
    ~CheckThreadTest() override { fs::remove_all(dir); }

    fs::path dir;
    conf::StanzaRegistry registry;
    boost::asio::io_context io;
    // As in tend, the loop always has something to wait for: run_one() waits for the check.
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> busy =
        boost::asio::make_work_guard(io);
    std::mutex mutex;
    std::optional<std::thread::id> core_thread;
    std::optional<std::thread::id> plugin_thread;
};

TEST_F(CheckThreadTest, FilesAreCheckedOffTheLoopAndPluginStanzasOnIt) {
    control::BackgroundChecks checks(io, registry);
    std::optional<conf::CheckReport> report;
    std::thread::id answered_on;
    checks.run({dir / "job.conf"}, {}, [&](conf::CheckReport r) {
        report = std::move(r);
        answered_on = std::this_thread::get_id();
    });
    // The loop is this thread: what the check hands it runs here, and so does the answer.
    while (!report) {
        ASSERT_EQ(io.run_one(), 1u);
    }
    std::lock_guard lock(mutex);
    ASSERT_TRUE(core_thread && plugin_thread);
    EXPECT_NE(*core_thread, std::this_thread::get_id());
    EXPECT_EQ(*plugin_thread, std::this_thread::get_id());
    EXPECT_EQ(answered_on, std::this_thread::get_id());
    // The plugin's finding is in the report, at its stanza.
    EXPECT_NE(report->text().find("job.conf:2:1: error: gauge: one argument"), std::string::npos)
        << report->text();
    EXPECT_EQ(report->errorCount(), 1u);
}

TEST_F(CheckThreadTest, APluginGoneBeforeItsStanzaIsCheckedIsReportedAsGone) {
    control::BackgroundChecks checks(io, registry);
    std::optional<conf::CheckReport> report;
    checks.run({dir / "job.conf"}, {}, [&](conf::CheckReport r) { report = std::move(r); });
    registry.remove("gauge");  // the plugin unloads while the check runs
    while (!report) {
        ASSERT_EQ(io.run_one(), 1u);
    }
    EXPECT_NE(report->text().find("gauge: plugin someplugin went away during the check"),
              std::string::npos)
        << report->text();
    std::lock_guard lock(mutex);
    EXPECT_FALSE(plugin_thread);
}

TEST_F(CheckThreadTest, EndingWhileACheckWaitsForTheLoopAnswersNobodyAndHangsNothing) {
    bool answered = false;
    {
        control::BackgroundChecks checks(io, registry);
        checks.run({dir / "job.conf"}, {}, [&](conf::CheckReport) { answered = true; });
        // Once the probe has run on the check thread the plugin's stanza is next, and the loop
        // (this thread) is busy ending instead of running it.
        for (;;) {
            {
                std::lock_guard lock(mutex);
                if (core_thread) {
                    break;
                }
            }
            std::this_thread::yield();
        }
    }
    // What the thread handed the loop may run now: it must neither answer nor check.
    busy.reset();
    io.restart();
    io.run();
    EXPECT_FALSE(answered);
    std::lock_guard lock(mutex);
    EXPECT_FALSE(plugin_thread);
}

TEST_F(CheckThreadTest, AFifoNamedLikeAJobFileIsRefusedWithoutWaitingForAWriter) {
    ASSERT_EQ(::mkfifo((dir / "pipe.conf").c_str(), 0600), 0);
    // Opening it for reading would wait for a writer that never comes, here and in a reload.
    const conf::CheckReport report = conf::checkPaths({dir}, registry);
    EXPECT_NE(report.text().find("pipe.conf: error: not a regular file"), std::string::npos)
        << report.text();
}

}  // namespace
}  // namespace tend::test
