// SPDX-License-Identifier: MIT
// Hot reload against a real tend: job files edited the way editors and tools edit them, while
// their jobs are stopped, running or starting. Every assertion is on what a user sees: tendctl's
// output (status, list, show-config, reload-configuration, --json), the processes' command lines
// in /proc, and the reload plans in tend's own log, counted to prove that a change was applied
// exactly once and never half-written.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support/daemon_fixture.hpp"
#include "support/raw_control_client.hpp"

namespace tend {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using json = nlohmann::json;
using test::ProcessResult;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

using Clock = std::chrono::steady_clock;

// Long enough for a second, unwanted reload to show up: more than the debounce, the write
// settling and the 150 ms removal grace.
constexpr auto kQuiet = 400ms;

class HotReload : public test::TendDaemonTest {
  protected:
    // tend with the fixture's options and then `options` (`--watch off`, a second `--jobs-dir`).
    ::testing::AssertionResult startTendWith(const std::vector<std::string>& options) {
        std::string script = "exec \"$@\"";
        for (const auto& option : options) {
            script += " '" + option + "'";
        }
        return startTend({"/bin/sh", "-c", script, "sh"});
    }

    fs::path jobFile(const std::string& name) const { return jobs_dir_ / (name + ".conf"); }

    // What vim's `backupcopy=no`, emacs, gedit and `sed -i` do: a whole new file renamed over
    // the old one.
    static void replaceFile(const fs::path& file, const std::string& text) {
        const fs::path temp = file.parent_path() / ("." + file.filename().string() + ".tmp");
        std::ofstream(temp, std::ios::binary) << text;
        fs::rename(temp, file);
    }

    std::string showConfig(const std::string& job) { return ctl("show-config", job).out; }

    bool waitForShowConfig(const std::string& job, const std::string& text,
                           std::chrono::milliseconds timeout = 5s) {
        return waitFor([&] { return showConfig(job).find(text) != std::string::npos; }, timeout);
    }

    // How often a reload plan in tend's log said `verb job` ("added", "changed", "removed",
    // "kept"), for reloads of `why` ("job files changed": inotify; "periodic rescan").
    std::size_t planLines(const std::string& verb, const std::string& job,
                          const std::string& why = "job files changed") {
        return countOf(tendLog(), why + ": " + verb + " " + job + ":");
    }

    bool waitForPlan(const std::string& verb, const std::string& job, std::size_t count = 1,
                     std::chrono::milliseconds timeout = 5s,
                     const std::string& why = "job files changed") {
        return waitFor([&] { return planLines(verb, job, why) >= count; }, timeout);
    }

    // The main process's command line, as /proc has it ("sleep 1001 "). A process tend has just
    // started may still be inside execve, with no command line yet.
    std::string runningCommand(const std::string& job) {
        const pid_t pid = mainPidOf(job);
        if (pid <= 0) {
            return "(no main process)";
        }
        std::string command;
        waitFor([&] { return !(command = commandLine(pid)).empty(); }, 2s, 2ms);
        return command;
    }

    json statusJson(const std::string& job) {
        const ProcessResult r = ctl("--json", "status", job);
        return json::parse(r.out, nullptr, false);
    }

    static long rssKb(pid_t pid) {
        std::istringstream in(readFile("/proc/" + std::to_string(pid) + "/status"));
        for (std::string line; std::getline(in, line);) {
            if (line.rfind("VmRSS:", 0) == 0) {
                return std::stol(line.substr(6));
            }
        }
        return -1;
    }
};

constexpr const char* kRemovedNote = "[job file removed; runs until stopped]";
constexpr const char* kErrorNote = "[job file has errors: ";
std::string changedNote(const std::string& job) {
    return "[definition changed; restart to apply: tendctl restart --reload " + job + "]";
}

// ---------------------------------------------------------------------------------------------
// The matrix (circus's reload fixtures): add, change or delete a job file while its job is
// stopped, running or in the middle of starting (`pre-start exec sleep 1`), for the exec line
// and for the triggers. A job that runs has a file already: "add" while it runs or starts is
// its removed file coming back before the instance has stopped.

enum class Edit { Add, Change, Delete };
enum class When { Stopped, Running, Starting };
enum class Part { Exec, Triggers };
using Cell = std::tuple<Edit, When, Part>;

class HotReloadMatrix : public HotReload, public ::testing::WithParamInterface<Cell> {
  protected:
    static constexpr const char* kJob = "svc";

    // Version 1 runs `sleep 1001` and answers go-old/halt-old; the edit moves only `part` on.
    static std::string jobText(bool new_exec, bool new_triggers, bool starting) {
        const std::string triggers = new_triggers ? "new" : "old";
        return "start on go-" + triggers + "\nstop on halt-" + triggers + "\n" +
               (starting ? "pre-start exec sleep 1\n" : "") + "exec sleep " +
               (new_exec ? "1002" : "1001") + "\n";
    }

    void expectUnknown() {
        const ProcessResult status = ctl("status", kJob);
        EXPECT_NE(status.exit_code, 0) << status.out;
        EXPECT_THAT(status.err, HasSubstr("Unknown job: svc"));
        EXPECT_THAT(ctl("list").out, Not(HasSubstr("svc ")));
    }
};

TEST_P(HotReloadMatrix, AppliesTheUpstartRules) {
    const auto [edit, when, part] = GetParam();
    const bool starting = when == When::Starting;
    const std::string old_text = jobText(false, false, starting);
    const std::string new_text = jobText(part == Part::Exec, part == Part::Triggers, starting);
    if (edit != Edit::Add || when != When::Stopped) {
        writeJob(kJob, old_text);
    }
    ASSERT_TRUE(startTend());

    if (when == When::Running) {
        const ProcessResult started = ctl("start", kJob);
        ASSERT_EQ(started.exit_code, 0) << started.err;
    } else if (starting) {
        const ProcessResult started = ctl("start", "-n", kJob);
        ASSERT_EQ(started.exit_code, 0) << started.err;
        ASSERT_THAT(waitForStatus(kJob, "start/pre-start", 3s), HasSubstr("start/pre-start"));
    }

    switch (edit) {
    case Edit::Add:
        if (when != When::Stopped) {
            // The file goes first; it comes back while its old instance still runs.
            fs::remove(jobFile(kJob));
            ASSERT_THAT(waitForStatus(kJob, kRemovedNote, 3s), HasSubstr(kRemovedNote));
        }
        writeJob(kJob, new_text);
        ASSERT_TRUE(waitForPlan("added", kJob)) << tendLog();
        break;
    case Edit::Change:
        replaceFile(jobFile(kJob), new_text);
        ASSERT_TRUE(waitForPlan("changed", kJob)) << tendLog();
        break;
    case Edit::Delete:
        fs::remove(jobFile(kJob));
        ASSERT_TRUE(waitForPlan("removed", kJob)) << tendLog();
        break;
    }
    if (starting) {
        // The edit landed while the job was still starting.
        EXPECT_THAT(statusOf(kJob), HasSubstr("start/pre-start"));
        ASSERT_THAT(waitForStatus(kJob, "start/running", 5s), HasSubstr("start/running"));
    }

    if (when == When::Stopped) {
        if (edit == Edit::Delete) {
            expectUnknown();
            EXPECT_EQ(ctl("emit", "go-old").exit_code, 0);
            EXPECT_TRUE(jobProcesses(kJob).empty());
        } else if (part == Part::Exec) {
            EXPECT_EQ(statusOf(kJob), "svc stop/waiting\n");
            ASSERT_EQ(ctl("start", kJob).exit_code, 0);
            EXPECT_THAT(runningCommand(kJob), HasSubstr("sleep 1002"));
        } else {
            EXPECT_EQ(ctl("emit", "go-old").exit_code, 0);
            EXPECT_EQ(statusOf(kJob), "svc stop/waiting\n");
            EXPECT_EQ(ctl("emit", "go-new").exit_code, 0);
            EXPECT_THAT(statusOf(kJob), HasSubstr("start/running"));
            EXPECT_EQ(ctl("emit", "halt-old").exit_code, 0);
            EXPECT_THAT(statusOf(kJob), HasSubstr("start/running"));
            EXPECT_EQ(ctl("emit", "halt-new").exit_code, 0);
            EXPECT_EQ(statusOf(kJob), "svc stop/waiting\n");
        }
        return;
    }

    // Running (or started since): the instance keeps the definition it started with.
    const pid_t pid = mainPidOf(kJob);
    ASSERT_GT(pid, 0) << statusOf(kJob);
    EXPECT_THAT(commandLine(pid), HasSubstr("sleep 1001"));
    if (edit == Edit::Delete) {
        EXPECT_THAT(statusOf(kJob), HasSubstr(kRemovedNote));
        if (part == Part::Exec) {
            ASSERT_EQ(ctl("stop", kJob).exit_code, 0);
        } else {
            // Its `stop on` still works; `start on` no longer does.
            EXPECT_EQ(ctl("emit", "halt-old").exit_code, 0);
            EXPECT_EQ(ctl("emit", "go-old").exit_code, 0);
            EXPECT_TRUE(jobProcesses(kJob).empty());
        }
        EXPECT_FALSE(processAlive(pid));
        expectUnknown();
        return;
    }
    EXPECT_THAT(statusOf(kJob), Not(HasSubstr(kRemovedNote)));
    if (part == Part::Exec) {
        EXPECT_EQ(statusOf(kJob), "svc start/running, process " + std::to_string(pid) + " " +
                                      changedNote(kJob) + "\n");
        const json status = statusJson(kJob);
        EXPECT_EQ(status["instances"][0]["definition_changed"], true) << status.dump();
        const ProcessResult restarted = ctl("restart", "--reload", kJob);
        ASSERT_EQ(restarted.exit_code, 0) << restarted.err;
        EXPECT_FALSE(processAlive(pid));
        EXPECT_THAT(runningCommand(kJob), HasSubstr("sleep 1002"));
        EXPECT_THAT(statusOf(kJob), MatchesRegex("svc start/running, process [0-9]+\n"));
        EXPECT_FALSE(statusJson(kJob)["instances"][0].contains("definition_changed"));
    } else {
        // `start on` and `stop on` take effect at once, on the running instance too.
        EXPECT_EQ(ctl("emit", "halt-old").exit_code, 0);
        EXPECT_EQ(mainPidOf(kJob), pid);
        EXPECT_EQ(ctl("emit", "halt-new").exit_code, 0);
        EXPECT_EQ(statusOf(kJob), "svc stop/waiting\n");
        EXPECT_FALSE(processAlive(pid));
        EXPECT_EQ(ctl("emit", "go-old").exit_code, 0);
        EXPECT_EQ(statusOf(kJob), "svc stop/waiting\n");
        EXPECT_EQ(ctl("emit", "go-new").exit_code, 0);
        EXPECT_THAT(statusOf(kJob), MatchesRegex("svc start/running, process [0-9]+\n"));
        EXPECT_THAT(runningCommand(kJob), HasSubstr("sleep 1001"));
    }
}

std::string cellName(const ::testing::TestParamInfo<Cell>& info) {
    const auto [edit, when, part] = info.param;
    static const char* const kEdits[] = {"Add", "Change", "Delete"};
    static const char* const kWhens[] = {"WhileStopped", "WhileRunning", "WhileStarting"};
    static const char* const kParts[] = {"Exec", "Triggers"};
    return std::string(kEdits[static_cast<int>(edit)]) + kParts[static_cast<int>(part)] +
           kWhens[static_cast<int>(when)];
}

INSTANTIATE_TEST_SUITE_P(
    , HotReloadMatrix,
    ::testing::Combine(::testing::Values(Edit::Add, Edit::Change, Edit::Delete),
                       ::testing::Values(When::Stopped, When::Running, When::Starting),
                       ::testing::Values(Part::Exec, Part::Triggers)),
    cellName);

// ---------------------------------------------------------------------------------------------
// Editor patterns: the final content is applied exactly once, and nothing half-written is.

class EditorPatterns : public HotReload {
  protected:
    static constexpr const char* kFinal = "start on go-final\nexec sleep 1002\n";

    void SetUp() override {
        HotReload::SetUp();
        if (::testing::Test::HasFatalFailure()) {
            return;
        }
        writeJob("editme", "start on go-1\nexec sleep 1001\n");
    }

    void startRunning() {
        ASSERT_TRUE(startTend());
        const ProcessResult started = ctl("start", "editme");
        ASSERT_EQ(started.exit_code, 0) << started.err;
        pid_ = pidIn(started.out);
    }

    // The final definition is in force, it came in one reload, and no reload ever saw a
    // half-written file; the running instance runs on, on its old definition.
    void expectFinalAppliedOnce() {
        ASSERT_TRUE(waitForShowConfig("editme", "start on go-final")) << tendLog();
        std::this_thread::sleep_for(kQuiet);
        const std::string log = tendLog();
        EXPECT_EQ(planLines("changed", "editme"), 1u) << log;
        EXPECT_EQ(planLines("removed", "editme"), 0u) << log;
        EXPECT_THAT(log, Not(HasSubstr("error"))) << log;
        EXPECT_EQ(showConfig("editme"), "editme\n  start on go-final\n");
        EXPECT_EQ(statusOf("editme"), "editme start/running, process " + std::to_string(pid_) +
                                          " " + changedNote("editme") + "\n");
        EXPECT_THAT(commandLine(pid_), HasSubstr("sleep 1001"));
    }

    pid_t pid_ = 0;
};

TEST_F(EditorPatterns, SedInPlaceIsAppliedOnce) {
    startRunning();
    const ProcessResult sed = test::runProcess(
        {"/bin/sh", "-c",
         "sed -i -e s/go-1/go-final/ -e s/1001/1002/ " + jobFile("editme").string()});
    ASSERT_EQ(sed.exit_code, 0) << sed.err;
    expectFinalAppliedOnce();
}

TEST_F(EditorPatterns, TempFileRenamedOverTheOriginalIsAppliedOnce) {
    startRunning();
    replaceFile(jobFile("editme"), kFinal);
    expectFinalAppliedOnce();
}

// vim with `backupcopy=no` and emacs: the original is renamed to a backup, a new file is
// written under the old name, the backup goes.
TEST_F(EditorPatterns, BackupRenameThenFreshWriteIsAppliedOnce) {
    startRunning();
    const fs::path file = jobFile("editme");
    fs::rename(file, file.string() + "~");
    {
        std::ofstream out(file, std::ios::binary);
        out << "start on go-";
        out.flush();
        std::this_thread::sleep_for(20ms);
        out << "final\nexec sleep 1002\n";
    }
    fs::remove(file.string() + "~");
    expectFinalAppliedOnce();
}

TEST_F(EditorPatterns, TruncateAndChunkedWritesAreAppliedOnceWhole) {
    startRunning();
    const int fd = ::open(jobFile("editme").c_str(), O_WRONLY | O_TRUNC);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    // Each prefix would parse (or fail to) as something else: "start on go-", "start on
    // go-final\nexec sl".
    const std::vector<std::string> chunks{"start on go-", "final\nexec sl", "eep 1002\n"};
    for (const auto& chunk : chunks) {
        ASSERT_EQ(::write(fd, chunk.data(), chunk.size()), static_cast<ssize_t>(chunk.size()));
        std::this_thread::sleep_for(150ms);
        EXPECT_EQ(showConfig("editme"), "editme\n  start on go-1\n") << "after '" << chunk << "'";
    }
    ::close(fd);
    expectFinalAppliedOnce();
}

TEST_F(EditorPatterns, DeleteAndRecreateWithin100MsIsAChangeNotARemoval) {
    startRunning();
    fs::remove(jobFile("editme"));
    std::this_thread::sleep_for(60ms);
    writeJob("editme", kFinal);
    for (int i = 0; i < 10; ++i) {
        EXPECT_THAT(statusOf("editme"), Not(HasSubstr(kRemovedNote)));
        std::this_thread::sleep_for(30ms);
    }
    expectFinalAppliedOnce();
}

TEST_F(EditorPatterns, SymlinkRepointedByRenameIsAppliedOnce) {
    writeFile("elsewhere/v1.conf", "start on go-1\nexec sleep 1001\n");
    writeFile("elsewhere/v2.conf", kFinal);
    fs::remove(jobFile("editme"));
    fs::create_symlink(path("elsewhere/v1.conf"), jobFile("editme"));
    startRunning();
    // ln -sfn: a new symlink under a temporary name, renamed over the old one.
    const fs::path temp = jobs_dir_ / ".editme.conf.new";
    fs::create_symlink(path("elsewhere/v2.conf"), temp);
    fs::rename(temp, jobFile("editme"));
    expectFinalAppliedOnce();
}

TEST_F(EditorPatterns, SymlinkTargetEditedInPlaceIsAppliedOnce) {
    writeFile("elsewhere/target.conf", "start on go-1\nexec sleep 1001\n");
    fs::remove(jobFile("editme"));
    fs::create_symlink(path("elsewhere/target.conf"), jobFile("editme"));
    startRunning();
    std::ofstream(path("elsewhere/target.conf"), std::ios::binary | std::ios::trunc) << kFinal;
    expectFinalAppliedOnce();
}

TEST_F(EditorPatterns, SymlinkTargetReplacedBySedIsAppliedOnce) {
    writeFile("elsewhere/target.conf", "start on go-1\nexec sleep 1001\n");
    fs::remove(jobFile("editme"));
    fs::create_symlink(path("elsewhere/target.conf"), jobFile("editme"));
    startRunning();
    const ProcessResult sed = test::runProcess(
        {"/bin/sh", "-c",
         "sed -i -e s/go-1/go-final/ -e s/1001/1002/ " + path("elsewhere/target.conf").string()});
    ASSERT_EQ(sed.exit_code, 0) << sed.err;
    expectFinalAppliedOnce();
}

TEST_F(EditorPatterns, OverrideAddedChangedAndRemovedIsAppliedOnceEachTime) {
    startRunning();
    const fs::path override_file = jobs_dir_ / "editme.override";
    std::ofstream(override_file, std::ios::binary) << "start on go-override\n";
    ASSERT_TRUE(waitForShowConfig("editme", "start on go-override")) << tendLog();
    std::this_thread::sleep_for(kQuiet);
    EXPECT_EQ(planLines("changed", "editme"), 1u) << tendLog();

    replaceFile(override_file, "start on go-override-2\n");
    ASSERT_TRUE(waitForShowConfig("editme", "start on go-override-2")) << tendLog();
    std::this_thread::sleep_for(kQuiet);
    EXPECT_EQ(planLines("changed", "editme"), 2u) << tendLog();

    fs::remove(override_file);
    ASSERT_TRUE(waitForShowConfig("editme", "start on go-1\n")) << tendLog();
    std::this_thread::sleep_for(kQuiet);
    EXPECT_EQ(planLines("changed", "editme"), 3u) << tendLog();
    EXPECT_EQ(planLines("removed", "editme"), 0u) << tendLog();
    EXPECT_THAT(tendLog(), Not(HasSubstr("error")));
    // Only `start on` changed: the plan says it is in force at once.
    EXPECT_THAT(tendLog(), HasSubstr("job files changed: changed editme: start on; start on/stop "
                                     "on take effect now"));
}

// Timestamps of whole seconds (ext4 with 128-byte inodes, FAT, some network filesystems): a
// rewrite of the same size within the second tend read the file in leaves every stamp
// (inode, size, mtime, ctime) as it was. Regression: tend kept the first version for good.
// The job directory is an ext4 image mounted over jobs/; without root or a loop device the
// test is skipped.
class WholeSecondTimestamps : public HotReload {
  protected:
    void SetUp() override {
        HotReload::SetUp();
        if (::testing::Test::HasFatalFailure()) {
            return;
        }
        if (::geteuid() != 0) {
            GTEST_SKIP() << "mounting a loop device needs root";
        }
        const std::string image = path("coarse.img").string();
        const ProcessResult mounted = test::runProcess(
            {"/bin/sh", "-c",
             "PATH=$PATH:/usr/sbin:/sbin; truncate -s 8M " + image + " && mkfs.ext4 -q -F -I 128 " +
                 image + " 2>/dev/null && mount -o loop " + image + " " + jobs_dir_.string()});
        if (mounted.exit_code != 0) {
            GTEST_SKIP() << "cannot mount an ext4 image with 128-byte inodes: " << mounted.err;
        }
        mounted_ = true;
    }

    void TearDown() override {
        stopTend();
        if (mounted_) {
            test::runProcess(
                {"/bin/sh", "-c",
                 "umount " + jobs_dir_.string() + " || umount -l " + jobs_dir_.string()});
        }
        HotReload::TearDown();
    }

    static std::int64_t mtimeSeconds(const fs::path& file) {
        struct stat st {};
        ::stat(file.c_str(), &st);
        return st.st_mtim.tv_sec;
    }

    bool mounted_ = false;
};

TEST_F(WholeSecondTimestamps, SameSizeRewriteWithinTheSecondOfTheReadIsApplied) {
    writeJob("svc", "start on go-xxx0\n");
    ASSERT_TRUE(startTend());
    for (int attempt = 1; attempt <= 3; ++attempt) {
        // Just after a second begins: a write, tend reads it, a second write of the same size.
        const auto now = std::chrono::system_clock::now().time_since_epoch();
        std::this_thread::sleep_for(1s - (now % 1s) + 20ms);
        const std::string n = std::to_string(attempt);
        std::ofstream(jobFile("svc"), std::ios::binary | std::ios::trunc)
            << "start on go-aaa" + n + "\n";
        ASSERT_TRUE(waitForShowConfig("svc", "start on go-aaa" + n, 2s)) << tendLog();
        const std::int64_t read_in = mtimeSeconds(jobFile("svc"));
        std::ofstream(jobFile("svc"), std::ios::binary | std::ios::trunc)
            << "start on go-bbb" + n + "\n";
        if (mtimeSeconds(jobFile("svc")) != read_in) {
            continue;  // the second write fell into the next second: no race to test
        }
        EXPECT_TRUE(waitForShowConfig("svc", "start on go-bbb" + n, 3s)) << tendLog();
        EXPECT_EQ(showConfig("svc"), "svc\n  start on go-bbb" + n + "\n");
        return;
    }
    FAIL() << "no two writes within one second in three attempts";
}

// ---------------------------------------------------------------------------------------------
// Where job files live

TEST_F(HotReload, WatchesSubfoldersIncludingOnesCreatedLater) {
    writeJob("early/one", "start on go-1\n");
    ASSERT_TRUE(startTend());
    replaceFile(jobFile("early/one"), "start on go-2\n");
    ASSERT_TRUE(waitForShowConfig("early/one", "start on go-2")) << tendLog();

    fs::create_directories(jobs_dir_ / "later/deeper");
    writeJob("later/deeper/two", "start on go-1\n");
    ASSERT_TRUE(waitForShowConfig("later/deeper/two", "start on go-1")) << tendLog();
    EXPECT_EQ(statusOf("later/deeper/two"), "later/deeper/two stop/waiting\n");
    // The new folder is watched too: an in-place edit in it is seen.
    std::ofstream(jobFile("later/deeper/two"), std::ios::binary) << "start on go-2\n";
    ASSERT_TRUE(waitForShowConfig("later/deeper/two", "start on go-2")) << tendLog();
    std::this_thread::sleep_for(kQuiet);
    EXPECT_EQ(planLines("added", "later/deeper/two"), 1u) << tendLog();
    EXPECT_EQ(planLines("changed", "later/deeper/two"), 1u) << tendLog();

    // A folder moved in from elsewhere brings its jobs.
    writeFile("staged/three.conf", "start on go-3\n");
    fs::rename(path("staged"), jobs_dir_ / "staged");
    ASSERT_TRUE(waitForShowConfig("staged/three", "start on go-3")) << tendLog();
}

// The kernel drops inotify events once a watcher's queue is full and says only that it did: a
// job file written at such a moment is still found, because the overflow makes tend rescan every
// job file.
TEST_F(HotReload, AJobWrittenWhileTheWatchQueueOverflowedIsStillFound) {
    writeJob("before", "start on go-1\n");
    ASSERT_TRUE(startTend());
    ASSERT_TRUE(waitForShowConfig("before", "start on go-1"));
    pauseTend();
    overflowInotifyQueue(jobs_dir_);
    replaceFile(jobFile("before"), "start on go-2\n");  // these events come after the overflow
    replaceFile(jobFile("after"), "start on go-3\n");
    resumeTend();
    ASSERT_TRUE(waitForShowConfig("after", "start on go-3", 10s)) << tendLog();
    EXPECT_THAT(showConfig("before"), HasSubstr("start on go-2"));
    EXPECT_THAT(tendLog(), HasSubstr("the job files' inotify queue overflowed"));
}

TEST_F(HotReload, RemovedFolderTakesItsJobsAndRunningOnesRunUntilStopped) {
    writeJob("group/running", "exec sleep 1001\n");
    writeJob("group/idle", "exec sleep 1001\n");
    writeJob("stays", "exec sleep 1001\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "group/running").exit_code, 0);
    const pid_t pid = mainPidOf("group/running");

    fs::remove_all(jobs_dir_ / "group");
    ASSERT_TRUE(waitForPlan("removed", "group/idle")) << tendLog();
    ASSERT_TRUE(waitForPlan("removed", "group/running")) << tendLog();
    EXPECT_EQ(ctl("list").out, "group/running start/running, process " + std::to_string(pid) + " " +
                                   kRemovedNote + "\nstays stop/waiting\n");
    ASSERT_EQ(ctl("stop", "group/running").exit_code, 0);
    EXPECT_EQ(ctl("list").out, "stays stop/waiting\n");

    // The same folder made again is watched again.
    writeJob("group/back", "start on go-back\n");
    ASSERT_TRUE(waitForShowConfig("group/back", "start on go-back")) << tendLog();
    std::ofstream(jobFile("group/back"), std::ios::binary) << "start on go-back-2\n";
    ASSERT_TRUE(waitForShowConfig("group/back", "start on go-back-2")) << tendLog();
}

TEST_F(HotReload, JobInAHigherPriorityDirectoryTakesOverAndGivesBack) {
    const fs::path low = root_ / "low";
    writeFile("low/svc.conf", "start on go-low\nexec sleep 1001\n");
    ASSERT_TRUE(startTendWith({"--jobs-dir", low.string()}));
    ASSERT_EQ(ctl("start", "svc").exit_code, 0);
    const pid_t pid = mainPidOf("svc");

    writeJob("svc", "start on go-high\nexec sleep 1002\n");
    ASSERT_TRUE(waitForShowConfig("svc", "start on go-high")) << tendLog();
    EXPECT_THAT(tendLog(), HasSubstr("job files changed: changed svc: start on, exec/script (now "
                                     "from " +
                                     jobFile("svc").string() + ")"));
    EXPECT_EQ(statusOf("svc"), "svc start/running, process " + std::to_string(pid) + " " +
                                   changedNote("svc") + "\n");
    ASSERT_EQ(ctl("restart", "--reload", "svc").exit_code, 0);
    EXPECT_THAT(runningCommand("svc"), HasSubstr("sleep 1002"));

    // Gone from the first directory: the second one's file owns the job again.
    fs::remove(jobFile("svc"));
    ASSERT_TRUE(waitForShowConfig("svc", "start on go-low")) << tendLog();
    EXPECT_THAT(tendLog(), HasSubstr("(now from " + (low / "svc.conf").string() + ")"));
    EXPECT_EQ(planLines("removed", "svc"), 0u) << tendLog();
    // The request's option as tendctl sent it before it had its own word ("adopt") still works.
    test::RawClient client(socketPath());
    const auto reply = client.exchange(
        R"({"protocol":1,"command":"restart","args":["svc"],"options":{"reload":true}})"
        "\n");
    ASSERT_TRUE(reply && reply->value("ok", false)) << (reply ? reply->dump() : "no reply");
    EXPECT_THAT(runningCommand("svc"), HasSubstr("sleep 1001"));
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST_F(HotReload, BrokenEditKeepsTheLastGoodDefinitionAndSaysWhere) {
    writeJob("svc", "start on go-1\nexec sleep 1001\n");
    writeJob("idle", "start on go-1\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "svc").exit_code, 0);
    const pid_t pid = mainPidOf("svc");

    replaceFile(jobFile("svc"), "start on go-2\nexec sleep 1002\nbogus stanza\n");
    replaceFile(jobFile("idle"), "start on (go-2\n");
    const std::string svc_error = jobFile("svc").string() + ":3:1: unknown stanza 'bogus'";
    const std::string idle_error =
        jobFile("idle").string() + ":2:1: unbalanced '(': expected ')' before end of file";
    // Each error is one line of tend's log, whose level says "error" once.
    ASSERT_TRUE(waitFor([&] { return countOf(tendLog(), "error: " + idle_error) > 0; }))
        << tendLog();
    ASSERT_TRUE(waitFor([&] { return countOf(tendLog(), "error: " + svc_error) > 0; }))
        << tendLog();
    EXPECT_THAT(tendLog(), Not(HasSubstr(": error: unknown stanza"))) << tendLog();
    EXPECT_THAT(tendLog(),
                HasSubstr("kept svc: " + svc_error + "; the last good definition stays in force"));
    // status says what the error is, and where.
    const std::string svc_note =
        "[job file has errors: " + svc_error + "; the last good definition is in force]";
    const std::string idle_note =
        "[job file has errors: " + idle_error + "; the last good definition is in force]";

    EXPECT_EQ(showConfig("svc"), "svc\n  start on go-1\n");
    EXPECT_EQ(showConfig("idle"), "idle\n  start on go-1\n");
    EXPECT_EQ(statusOf("svc"),
              "svc start/running, process " + std::to_string(pid) + " " + svc_note + "\n");
    EXPECT_EQ(ctl("list").out, "idle stop/waiting " + idle_note + "\nsvc start/running, process " +
                                   std::to_string(pid) + " " + svc_note + "\n");
    const json status = statusJson("svc");
    EXPECT_EQ(status["file_error"], svc_error) << status.dump();
    EXPECT_EQ(status["note"],
              "job file has errors: " + svc_error + "; the last good definition is in force");
    // The last good definition is the one a restart --reload runs.
    ASSERT_EQ(ctl("restart", "--reload", "svc").exit_code, 0);
    EXPECT_THAT(runningCommand("svc"), HasSubstr("sleep 1001"));

    // Fixed: the new definition comes in and the notes go.
    replaceFile(jobFile("svc"), "start on go-2\nexec sleep 1002\n");
    replaceFile(jobFile("idle"), "start on go-2\n");
    ASSERT_TRUE(waitForShowConfig("svc", "start on go-2")) << tendLog();
    ASSERT_TRUE(waitForShowConfig("idle", "start on go-2")) << tendLog();
    EXPECT_EQ(statusOf("idle"), "idle stop/waiting\n");
    EXPECT_THAT(statusOf("svc"), HasSubstr(changedNote("svc")));
    EXPECT_THAT(statusOf("svc"), Not(HasSubstr(kErrorNote)));
    EXPECT_FALSE(statusJson("svc").contains("file_error"));
}

TEST_F(HotReload, NewFileThatNeverParsedIsNotAJob) {
    ASSERT_TRUE(startTend());
    writeJob("broken", "start on go\nexec\n");
    ASSERT_TRUE(waitFor([&] { return countOf(tendLog(), jobFile("broken").string() + ":2:") > 0; }))
        << tendLog();
    EXPECT_THAT(ctl("status", "broken").err, HasSubstr("Unknown job: broken"));
    writeJob("broken", "start on go\nexec sleep 1001\n");
    ASSERT_TRUE(waitForPlan("added", "broken")) << tendLog();
    EXPECT_EQ(statusOf("broken"), "broken stop/waiting\n");
}

// Regression: an edit that was undone left "definition changed" on the running instance,
// whose definition was the file's again.
TEST_F(HotReload, UndoingAnEditLeavesNoDefinitionChangedNote) {
    writeJob("svc", "start on go-1\nexec sleep 1001\n");
    ASSERT_TRUE(startTend());
    ASSERT_EQ(ctl("start", "svc").exit_code, 0);
    const std::string running = "svc start/running, process " + std::to_string(mainPidOf("svc"));

    replaceFile(jobFile("svc"), "start on go-1\nexec sleep 1002\n");
    ASSERT_TRUE(waitForPlan("changed", "svc")) << tendLog();
    EXPECT_EQ(statusOf("svc"), running + " " + changedNote("svc") + "\n");
    replaceFile(jobFile("svc"), "start on go-1\nexec sleep 1001\n");
    ASSERT_TRUE(waitForPlan("changed", "svc", 2)) << tendLog();
    EXPECT_EQ(statusOf("svc"), running + "\n");
    EXPECT_THAT(tendLog(), HasSubstr("changed svc: exec/script; its running instance already "
                                     "runs it"));

    // Likewise a file that was removed and came back as it was.
    fs::remove(jobFile("svc"));
    ASSERT_THAT(waitForStatus("svc", kRemovedNote, 3s), HasSubstr(kRemovedNote));
    writeJob("svc", "start on go-1\nexec sleep 1001\n");
    ASSERT_TRUE(waitForPlan("added", "svc")) << tendLog();
    EXPECT_EQ(statusOf("svc"), running + "\n");
}

// ---------------------------------------------------------------------------------------------
// reload-configuration and the plan

TEST_F(HotReload, DryRunPrintsThePlanAndChangesNothing) {
    writeJob("changes", "start on go-1\nexec sleep 1001\n");
    writeJob("goes", "exec sleep 1001\n");
    writeJob("stays", "start on go-1\n");
    // Past the timestamp granule of these writes: a file tend reads within it is read again at
    // the next reload (its stamp cannot be trusted yet), and the counts below would be 3 read.
    std::this_thread::sleep_for(30ms);
    ASSERT_TRUE(startTendWith({"--watch", "off"}));
    ASSERT_EQ(ctl("start", "changes").exit_code, 0);
    ASSERT_EQ(ctl("start", "goes").exit_code, 0);
    const std::string changes_pid = std::to_string(mainPidOf("changes"));
    const std::string goes_pid = std::to_string(mainPidOf("goes"));

    writeJob("comes", "start on go-1\n");
    replaceFile(jobFile("changes"), "start on go-1\nexec sleep 1002\n");
    fs::remove(jobFile("goes"));
    const std::string plan =
        "change changes: exec/script; its running instance (process " + changes_pid +
        ") keeps its old definition until it stops (tendctl restart --reload changes applies "
        "it now)\n"
        "add comes: " +
        jobFile("comes").string() +
        "\n"
        "remove goes: " +
        jobFile("goes").string() + " is gone; its running instance (process " + goes_pid +
        ") keeps running until it stops\n";
    const std::string summary = "3 job files: 1 added, 1 changed, 1 unchanged; 1 removed\n";
    const std::string dry_plan = std::regex_replace(
        plan, std::regex("^(add|change|remove) ", std::regex::multiline), "would $1 ");

    for (int round = 0; round < 2; ++round) {
        const ProcessResult dry = ctl("reload-configuration", "--dry-run");
        ASSERT_EQ(dry.exit_code, 0) << dry.err;
        EXPECT_EQ(dry.out, dry_plan + summary);
    }
    const json dry = json::parse(ctl("--json", "reload-configuration", "--dry-run").out);
    EXPECT_EQ(dry["dry_run"], true) << dry.dump();
    EXPECT_EQ(dry["added"], json::array({"comes"})) << dry.dump();
    EXPECT_EQ(dry["parsed"], 2) << dry.dump();
    EXPECT_THAT(ctl("status", "comes").err, HasSubstr("Unknown job: comes"));
    EXPECT_EQ(statusOf("changes"), "changes start/running, process " + changes_pid + "\n");
    EXPECT_EQ(statusOf("goes"), "goes start/running, process " + goes_pid + "\n");
    EXPECT_THAT(tendLog(), Not(HasSubstr("reload-configuration:")));

    const ProcessResult applied = ctl("reload-configuration");
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
    EXPECT_EQ(applied.out, plan + summary);
    const std::string log = tendLog();
    EXPECT_THAT(log, HasSubstr("reload-configuration: added comes: " + jobFile("comes").string()));
    EXPECT_THAT(log, HasSubstr("reload-configuration: changed changes: exec/script; its running "
                               "instance (process " +
                               changes_pid + ") keeps its old definition"));
    EXPECT_THAT(log, HasSubstr("reload-configuration: removed goes: " + jobFile("goes").string() +
                               " is gone; its running instance (process " + goes_pid +
                               ") keeps running until it stops"));
    EXPECT_THAT(log, HasSubstr("reload-configuration: 3 job files: 1 added, 1 changed, "
                               "1 unchanged; 1 removed (2 read)"));
    EXPECT_EQ(statusOf("comes"), "comes stop/waiting\n");
    EXPECT_EQ(statusOf("changes"), "changes start/running, process " + changes_pid + " " +
                                       changedNote("changes") + "\n");
    EXPECT_EQ(statusOf("goes"),
              "goes start/running, process " + goes_pid + " " + kRemovedNote + "\n");

    const ProcessResult again = ctl("reload-configuration", "--dry-run");
    EXPECT_EQ(again.out,
              "nothing would change\n3 job files: 0 added, 0 changed, 3 "
              "unchanged; 0 removed\n");
}

TEST_F(HotReload, WithoutInotifyTendSaysSoOnceAndReloadConfigurationApplies) {
    writeJob("svc", "start on go-1\n");
    ASSERT_TRUE(startTendWith({"--watch", "off"}));
    replaceFile(jobFile("svc"), "start on go-2\n");
    writeJob("new", "start on go-1\n");
    std::this_thread::sleep_for(kQuiet);
    EXPECT_EQ(showConfig("svc"), "svc\n  start on go-1\n");
    EXPECT_NE(ctl("status", "new").exit_code, 0);

    const ProcessResult reload = ctl("reload-configuration");
    ASSERT_EQ(reload.exit_code, 0) << reload.err;
    EXPECT_EQ(reload.out, "add new: " + jobFile("new").string() +
                              "\nchange svc: start on; applies at its next start\n"
                              "2 job files: 1 added, 1 changed, 0 unchanged; 0 removed\n");
    EXPECT_EQ(showConfig("svc"), "svc\n  start on go-2\n");
    EXPECT_EQ(statusOf("new"), "new stop/waiting\n");
    EXPECT_EQ(countOf(tendLog(), "not watching job files (--watch=off)"), 1u) << tendLog();
    EXPECT_EQ(planLines("changed", "svc"), 0u) << tendLog();
}

TEST_F(HotReload, WithoutInotifyThePeriodicRescanApplies) {
    writeJob("svc", "start on go-1\n");
    writeJob("goes", "start on go-1\n");
    ASSERT_TRUE(startTendWith({"--watch", "off", "--rescan-interval", "0.2"}));
    EXPECT_EQ(countOf(tendLog(),
                      "not watching job files (--watch=off): changes apply on "
                      "`tendctl reload-configuration` or SIGHUP and the periodic "
                      "rescan"),
              1u)
        << tendLog();

    replaceFile(jobFile("svc"), "start on go-2\n");
    fs::remove(jobFile("goes"));
    ASSERT_TRUE(waitForShowConfig("svc", "start on go-2", 3s)) << tendLog();
    ASSERT_TRUE(waitForPlan("removed", "goes", 1, 3s, "periodic rescan")) << tendLog();
    std::this_thread::sleep_for(kQuiet);
    EXPECT_EQ(planLines("changed", "svc", "periodic rescan"), 1u) << tendLog();
    EXPECT_NE(ctl("status", "goes").exit_code, 0);
    EXPECT_EQ(countOf(tendLog(), "not watching job files"), 1u) << tendLog();
}

// ---------------------------------------------------------------------------------------------
// A reload storm: 1,000 files rewritten in a loop for 10 s while jobs run.

TEST_F(HotReload, StormOfRewritesLeavesTendResponsiveBoundedAndInStepWithTheFiles) {
    constexpr int kFiles = 1000;
    constexpr int kRunning = 10;
    const auto name = [](int i) {
        return "storm/g" + std::to_string(i % 10) + "/job" + std::to_string(i);
    };
    const auto text = [](int i, int round) {
        return "start on storm-" + std::to_string(round) + "-" + std::to_string(i) +
               "\nexec sleep 100" + std::to_string(round % 10) + "\n";
    };
    for (int i = 0; i < kFiles; ++i) {
        writeJob(name(i), text(i, 0));
    }
    ASSERT_TRUE(startTend());
    for (int i = 0; i < kRunning; ++i) {
        ASSERT_EQ(ctl("start", name(i)).exit_code, 0);
    }
    const long rss_before = rssKb(tendPid());

    // Half the files are rewritten in place, half renamed over; every 10th round pauses long
    // enough (30 ms) for a reload to come in the middle of the storm.
    std::atomic<bool> stop{false};
    std::vector<int> last_round(kFiles, 0);
    std::thread writer([&] {
        for (int round = 1; !stop; ++round) {
            for (int i = 0; i < kFiles && !stop; ++i) {
                if (i % 2) {
                    std::ofstream(jobFile(name(i)), std::ios::binary | std::ios::trunc)
                        << text(i, round);
                } else {
                    replaceFile(jobFile(name(i)), text(i, round));
                }
                last_round[i] = round;
            }
            std::this_thread::sleep_for(round % 10 ? 1ms : 30ms);
        }
    });
    const auto storm_end = Clock::now() + 10s;
    long long slowest_ms = 0;
    int answered = 0;
    while (Clock::now() < storm_end) {
        const auto asked = Clock::now();
        const ProcessResult version = ctl("version");
        const long long ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - asked).count();
        EXPECT_EQ(version.exit_code, 0) << version.err;
        slowest_ms = std::max(slowest_ms, ms);
        ++answered;
        std::this_thread::sleep_for(100ms);
    }
    stop = true;
    writer.join();
    EXPECT_LT(slowest_ms, 1000 * tend::test::kSanitizerSlowdown)
        << "the slowest of " << answered << " `tendctl version`";

    // Once the files are still, show-config says what they say, for every one of them.
    std::map<std::string, std::string> expected;
    for (int i = 0; i < kFiles; ++i) {
        expected[name(i)] = "storm-" + std::to_string(last_round[i]) + "-" + std::to_string(i);
    }
    std::map<std::string, std::string> shown;
    const auto matches = [&] {
        shown.clear();
        std::string job;
        for (const auto& line : lines(ctl("show-config").out)) {
            if (line.rfind("  start on ", 0) == 0) {
                shown[job] = line.substr(11);
            } else if (line.rfind("  ", 0) != 0) {
                job = line;
            }
        }
        return shown == expected;
    };
    EXPECT_TRUE(waitFor(matches, 5s, 100ms)) << shown.size() << " jobs shown";
    const long rss_after = rssKb(tendPid());
    EXPECT_LT(rss_after, 2 * rss_before + 20 * 1024 + tend::test::kSanitizerRssSlackKb)
        << "RSS before " << rss_before << " kB, after " << rss_after << " kB";
    EXPECT_THAT(ctl("list").out, Not(HasSubstr(kErrorNote)));
    // The running instances ran on throughout, on the definition they started with.
    for (int i = 0; i < kRunning; ++i) {
        EXPECT_THAT(runningCommand(name(i)), HasSubstr("sleep 1000")) << name(i);
    }
    std::cerr << "storm: " << answered << " `tendctl version` answered, slowest " << slowest_ms
              << " ms; RSS " << rss_before << " kB -> " << rss_after << " kB; "
              << countOf(tendLog(), "job files changed: 1000 job files") << " reloads\n";
}

}  // namespace
}  // namespace tend
