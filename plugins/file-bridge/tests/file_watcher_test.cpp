// SPDX-License-Identifier: MIT
// FileWatcher against the real inotify in a private directory. inotify queues an event before
// the system call that caused it returns, so each test reads exactly what its own steps caused:
// no waiting, no timing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <utility>

#include "file_watcher.hpp"

namespace tend::file_bridge {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class FileWatcherTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/tend-fw-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        root_ = pattern;
    }
    void TearDown() override {
        watcher_.reset();
        fs::remove_all(root_);
    }

    void watch(const std::string& job, std::vector<WatchSpec> specs) {
        watcher().setJob(job, specs);
    }

    FileWatcher& watcher() {
        if (!watcher_) {
            watcher_ = std::make_unique<FileWatcher>(
                *calls_, [this](const FileEvent& event) { events_.push_back(describe(event)); },
                [this](plugin::LogLevel level, const std::string& text) {
                    if (level != plugin::LogLevel::Debug) {
                        logs_.push_back(text);
                    }
                });
        }
        return *watcher_;
    }

    // What inotify has queued, handled; returns the events since the last call.
    std::vector<std::string> pump() {
        std::deque<RawEvent> queue;
        inotify_.read(queue, 1 << 20);
        for (const auto& event : queue) {
            watcher().handle(event);
        }
        return taken();
    }

    std::vector<std::string> taken() {
        std::vector<std::string> out = std::move(events_);
        events_.clear();
        return out;
    }

    static std::string describe(const FileEvent& event) {
        std::string text;
        for (const auto& entry : event.env()) {
            text += (text.empty() ? "" : " ") + entry;
        }
        return text;
    }

    WatchSpec file(const std::string& relative, unsigned kinds = kAllKinds) const {
        WatchSpec spec;
        spec.path = normalisePath((root_ / relative).string());
        spec.file = spec.path;
        spec.kinds = kinds;
        return spec;
    }
    WatchSpec directory(const std::string& relative, bool recursive = false) const {
        WatchSpec spec;
        spec.target = WatchSpec::Target::Directory;
        spec.path = normalisePath((root_ / relative).string());
        spec.file = spec.path + "/";
        spec.recursive = recursive;
        spec.recursive_text = recursive ? "yes" : "";
        return spec;
    }
    WatchSpec glob(const std::string& relative, const std::string& pattern,
                   unsigned kinds = kAllKinds) const {
        WatchSpec spec;
        spec.target = WatchSpec::Target::Glob;
        spec.path = normalisePath((root_ / relative).string());
        spec.glob = pattern;
        spec.file = spec.path + "/" + pattern;
        spec.kinds = kinds;
        return spec;
    }

    void write(const std::string& relative, const std::string& text = "x") const {
        std::ofstream(root_ / relative) << text;
    }
    std::string at(const std::string& relative) const { return (root_ / relative).string(); }

    fs::path root_;
    Inotify inotify_;
    InotifyCalls* calls_ = &inotify_;
    std::unique_ptr<FileWatcher> watcher_;
    std::vector<std::string> events_;
    std::vector<std::string> logs_;
};

TEST_F(FileWatcherTest, AFileIsCreatedModifiedAndDeleted) {
    watch("job", {file("f")});
    EXPECT_THAT(taken(), IsEmpty());
    write("f");
    EXPECT_THAT(pump(), ElementsAre("FILE=" + at("f") + " EVENT=create",
                                    "FILE=" + at("f") + " EVENT=modify"));
    write("f", "again");
    EXPECT_THAT(pump(), ElementsAre("FILE=" + at("f") + " EVENT=modify"));
    fs::remove(root_ / "f");
    EXPECT_THAT(pump(), ElementsAre("FILE=" + at("f") + " EVENT=delete"));
    write("other");
    EXPECT_THAT(pump(), IsEmpty());
}

TEST_F(FileWatcherTest, AJobThatWaitsForAnExistingFileGetsItsCreateAtOnce) {
    write("f");
    watch("first", {file("f", Create)});
    EXPECT_THAT(taken(), ElementsAre("FILE=" + at("f") + " EVENT=create"));
    watch("second", {file("f", Create)});  // another job starts waiting for it
    EXPECT_THAT(taken(), ElementsAre("FILE=" + at("f") + " EVENT=create"));
    watch("second", {file("f", Create)});  // unchanged: nothing new
    EXPECT_THAT(taken(), IsEmpty());
    watch("modify-only", {file("f", Modify)});
    EXPECT_THAT(taken(), IsEmpty());
}

TEST_F(FileWatcherTest, ADirectoryReportsItsEntriesWithMatchAndItselfWithout) {
    watch("job", {directory("d")});
    fs::create_directory(root_ / "d");
    EXPECT_THAT(pump(), ElementsAre("FILE=" + at("d") + "/ EVENT=create"));
    write("d/a");
    fs::remove(root_ / "d/a");
    EXPECT_THAT(pump(), ElementsAre("FILE=" + at("d") + "/ EVENT=create MATCH=" + at("d/a"),
                                    "FILE=" + at("d") + "/ EVENT=modify MATCH=" + at("d/a"),
                                    "FILE=" + at("d") + "/ EVENT=delete MATCH=" + at("d/a")));
    fs::remove(root_ / "d");
    EXPECT_THAT(pump(), ElementsAre("FILE=" + at("d") + "/ EVENT=delete"));
    fs::create_directory(root_ / "d");  // watched again once it is back
    write("d/b");
    // b was written before d's watch was back: it is found there, and its write is not seen.
    EXPECT_THAT(pump(), ElementsAre("FILE=" + at("d") + "/ EVENT=create",
                                    "FILE=" + at("d") + "/ EVENT=create MATCH=" + at("d/b")));
}

TEST_F(FileWatcherTest, AGlobReportsOneEventPerMatchingEntry) {
    write("a.crash");
    write(".hidden.crash");
    watch("job", {glob("", "*.crash", Create)});
    const std::string file = "FILE=" + root_.string() + "/*.crash EVENT=create MATCH=";
    EXPECT_THAT(taken(), ElementsAre(file + at("a.crash")));
    write("b.crash");
    write("c.log");
    write(".d.crash");
    EXPECT_THAT(pump(), ElementsAre(file + at("b.crash")));
}

TEST_F(FileWatcherTest, ARenameOntoAFileIsAModifyOrACreateIfItWasNotThere) {
    watch("job", {file("f")});
    write("tmp1");
    EXPECT_THAT(pump(), IsEmpty());
    fs::rename(root_ / "tmp1", root_ / "f");
    EXPECT_THAT(pump(), ElementsAre("FILE=" + at("f") + " EVENT=create"));
    write("tmp2");
    fs::rename(root_ / "tmp2", root_ / "f");
    EXPECT_THAT(pump(), ElementsAre("FILE=" + at("f") + " EVENT=modify"));
    fs::rename(root_ / "f", root_ / "gone");
    EXPECT_THAT(pump(), ElementsAre("FILE=" + at("f") + " EVENT=delete"));
}

TEST_F(FileWatcherTest, MissingDirectoriesAreFollowedDownAsTheyAppear) {
    watch("job", {file("a/b/c/f", Create)});
    EXPECT_EQ(watcher().watchCount(), 1u);  // the root, for `a`
    fs::create_directory(root_ / "a");
    EXPECT_THAT(pump(), IsEmpty());
    fs::create_directories(root_ / "a/b/c");  // several steps at once
    write("a/b/c/f");
    EXPECT_THAT(pump(), ElementsAre("FILE=" + at("a/b/c/f") + " EVENT=create"));
    EXPECT_EQ(watcher().watchCount(), 1u);  // only c now
    fs::remove_all(root_ / "a");
    EXPECT_THAT(pump(), IsEmpty());
    fs::create_directories(root_ / "a/b/c");
    write("a/b/c/f");
    EXPECT_THAT(pump(), ElementsAre("FILE=" + at("a/b/c/f") + " EVENT=create"));
}

TEST_F(FileWatcherTest, ARecursiveDirectoryIncludesDirectoriesCreatedLater) {
    fs::create_directories(root_ / "t/old");
    watch("job", {directory("t", true)});
    EXPECT_THAT(taken(), ElementsAre("FILE=" + at("t") + "/ EVENT=create RECURSIVE=yes"));
    write("t/old/a");
    fs::create_directories(root_ / "t/new/deeper");
    write("t/new/deeper/b");
    const std::string file = "FILE=" + at("t") + "/ EVENT=";
    EXPECT_THAT(pump(),
                ElementsAre(file + "create MATCH=" + at("t/old/a") + " RECURSIVE=yes",
                            file + "modify MATCH=" + at("t/old/a") + " RECURSIVE=yes",
                            file + "create MATCH=" + at("t/new") + " RECURSIVE=yes",
                            file + "create MATCH=" + at("t/new/deeper") + " RECURSIVE=yes",
                            file + "create MATCH=" + at("t/new/deeper/b") + " RECURSIVE=yes"));
    write("t/new/deeper/b", "more");
    EXPECT_THAT(pump(),
                ElementsAre(file + "modify MATCH=" + at("t/new/deeper/b") + " RECURSIVE=yes"));
    fs::remove_all(root_ / "t/new");
    pump();
    EXPECT_EQ(watcher().watchCount(), 3u);  // root_ (for t itself), t, t/old
}

TEST_F(FileWatcherTest, JobsWatchingOneDirectoryShareOneWatchUntilTheLastGoes) {
    watch("a", {file("x")});
    watch("b", {file("y"), glob("", "*.z")});
    watch("c", {file("x")});
    EXPECT_EQ(watcher().watchCount(), 1u);
    EXPECT_EQ(watcher().specCount(), 3u);
    write("x");
    // One `file` event for both jobs that wait for x.
    EXPECT_THAT(pump(), ElementsAre("FILE=" + at("x") + " EVENT=create",
                                    "FILE=" + at("x") + " EVENT=modify"));
    watch("a", {});
    watch("b", {});
    EXPECT_EQ(watcher().watchCount(), 1u);
    watch("c", {});
    EXPECT_EQ(watcher().watchCount(), 0u);
    EXPECT_EQ(watcher().specCount(), 0u);
}

TEST_F(FileWatcherTest, AJobEditedToWatchAnotherPathStopsWatchingTheOld) {
    fs::create_directories(root_ / "old");
    fs::create_directories(root_ / "new");
    watch("job", {file("old/f")});
    watch("job", {file("new/f")});
    EXPECT_EQ(watcher().watchCount(), 1u);
    write("old/f");
    write("new/f");
    EXPECT_THAT(pump(), ElementsAre("FILE=" + at("new/f") + " EVENT=create",
                                    "FILE=" + at("new/f") + " EVENT=modify"));
}

// The real inotify, but something else happens in the file system just before one watch is
// added: the race between looking at a directory and watching it.
class RacingInotify final : public InotifyCalls {
  public:
    RacingInotify(Inotify& real, std::string path, std::function<void()> meanwhile)
        : real_(real), path_(std::move(path)), meanwhile_(std::move(meanwhile)) {}
    int addWatch(const std::string& path, std::uint32_t mask) override {
        if (path == path_ && meanwhile_) {
            std::exchange(meanwhile_, nullptr)();
        }
        return real_.addWatch(path, mask);
    }
    void removeWatch(int wd) override { real_.removeWatch(wd); }

  private:
    Inotify& real_;
    std::string path_;
    std::function<void()> meanwhile_;
};

// `mkdir -p ~/Mail/new && echo hi >~/Mail/new/1`, with the plugin looking at ~/Mail between the
// two mkdirs: the watch on ~/Mail comes too late to see `new` created.
TEST_F(FileWatcherTest, ADirectoryCreatedJustBeforeItsParentIsWatchedIsStillFollowed) {
    RacingInotify racing(inotify_, at("Mail"), [this] {
        fs::create_directory(root_ / "Mail/new");
        write("Mail/new/1");
    });
    calls_ = &racing;
    watch("mail-notify", {glob("Mail/new", "*", Create)});
    fs::create_directory(root_ / "Mail");
    EXPECT_THAT(pump(), ElementsAre("FILE=" + at("Mail/new") +
                                    "/* EVENT=create MATCH=" + at("Mail/new/1")));
    write("Mail/new/2");
    EXPECT_THAT(pump(), ElementsAre("FILE=" + at("Mail/new") +
                                    "/* EVENT=create MATCH=" + at("Mail/new/2")));
    watcher_.reset();  // it removes its watches through `racing`, which goes now
}

// inotify_add_watch failing with ENOSPC, as it does at fs.inotify.max_user_watches.
class FullInotify final : public InotifyCalls {
  public:
    int addWatch(const std::string&, std::uint32_t) override { return -ENOSPC; }
    void removeWatch(int) override {}
};

TEST_F(FileWatcherTest, TheWatchLimitIsReportedOnceNamingTheJobAndThePath) {
    FullInotify full;
    calls_ = &full;
    fs::create_directories(root_ / "d");
    watch("mail", {file("d/f"), glob("d", "*.x")});
    watch("mail", {file("d/f"), glob("d", "*.y")});
    ASSERT_EQ(logs_.size(), 1u);
    EXPECT_THAT(logs_[0], HasSubstr("cannot watch " + at("d") + " for job mail (FILE="));
    EXPECT_THAT(logs_[0], HasSubstr("inotify watch limit is reached"));
    EXPECT_THAT(logs_[0], HasSubstr("fs.inotify.max_user_watches"));
    watch("other", {file("d/g")});
    ASSERT_EQ(logs_.size(), 2u);
    EXPECT_THAT(logs_[1], HasSubstr("for job other"));
    watcher_.reset();  // before `full`, which it calls, goes
}

}  // namespace
}  // namespace tend::file_bridge
