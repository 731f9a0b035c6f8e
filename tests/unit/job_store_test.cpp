// SPDX-License-Identifier: MIT
// A rescan of the files inotify named must come to what a rescan of the whole tree comes to:
// two stores over the same two-directory search path, one told which jobs' files changed and
// one walking everything, must report the same plan, summary, kept files and errors after every
// step, and the named one must read only the files that changed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "dispatch/supervisor.hpp"
#include "store/job_store.hpp"
#include "support/fake_platform.hpp"

namespace tend {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Names = std::set<std::string, std::less<>>;

// One store and the supervisor it feeds.
struct StoreUnderTest {
    explicit StoreUnderTest(std::vector<fs::path> dirs)
        : logger(std::make_shared<spdlog::logger>("test",
                                                  std::make_shared<spdlog::sinks::null_sink_mt>())),
          supervisor(platform, nullptr, dispatch::SupervisorOptions{}, logger),
          store(supervisor, std::move(dirs), logger) {}

    test::FakePlatform platform;
    std::shared_ptr<spdlog::logger> logger;
    dispatch::Supervisor supervisor;
    store::JobStore store;
};

class NamedRescan : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/tend-store-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        root_ = pattern;
        fs::create_directories(high_ = root_ / "high");
        fs::create_directories(low_ = root_ / "low");
        fs::create_directories(low_ / "sub");
        write(low_ / "a.conf", "exec sleep 1\n");
        write(low_ / "c.conf", "start on go\nexec sleep 3\n");
        write(low_ / "d.conf", "exec sleep 4\n");
        write(low_ / "sub" / "e.conf", "exec sleep 5\n");
        settle();
        named_ = std::make_unique<StoreUnderTest>(std::vector<fs::path>{high_, low_});
        whole_ = std::make_unique<StoreUnderTest>(std::vector<fs::path>{high_, low_});
        ASSERT_EQ(named_->store.rescan().summary(), whole_->store.rescan().summary());
    }

    void TearDown() override { fs::remove_all(root_); }

    static void write(const fs::path& path, const std::string& text) {
        std::ofstream(path) << text;
    }

    // Past the timestamp granule of the last write, so that no file is read again only because
    // its stamp was taken too soon to trust (both stores would, the named one only if named).
    static void settle() { std::this_thread::sleep_for(30ms); }

    // Rescans both stores, the named one with `names`; expects the same outcome and returns the
    // named one's report.
    store::RescanReport rescanBoth(const Names& names, std::chrono::milliseconds grace = 0ms) {
        settle();
        store::RescanOptions options;
        options.removal_grace = grace;
        const store::RescanReport named = named_->store.rescanNamed(names, options);
        const store::RescanReport whole = whole_->store.rescan(options);
        EXPECT_EQ(named.planText(), whole.planText());
        EXPECT_EQ(named.summary(), whole.summary());
        EXPECT_EQ(named.kept, whole.kept);
        EXPECT_EQ(named.errors, whole.errors);
        return named;
    }

    fs::path root_, high_, low_;
    std::unique_ptr<StoreUnderTest> named_, whole_;
};

TEST_F(NamedRescan, ReadsOnlyTheNamedFilesAndComesToWhatTheWholeTreeDoes) {
    write(low_ / "a.conf", "exec sleep 11\n");
    auto report = rescanBoth({"a"});
    EXPECT_EQ(report.parsed, 1u);
    EXPECT_EQ(report.summary(), "4 job files: 0 added, 1 changed, 3 unchanged; 0 removed");

    // A file in the higher-priority directory takes the name over, and gives it back.
    write(high_ / "a.conf", "exec sleep 12\n");
    report = rescanBoth({"a"});
    EXPECT_EQ(report.parsed, 1u);
    EXPECT_THAT(report.planText(), ::testing::HasSubstr("now from " + (high_ / "a.conf").string()));
    fs::remove(high_ / "a.conf");
    rescanBoth({"a"});
    EXPECT_EQ(*named_->supervisor.findClass("a")->cls, *whole_->supervisor.findClass("a")->cls);

    // A new file in a subdirectory, and an .override.
    write(low_ / "sub" / "f.conf", "exec sleep 6\n");
    report = rescanBoth({"sub/f"});
    EXPECT_EQ(report.added, std::vector<std::string>{"sub/f"});
    write(low_ / "c.override", "start on other\n");
    report = rescanBoth({"c"});
    EXPECT_EQ(report.changed, std::vector<std::string>{"c"});

    // A broken edit keeps the last good definition, and the files not named still count it.
    write(low_ / "c.conf", "start on (\n");
    report = rescanBoth({"c"});
    EXPECT_EQ(report.kept, std::vector<std::string>{"c"});
    write(low_ / "d.conf", "exec sleep 44\n");
    report = rescanBoth({"d"});
    EXPECT_EQ(report.kept, std::vector<std::string>{"c"});
    EXPECT_EQ(report.parsed, 1u);

    // Files of both directories changed at once read in the whole tree's order.
    write(high_ / "h.conf", "exec sleep 8\n");
    rescanBoth({"h"});
    write(high_ / "h.conf", "exec\n");
    write(low_ / "d.conf", "respawn limit x\n");
    report = rescanBoth({"d", "h"});
    EXPECT_EQ(report.kept, (std::vector<std::string>{"h", "c", "d"}));
    EXPECT_EQ(report.parsed, 2u);

    // A name nothing on the search path has, and a job file in a symlinked folder, which the
    // directory listing does not follow either.
    fs::create_directory_symlink(low_ / "sub", low_ / "linked");
    report = rescanBoth({"nothing", "linked/e"});
    EXPECT_EQ(report.parsed, 0u);
    EXPECT_TRUE(report.empty());
}

TEST_F(NamedRescan, ARemovalWaitsOutItsGraceThenGoesWithoutBeingNamedAgain) {
    fs::remove(low_ / "d.conf");
    auto report = rescanBoth({"d"}, 10s);
    ASSERT_EQ(report.plan.size(), 1u);
    EXPECT_EQ(report.plan[0].kind, store::PlanStep::Kind::PendingRemoval);
    EXPECT_EQ(report.summary(), "3 job files: 0 added, 0 changed, 3 unchanged; 0 removed");

    // The grace is over: the rescan that follows names nothing, and the file goes.
    report = rescanBoth({}, 0ms);
    EXPECT_EQ(report.removed, std::vector<std::string>{"d"});
    EXPECT_EQ(named_->supervisor.findClass("d"), nullptr);
    EXPECT_EQ(whole_->supervisor.findClass("d"), nullptr);

    // Gone and back within the grace is no removal at all.
    write(low_ / "e.conf", "exec sleep 7\n");
    rescanBoth({"e"});
    fs::remove(low_ / "e.conf");
    rescanBoth({"e"}, 10s);
    write(low_ / "e.conf", "exec sleep 7\n");
    report = rescanBoth({"e"}, 10s);
    EXPECT_TRUE(report.removed.empty());
    EXPECT_EQ(named_->store.oldestMissing(), std::nullopt);
}

}  // namespace
}  // namespace tend
