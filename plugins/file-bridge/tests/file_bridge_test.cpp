// SPDX-License-Identifier: MIT
// file-bridge against the real daemon and the real filesystem: jobs that start on files being
// created, changed and deleted, as Upstart's bridge had them, and what tend adds (renames,
// directories that appear later, trees, debouncing, the watch limit), seen through the jobs'
// logs, `tendctl` and tend's own log.
#include <fcntl.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "support/daemon_fixture.hpp"

namespace tend::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

// Generous: tend may run under AddressSanitizer on a loaded machine.
constexpr auto kWait = std::chrono::milliseconds(20s) * kSanitizerSlowdown;

class FileBridge : public TendDaemonTest {
  protected:
    void SetUp() override {
        TendDaemonTest::SetUp();
        plugins_ = makePluginsDir();
        installPlugin(fs::path(TEND_PLUGINS_DIR) / "file-bridge.so", plugins_, "file-bridge");
        home_ = path("home");
        watched_ = path("w");
        fs::create_directories(home_);
        fs::create_directories(watched_);
    }

    // tend with the plugin, and with HOME inside the test's tree. `before` runs first in the
    // shell that starts tend.
    ::testing::AssertionResult startWithPlugin(const std::string& before = "",
                                               std::vector<std::string> wrapper = {}) {
        wrapper.insert(
            wrapper.end(),
            {"/bin/sh", "-c", before + "HOME=\"$0\" exec \"$@\" --plugins-dir " + plugins_.string(),
             home_.string()});
        return startTend(wrapper);
    }

    void installCounter() {
        installPlugin(fs::path(TEND_TEST_PLUGINS_DIR) / "file_event_counter.so", plugins_,
                      "file_event_counter");
    }
    // The counter plugin's tally: {total, distinct MATCH values}.
    std::pair<long, long> counted() {
        const std::string out = ctl("file-events").out;
        long total = -1;
        long distinct = -1;
        std::sscanf(out.c_str(), "total=%ld distinct=%ld", &total, &distinct);
        return {total, distinct};
    }

    std::string w(const std::string& relative) const { return (watched_ / relative).string(); }

    // An instance's log: `job-instance.log`, with the instance's slashes as underscores.
    std::string instanceLog(const std::string& job, const std::string& instance) const {
        std::string name = job + "-" + instance;
        std::replace(name.begin(), name.end(), '/', '_');
        return readFile(log_dir_ / (name + ".log"));
    }
    std::set<std::string> logsOf(const std::string& job) const {
        std::set<std::string> out;
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(log_dir_, ec)) {
            const std::string name = entry.path().filename().string();
            if (name.starts_with(job + "-")) {
                out.insert(name);
            }
        }
        return out;
    }

    static void touch(const std::string& file, const std::string& text = "x") {
        std::ofstream(file, std::ios::binary) << text;
    }

    bool logSays(const std::string& job, const std::string& text) {
        return waitFor([&] { return readLog(job).find(text) != std::string::npos; }, kWait);
    }

    fs::path plugins_;
    fs::path home_;
    fs::path watched_;
};

TEST_F(FileBridge, CreatingModifyingAndDeletingAFileStartTheJobsWaitingForEach) {
    for (const std::string kind : {"create", "modify", "delete"}) {
        writeJob("on-" + kind, "start on file FILE=" + w("f") + " EVENT=" + kind +
                                   "\ntask\nconsole log\nexec echo \"$EVENT $FILE $MATCH\"\n");
    }
    ASSERT_TRUE(startWithPlugin());
    touch(w("f"));
    ASSERT_TRUE(logSays("on-create", "create " + w("f") + " \n")) << tendLog();
    ASSERT_TRUE(logSays("on-modify", "modify " + w("f"))) << tendLog();
    fs::remove(w("f"));
    ASSERT_TRUE(logSays("on-delete", "delete " + w("f") + " \n")) << tendLog();
    // The deletion came last: by now the create would have been seen twice if it had been sent
    // twice.
    EXPECT_EQ(readLog("on-create"), "create " + w("f") + " \n");
    EXPECT_EQ(readLog("on-delete"), "delete " + w("f") + " \n");
}

// A hundred files at once, each starting a job of its own, three times over. The jobs are spawned
// on tend's time, not in the plugin's 100 ms budget: before, three such bursts got file-bridge
// disabled for the rest of the session, and file-triggered jobs never started again.
TEST_F(FileBridge, BurstsOfEventsThatEachStartAJobLeaveThePluginRunning) {
    constexpr int kJobs = 100;
    for (int i = 0; i < kJobs; ++i) {
        writeJob("burst" + std::to_string(i), "start on file FILE=" + w("b" + std::to_string(i)) +
                                                  " EVENT=create\ntask\nconsole log\n"
                                                  "exec echo ran\n");
    }
    ASSERT_TRUE(startWithPlugin());
    for (int round = 1; round <= 3; ++round) {
        for (int i = 0; i < kJobs; ++i) {
            touch(w("b" + std::to_string(i)));
        }
        for (int i = 0; i < kJobs; ++i) {
            const std::string job = "burst" + std::to_string(i);
            ASSERT_TRUE(waitFor(
                [&] { return countOf(readLog(job), "ran\n") == std::size_t(round); }, kWait))
                << job << " in round " << round << ": " << readLog(job) << tendLog();
        }
        for (int i = 0; i < kJobs; ++i) {
            fs::remove(w("b" + std::to_string(i)));
        }
    }
    EXPECT_THAT(ctl("plugins").out, ::testing::ContainsRegex("file-bridge [^ ]+ running"));
    EXPECT_THAT(tendLog(), Not(HasSubstr("disabling the plugin")));
}

TEST_F(FileBridge, ATrailingSlashWatchesTheEntriesOfADirectory) {
    fs::create_directories(w("d"));
    // MATCH=* leaves out the event for the directory itself (which has no MATCH).
    writeJob("entry", "start on file FILE=" + w("d") +
                          "/ EVENT=create MATCH=*\ntask\ninstance $MATCH\nconsole log\n"
                          "exec echo \"new $MATCH in $FILE\"\n");
    writeJob("gone", "start on file FILE=" + w("d") +
                         "/ EVENT=delete\ntask\nconsole log\nexec echo \"gone $MATCH\"\n");
    ASSERT_TRUE(startWithPlugin());
    touch(w("d/a"));
    touch(w("d/b"));
    ASSERT_TRUE(waitFor(
        [&] {
            return !instanceLog("entry", w("d/a")).empty() &&
                   !instanceLog("entry", w("d/b")).empty();
        },
        kWait))
        << tendLog();
    EXPECT_EQ(instanceLog("entry", w("d/a")), "new " + w("d/a") + " in " + w("d") + "/\n");
    EXPECT_EQ(instanceLog("entry", w("d/b")), "new " + w("d/b") + " in " + w("d") + "/\n");
    fs::remove(w("d/a"));
    ASSERT_TRUE(logSays("gone", "gone " + w("d/a") + "\n")) << tendLog();
}

TEST_F(FileBridge, AGlobEmitsOneEventPerMatchingFileWithItsPathInMatch) {
    writeJob("crash", "start on file FILE=" + w("*.crash") +
                          " EVENT=create\ntask\ninstance $MATCH\nconsole log\n"
                          "exec echo \"FILE=$FILE MATCH=$MATCH\"\n");
    ASSERT_TRUE(startWithPlugin());
    touch(w("a.crash"));
    touch(w("b.log"));
    touch(w("c.crash"));
    // Each instance's log is written on tend's log thread: wait for both.
    ASSERT_TRUE(waitFor(
        [&] {
            return !instanceLog("crash", w("a.crash")).empty() &&
                   !instanceLog("crash", w("c.crash")).empty();
        },
        kWait))
        << tendLog();
    EXPECT_EQ(instanceLog("crash", w("a.crash")),
              "FILE=" + w("*.crash") + " MATCH=" + w("a.crash") + "\n");
    // b.log came before c.crash: had it matched, its instance would have run by now.
    EXPECT_EQ(logsOf("crash").size(), 2u);
}

// `start on` operands expand against the global table, `stop on` operands against the job's
// own; `~` stays as written in FILE, and matches as written.
TEST_F(FileBridge, TildeAndHomeMeanTheHomeOfTendAndFileKeepsTheTilde) {
    writeJob("tilde",
             "start on file FILE=~/inbox/t EVENT=create\ntask\nconsole log\n"
             "exec echo \"FILE=$FILE\"\n");
    writeJob("home-start",
             "start on file FILE=$HOME/inbox/s EVENT=create\ntask\nconsole log\n"
             "exec echo \"FILE=$FILE\"\n");
    writeJob("home",
             "stop on file FILE=$HOME/inbox/h EVENT=create\nexec sleep 1000\n"
             "console log\npost-stop exec echo \"stopped by $FILE\"\n");
    fs::create_directories(home_ / "inbox");
    ASSERT_TRUE(startWithPlugin());
    ASSERT_EQ(ctl("start", "home").exit_code, 0) << tendLog();
    touch((home_ / "inbox/t").string());
    touch((home_ / "inbox/h").string());
    touch((home_ / "inbox/s").string());
    ASSERT_TRUE(logSays("tilde", "FILE=~/inbox/t\n")) << tendLog();
    ASSERT_TRUE(logSays("home-start", "FILE=" + (home_ / "inbox/s").string() + "\n")) << tendLog();
    ASSERT_TRUE(logSays("home", "stopped by " + (home_ / "inbox/h").string() + "\n")) << tendLog();
    EXPECT_THAT(statusOf("home"), HasSubstr("stop/waiting"));
}

TEST_F(FileBridge, AFileThatAlreadyExistsStartsTheJobWhenItRegisters) {
    touch(w("there"));
    writeJob("early", "start on file FILE=" + w("there") + " EVENT=create\nexec sleep 1000\n");
    ASSERT_TRUE(startWithPlugin());
    EXPECT_THAT(waitForStatus("early", "start/running", kWait), HasSubstr("start/running"))
        << tendLog();
    // A job added to the running tend, for a file that is there, too.
    writeJob("late", "start on file FILE=" + w("there") + "\nexec sleep 1000\n");
    EXPECT_THAT(waitForStatus("late", "start/running", kWait), HasSubstr("start/running"))
        << tendLog();
}

TEST_F(FileBridge, AJobEditedToWatchAnotherPathStopsReactingToTheOldOne) {
    const auto job = [&](const std::string& file) {
        return "start on file FILE=" + w(file) +
               " EVENT=create\ntask\nconsole log\nexec echo \"saw $FILE\"\n";
    };
    writeJob("watcher", job("old"));
    ASSERT_TRUE(startWithPlugin());
    writeJob("watcher", job("new"));
    ASSERT_TRUE(waitFor(
        [&] { return ctl("show-config", "watcher").out.find(w("new")) != std::string::npos; },
        kWait))
        << ctl("show-config", "watcher").out;
    touch(w("old"));
    touch(w("new"));
    ASSERT_TRUE(logSays("watcher", "saw " + w("new") + "\n")) << tendLog();
    EXPECT_EQ(readLog("watcher"), "saw " + w("new") + "\n");
}

TEST_F(FileBridge, AnAtomicRenameOntoTheFileCountsAsAModify) {
    touch(w("settings"));
    writeJob("reload", "start on file FILE=" + w("settings") +
                           " EVENT=modify\ntask\nconsole log\nexec echo \"$EVENT $FILE\"\n");
    ASSERT_TRUE(startWithPlugin());
    touch(w(".settings.swp"), "new contents");
    fs::rename(w(".settings.swp"), w("settings"));  // an editor's save
    ASSERT_TRUE(logSays("reload", "modify " + w("settings") + "\n")) << tendLog();
}

TEST_F(FileBridge, AFileBelowDirectoriesThatDoNotExistYetFiresWhenItAppears) {
    writeJob("deep", "start on file FILE=" + w("a/b/c/ready") +
                         " EVENT=create\ntask\nconsole log\nexec echo \"ready $FILE\"\n");
    ASSERT_TRUE(startWithPlugin());
    fs::create_directories(w("a/b/c"));
    touch(w("a/b/c/ready"));
    ASSERT_TRUE(logSays("deep", "ready " + w("a/b/c/ready") + "\n")) << tendLog();
}

TEST_F(FileBridge, RecursiveYesWatchesTheTreeIncludingDirectoriesCreatedLater) {
    fs::create_directories(w("tree/old"));
    writeJob("tree", "start on file FILE=" + w("tree") +
                         "/ RECURSIVE=yes EVENT=create MATCH=*.txt\ntask\ninstance $MATCH\n"
                         "console log\nexec echo \"$MATCH\"\n");
    ASSERT_TRUE(startWithPlugin());
    touch(w("tree/old/one.txt"));
    ASSERT_TRUE(waitFor([&] { return !instanceLog("tree", w("tree/old/one.txt")).empty(); }, kWait))
        << tendLog();
    fs::create_directories(w("tree/new/deeper"));
    touch(w("tree/new/deeper/two.txt"));
    ASSERT_TRUE(
        waitFor([&] { return !instanceLog("tree", w("tree/new/deeper/two.txt")).empty(); }, kWait))
        << tendLog();
    EXPECT_EQ(instanceLog("tree", w("tree/new/deeper/two.txt")),
              w("tree/new/deeper/two.txt") + "\n");
}

TEST_F(FileBridge, ADebounceCollapsesABurstOfChanges) {
    std::ofstream(plugins_ / "file-bridge.conf") << "setting debounce 3000\n";
    installCounter();
    touch(w("busy"));
    writeJob("busy", "start on file FILE=" + w("busy") + " EVENT=modify\nexec sleep 1000\n");
    writeJob("sentinel", "start on file FILE=" + w("sentinel*") +
                             " EVENT=create\ntask\n"
                             "exec true\n");
    ASSERT_TRUE(startWithPlugin());
    for (int i = 0; i < 50; ++i) {
        touch(w("busy"), std::to_string(i));
    }
    touch(w("sentinel"));
    // The sentinel's event (the one with a MATCH) comes after the burst's: the window of the
    // burst opened first.
    ASSERT_TRUE(waitFor([&] { return counted().second == 2; }, kWait)) << tendLog();
    const long burst = counted().first - 1;
    std::cout << "50 writes within the debounce window made " << burst << " event(s)\n";
    EXPECT_GE(burst, 1);
    EXPECT_LE(burst, 10);  // one per 3 s window; 50 writes take far less than 30 s
    EXPECT_THAT(waitForStatus("busy", "start/running", kWait), HasSubstr("start/running"));
}

TEST_F(FileBridge, TheWatchLimitIsReportedOnceNamingTheJobAndThePath) {
    // The limit is per user namespace: a namespace of our own lowers it for tend alone.
    if (runProcess({"/usr/bin/unshare", "-Ur", "/bin/true"}).exit_code != 0) {
        GTEST_SKIP() << "cannot create a user namespace here (unshare -Ur), so the inotify "
                        "watch limit cannot be lowered for tend alone";
    }
    for (int i = 0; i < 200; ++i) {
        fs::create_directories(w("big/" + std::to_string(i)));
    }
    writeJob("big", "start on file FILE=" + w("big") + "/ RECURSIVE=yes\nexec sleep 1000\n");
    writeJob("small", "start on file FILE=" + w("small") + "\nexec sleep 1000\n");
    ASSERT_TRUE(startWithPlugin("echo 64 > /proc/sys/user/max_inotify_watches && ",
                                {"/usr/bin/unshare", "-Ur"}));
    ASSERT_TRUE(waitFor(
        [&] { return tendLog().find("watch limit is reached") != std::string::npos; }, kWait))
        << tendLog();
    const std::string log = tendLog();
    EXPECT_EQ(countOf(log, "error: [file-bridge] cannot watch"), 1u) << log;
    EXPECT_THAT(log, HasSubstr("error: [file-bridge] cannot watch " + w("big/")));
    EXPECT_THAT(log, HasSubstr(" for job big (FILE=" + w("big") + "/)"));
    EXPECT_THAT(log, HasSubstr("fs.inotify.max_user_watches"));
    EXPECT_EQ(ctl("version").exit_code, 0);  // and tend goes on
}

TEST_F(FileBridge, AnOverflowOfTheInotifyQueueIsAWarning) {
    fs::create_directories(w("flood"));
    writeJob("flood", "start on file FILE=" + w("flood/x") + "\nexec sleep 1000\n");
    ASSERT_TRUE(startWithPlugin());
    pauseTend();
    overflowInotifyQueue(w("flood"));
    resumeTend();
    ASSERT_TRUE(waitFor(
        [&] { return tendLog().find("the inotify queue overflowed") != std::string::npos; }, kWait))
        << tendLog();
    EXPECT_THAT(tendLog(), HasSubstr("warning: [file-bridge] the inotify queue overflowed"));
}

// The shipped job, as its comment says: mail arriving in ~/Mail/new is announced.
TEST_F(FileBridge, TheShippedMailNotifyJobAnnouncesNewMail) {
    fs::copy_file(fs::path(TEND_JOBS_DIR) / "mail-notify.conf", jobs_dir_ / "mail-notify.conf");
    ASSERT_TRUE(startWithPlugin());
    fs::create_directories(home_ / "Mail/new");  // after tend started: followed down to it
    const std::string mail = (home_ / "Mail/new/1700000000.M1P2.host").string();
    touch(mail, "Subject: hi\n");
    ASSERT_TRUE(waitFor([&] { return !instanceLog("mail-notify", mail).empty(); }, kWait))
        << tendLog();
    EXPECT_EQ(instanceLog("mail-notify", mail), "new mail: " + mail + "\n");
}

TEST_F(FileBridge, TenThousandFilesInOneDirectoryAreEachReportedOnce) {
    constexpr int kFiles = 10000;
    installCounter();
    fs::create_directories(w("many"));
    writeJob("many", "start on file FILE=" + w("many/*") + " EVENT=create\nexec sleep 1000\n");
    ASSERT_TRUE(startWithPlugin());
    for (int i = 0; i < kFiles; ++i) {
        const std::string file = w("many/f" + std::to_string(i));
        const int fd = ::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        ASSERT_GE(fd, 0) << file;
        ::close(fd);
    }
    touch(w("many/zz-sentinel"));  // last: once it is counted, everything before it is too
    ASSERT_TRUE(waitFor([&] { return counted().second == kFiles + 1; }, 10 * kWait, 100ms))
        << "counted " << counted().first << " events, " << counted().second << " distinct";
    const auto [total, distinct] = counted();
    std::cout << "file events for " << kFiles << " files and a sentinel: " << total << " ("
              << distinct << " distinct MATCH values)\n";
    RecordProperty("file_events", std::to_string(total));
    RecordProperty("distinct_matches", std::to_string(distinct));
    EXPECT_EQ(total, kFiles + 1);
    EXPECT_EQ(distinct, kFiles + 1);
    EXPECT_THAT(statusOf("many"), HasSubstr("start/running"));
}

}  // namespace
}  // namespace tend::test
