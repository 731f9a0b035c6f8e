// SPDX-License-Identifier: MIT
// logrotate against the real daemon: a job writing at full speed across many rotations loses,
// doubles and tears no line; a quiet job's next line goes to the new file; `rotate-logs` and the
// `rotate-logs` event; a job's stanza over the plugin's settings; tend's own log; and a full disk
// that is reported once while the job goes on, then recovered from.
#include <sys/stat.h>
#include <zlib.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/daemon_fixture.hpp"

namespace tend::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

std::string gunzip(const fs::path& path) {
    std::string text;
    gzFile gz = ::gzopen(path.c_str(), "rb");
    if (!gz) {
        return "<cannot open " + path.string() + ">";
    }
    char buffer[1 << 16];
    int n = 0;
    while ((n = ::gzread(gz, buffer, sizeof buffer)) > 0) {
        text.append(buffer, static_cast<std::size_t>(n));
    }
    ::gzclose(gz);
    return text;
}

class LogRotate : public TendDaemonTest {
  protected:
    void SetUp() override {
        TendDaemonTest::SetUp();
        plugins_ = makePluginsDir();
        installPlugin(fs::path(TEND_PLUGINS_DIR) / "logrotate.so", plugins_, "logrotate");
    }

    void settings(const std::string& text) { std::ofstream(plugins_ / "logrotate.conf") << text; }

    // `wrapper` runs tend through another program first (unshare, say).
    ::testing::AssertionResult startWithPlugin(const std::vector<std::string>& wrapper = {}) {
        std::vector<std::string> argv = wrapper;
        for (const std::string& arg : std::vector<std::string>{
                 "/bin/sh", "-c", "exec \"$@\" --plugins-dir " + plugins_.string(), "sh"}) {
            argv.push_back(arg);
        }
        return startTend(argv);
    }

    // A log and its rotations, oldest first, decompressed: the whole story of the log.
    static std::string history(const fs::path& log) {
        std::map<int, fs::path> rotated;
        for (const auto& entry : fs::directory_iterator(log.parent_path())) {
            const std::string name = entry.path().filename().string();
            const std::string prefix = log.filename().string() + ".";
            if (!name.starts_with(prefix)) {
                continue;
            }
            const int n = std::atoi(name.c_str() + prefix.size());
            if (n > 0) {
                rotated[n] = entry.path();
            }
        }
        std::string text;
        for (auto it = rotated.rbegin(); it != rotated.rend(); ++it) {
            text += it->second.extension() == ".gz" ? gunzip(it->second) : readFile(it->second);
        }
        return text + readFile(log);
    }

    static std::vector<std::string> rotationsOf(const fs::path& log) {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(log.parent_path())) {
            const std::string name = entry.path().filename().string();
            if (name.starts_with(log.filename().string() + ".")) {
                names.push_back(name);
            }
        }
        std::sort(names.begin(), names.end());
        return names;
    }

    static bool allCompressed(const fs::path& log) {
        const auto names = rotationsOf(log);
        return std::all_of(names.begin(), names.end(),
                           [](const std::string& name) { return name.ends_with(".gz"); });
    }

    fs::path plugins_;
};

TEST_F(LogRotate, AJobWritingAtFullSpeedLosesDoublesAndTearsNoLineAcrossManyRotations) {
    settings("setting size 16k\nsetting keep 1000\n");
    writeJob("fast", "console log\nexec seq 1 1000000000\n");
    ASSERT_TRUE(startWithPlugin());
    ASSERT_EQ(ctl("start", "fast").exit_code, 0) << tendLog();
    const fs::path log = logPath("fast");
    ASSERT_TRUE(waitFor([&] { return rotationsOf(log).size() >= 10; }, 60s)) << tendLog();
    ASSERT_EQ(ctl("stop", "fast").exit_code, 0) << tendLog();
    // Once a rotation finds the log empty and every rotated log is compressed, the story is
    // complete as far as it was written.
    ASSERT_TRUE(waitFor(
        [&] {
            return ctl("rotate-logs", "fast").out == "nothing to rotate: the logs are empty\n" &&
                   allCompressed(log);
        },
        60s, 50ms))
        << tendLog();
    // seq was killed mid-line: the last line may be cut short, every other one is whole.
    const std::string text = history(log);
    std::string_view rest = text;
    std::size_t count = 0;
    char expected[32];
    while (!rest.empty()) {
        const std::size_t end = rest.find('\n');
        ASSERT_NE(end, std::string_view::npos) << "the log does not end with a newline";
        const std::string_view line = rest.substr(0, end);
        rest.remove_prefix(end + 1);
        ++count;
        const auto [stop, ec] = std::to_chars(expected, expected + sizeof expected, count);
        const std::string_view whole(expected, static_cast<std::size_t>(stop - expected));
        if (rest.empty()) {
            ASSERT_FALSE(line.empty());
            ASSERT_TRUE(whole.starts_with(line)) << "last line " << count << ": " << line;
        } else {
            ASSERT_EQ(line, whole) << "line " << count;
        }
    }
    ASSERT_GT(count, 1u);
    std::cout << "[ logrotate ] " << count << " lines across " << rotationsOf(log).size()
              << " rotations: none lost, doubled or torn\n";
}

// Ten writers at full speed keep a 2-CPU machine busy, and the thread that places and
// compresses rotated logs, at the lowest priority, gets little of it. Their logs then wait to
// rotate rather than leave rotated pieces piling up (the soak found thousands); once the writers
// are done, every piece is placed and no line is lost.
TEST_F(LogRotate, ABusyMachineHoldsRotationsRatherThanPilingUpRotatedPieces) {
    constexpr int kWriters = 10;
    constexpr int kLines = 300000;
    settings("setting size 4k\nsetting keep 1000\nsetting backlog 4\n");
    for (int i = 0; i < kWriters; ++i) {
        writeJob("fast" + std::to_string(i),
                 "console log\nexec seq 1 " + std::to_string(kLines) + "\n");
    }
    ASSERT_TRUE(startWithPlugin());
    const auto asideNow = [&](const fs::path& log) {
        const auto names = rotationsOf(log);
        return static_cast<std::size_t>(std::count_if(
            names.begin(), names.end(),
            [](const std::string& name) { return name.find(".rotating-") != std::string::npos; }));
    };
    for (int i = 0; i < kWriters; ++i) {
        ASSERT_EQ(ctl("start", "fast" + std::to_string(i)).exit_code, 0) << tendLog();
    }
    std::size_t most_aside = 0;
    std::size_t rotations = 0;
    for (int sample = 0; sample < 100; ++sample) {
        rotations = 0;
        for (int i = 0; i < kWriters; ++i) {
            const fs::path log = logPath("fast" + std::to_string(i));
            most_aside = std::max(most_aside, asideNow(log));
            rotations += rotationsOf(log).size();
        }
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_LE(most_aside, 4u) << "rotated pieces of one log waiting for the compressing thread";
    EXPECT_GE(rotations, static_cast<std::size_t>(kWriters)) << "the logs hardly rotated";
    for (int i = 0; i < kWriters; ++i) {
        const std::string job = "fast" + std::to_string(i);
        const fs::path log = logPath(job);
        ASSERT_TRUE(waitFor(
            [&] {
                return statusOf(job) == job + " stop/waiting\n" &&
                       ctl("rotate-logs", job).out == "nothing to rotate: the logs are empty\n" &&
                       allCompressed(log) && asideNow(log) == 0;
            },
            120s, 100ms))
            << job << ": " << statusOf(job) << tendLog();
        const std::string text = history(log);
        std::size_t at = 0;
        for (int line = 1; line <= kLines; ++line) {
            const std::string want = std::to_string(line) + "\n";
            ASSERT_EQ(text.compare(at, want.size(), want), 0)
                << job << ": line " << line << " is not there; found '" << text.substr(at, 40)
                << "'";
            at += want.size();
        }
        ASSERT_EQ(at, text.size()) << job << ": more than " << kLines << " lines";
    }
    std::cout << "[ logrotate ] " << kWriters << " writers: at most " << most_aside
              << " rotated pieces of one log waited, " << rotations
              << " rotations in 5 s; no line lost\n";
}

TEST_F(LogRotate, ABadBacklogSettingIsReportedAndTheDefaultUsed) {
    settings("setting backlog 0\n");
    writeJob("talker", "console log\nexec sh -c 'echo hello; exec sleep 1000'\n");
    ASSERT_TRUE(startWithPlugin());
    EXPECT_THAT(tendLog(), HasSubstr("setting backlog: invalid '0' (a number of rotations, 1 or "
                                     "more); using 64"));
    ASSERT_EQ(ctl("start", "talker").exit_code, 0);
    ASSERT_TRUE(waitForFile(logPath("talker"), "hello\n"));
    EXPECT_EQ(ctl("rotate-logs", "talker").out, "rotated " + logPath("talker").string() + "\n");
}

TEST_F(LogRotate, RotateLogsStartsANewFileThatAQuietJobsNextLineGoesTo) {
    writeJob("quiet", "console log\nscript\n  echo before\n  while [ ! -e " + path("go").string() +
                          " ]; do sleep 0.05; done\n  echo after\n  exec sleep 1000\nend script\n");
    ASSERT_TRUE(startWithPlugin());
    ASSERT_EQ(ctl("start", "quiet").exit_code, 0) << tendLog();
    ASSERT_TRUE(waitForFile(logPath("quiet"), "before\n"));
    const ProcessResult rotated = ctl("rotate-logs", "quiet");
    EXPECT_EQ(rotated.exit_code, 0) << rotated.err;
    EXPECT_EQ(rotated.out, "rotated " + logPath("quiet").string() + "\n");
    EXPECT_EQ(gunzip(logPath("quiet").string() + ".1.gz"), "before\n");
    writeFile("go", "");
    ASSERT_TRUE(waitForFile(logPath("quiet"), "after\n")) << tendLog();
    EXPECT_EQ(readLog("quiet"), "after\n");
    EXPECT_EQ(gunzip(logPath("quiet").string() + ".1.gz"), "before\n");
    EXPECT_THAT(statusOf("quiet"), HasSubstr("start/running"));
}

// A rotation by age counts from when the log was last rotated (or first seen); a re-exec must
// not start that clock again, or an upgrade a day would put the daily rotation off for good.
TEST_F(LogRotate, TheAgeOfEachLogIsCarriedAcrossAReexec) {
    writeJob("quiet", "console log\nexec sh -c 'echo before; exec sleep 1000'\n");
    ASSERT_TRUE(startWithPlugin());
    ASSERT_EQ(ctl("start", "quiet").exit_code, 0) << tendLog();
    ASSERT_TRUE(waitForFile(logPath("quiet"), "before\n"));
    // A rotation starts the log's age clock, whenever the periodic check last ran.
    ASSERT_EQ(ctl("rotate-logs", "quiet").exit_code, 0);
    EXPECT_THAT(tendLog(), Not(HasSubstr("over from the tend before")));
    ASSERT_EQ(ctl("reexec").exit_code, 0) << tendLog();
    EXPECT_THAT(tendLog(), ::testing::ContainsRegex("\\[logrotate\\] took the age of [1-9][0-9]* "
                                                    "log\\(s\\) over from the tend before"));
    EXPECT_THAT(statusOf("quiet"), HasSubstr("start/running"));
}

TEST_F(LogRotate, RotateLogsSaysWhatItDidAndRefusesAnUnknownJob) {
    writeJob("talker", "console log\nexec sh -c 'echo hello; exec sleep 1000'\n");
    ASSERT_TRUE(startWithPlugin());
    ASSERT_EQ(ctl("start", "talker").exit_code, 0);
    ASSERT_TRUE(waitForFile(logPath("talker"), "hello\n"));
    const ProcessResult unknown = ctl("rotate-logs", "nosuchjob");
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_THAT(unknown.err, HasSubstr("Unknown job: nosuchjob"));
    const ProcessResult json = ctl("--json", "rotate-logs", "talker");
    ASSERT_EQ(json.exit_code, 0) << json.err;
    const auto data = nlohmann::json::parse(json.out);
    EXPECT_EQ(data["rotated"], nlohmann::json::array({logPath("talker").string()}));
    // Nothing new was written: there is nothing to rotate the second time.
    const ProcessResult again = ctl("rotate-logs", "talker");
    EXPECT_EQ(again.exit_code, 0);
    EXPECT_EQ(again.out, "nothing to rotate: the logs are empty\n");
    EXPECT_EQ(rotationsOf(logPath("talker")), std::vector<std::string>{"talker.log.1.gz"});
}

TEST_F(LogRotate, TheRotateLogsEventRotatesEveryLogIncludingTendsOwn) {
    writeJob("one", "console log\nexec sh -c 'echo one; exec sleep 1000'\n");
    writeJob("two", "console log\nexec sh -c 'echo two; exec sleep 1000'\n");
    ASSERT_TRUE(startWithPlugin());
    ASSERT_EQ(ctl("start", "one").exit_code, 0);
    ASSERT_EQ(ctl("start", "two").exit_code, 0);
    ASSERT_TRUE(waitForFile(logPath("one"), "one\n"));
    ASSERT_TRUE(waitForFile(logPath("two"), "two\n"));
    const std::string before = tendLog();
    // emit returns once the event has finished: the plugin holds it until the logs rotated.
    ASSERT_EQ(ctl("emit", "rotate-logs").exit_code, 0) << tendLog();
    EXPECT_EQ(gunzip(logPath("one").string() + ".1.gz"), "one\n");
    EXPECT_EQ(gunzip(logPath("two").string() + ".1.gz"), "two\n");
    EXPECT_FALSE(fs::exists(logPath("one")));
    const std::string rotated_tend_log = gunzip(tend_log_.string() + ".1.gz");
    EXPECT_THAT(rotated_tend_log, HasSubstr("loaded 2 job(s)"));
    // tend goes on writing its own log, into the new file.
    ASSERT_EQ(ctl("stop", "one").exit_code, 0);
    ASSERT_TRUE(waitFor([&] { return !tendLog().empty(); }));
    EXPECT_THAT(tendLog(), Not(HasSubstr("loaded 2 job(s)")));
}

TEST_F(LogRotate, AJobsStanzaOverridesTheSettingsAndABadOneIsRejectedAtItsPlace) {
    settings("setting size 10M\n");
    // Five bursts of about 9 KB each, past the stanza's 8 KiB, far below the settings' 10M.
    writeJob("small",
             "log rotate size 8k keep 2 nocompress\nconsole log\ntask\n"
             "exec sh -c 'for burst in 1 2 3 4 5; do i=0; while [ $i -lt 150 ]; do "
             "echo \"burst $burst line $i, sixty bytes or so, padded......\"; "
             "i=$((i+1)); done; sleep 0.2; done'\n");
    writeJob("big", "console log\ntask\nexec seq 1 3000\n");
    writeJob("broken", "log rotate size ten\nexec sleep 1000\n");
    ASSERT_TRUE(startWithPlugin());
    ASSERT_EQ(ctl("start", "small").exit_code, 0) << tendLog();
    ASSERT_EQ(ctl("start", "big").exit_code, 0) << tendLog();
    ASSERT_TRUE(waitFor([&] { return !rotationsOf(logPath("small")).empty(); })) << tendLog();
    ASSERT_TRUE(waitFor([&] { return lines(readLog("big")).size() == 3000u; }));
    // Plain, and never more than two kept, however the bursts were batched.
    for (const auto& name : rotationsOf(logPath("small"))) {
        EXPECT_TRUE(name == "small.log.1" || name == "small.log.2") << name;
    }
    EXPECT_TRUE(rotationsOf(logPath("big")).empty());
    EXPECT_THAT(tendLog(), HasSubstr("broken.conf:1:"));
    EXPECT_THAT(tendLog(), HasSubstr("invalid size 'ten'"));
    EXPECT_EQ(ctl("status", "broken").exit_code, 1);
}

// A small filesystem of its own for the logs, in a mount namespace of tend's own (so nothing is
// left mounted), seen from here through /proc/<tend>/root.
TEST_F(LogRotate, AFullDiskIsReportedOnceTheJobGoesOnAndRotationResumesWhenThereIsRoom) {
    // As root, a mount namespace is enough; otherwise a user namespace maps this user to root.
    const std::string namespaces = ::geteuid() == 0 ? "-m" : "-rm";
    fs::create_directories(path("probe"));
    if (runProcess({"/usr/bin/unshare", namespaces, "/bin/sh", "-c",
                    "mount -t tmpfs -o size=64k tmpfs " + path("probe").string()})
            .exit_code != 0) {
        GTEST_SKIP() << "cannot mount a small tmpfs here (needs root or user namespaces)";
    }
    settings("setting size 64k\nsetting keep 100\nsetting retry-interval 1s\n");
    writeJob("chatty",
             "console log\nscript\n  i=0\n  while :; do\n"
             "    echo \"line $i: a hundred bytes of text or so, to fill a small disk "
             "in a while..............\"\n    i=$((i+1)); sleep 0.002\n  done\nend script\n");
    fs::create_directories(log_dir_);
    const std::string mount =
        "mount -t tmpfs -o size=1m,mode=0700 tmpfs " + log_dir_.string() + " && exec \"$@\"";
    ASSERT_TRUE(startWithPlugin({"/usr/bin/unshare", namespaces, "/bin/sh", "-c", mount, "sh"}));
    const fs::path logs =
        fs::path("/proc") / std::to_string(tendPid()) / "root" / log_dir_.relative_path();
    ASSERT_EQ(ctl("start", "chatty").exit_code, 0) << tendLog();
    const pid_t pid = mainPidOf("chatty");
    ASSERT_TRUE(waitFor(
        [&] {
            std::error_code ec;
            return fs::file_size(logs / "chatty.log", ec) >= 4096 && !ec;
        },
        30s))
        << tendLog();
    // Fill the disk.
    {
        std::ofstream filler(logs / "filler", std::ios::binary);
        const std::string block(4096, 'x');
        while (filler.write(block.data(), static_cast<std::streamsize>(block.size())) &&
               filler.flush()) {
        }
    }
    // A rotation now must gzip into a full disk: it says so, and keeps the log plain.
    const ProcessResult full = ctl("rotate-logs", "chatty");
    EXPECT_EQ(full.exit_code, 1);
    EXPECT_THAT(full.err, HasSubstr("No space left on device")) << full.out;
    EXPECT_THAT(tendLog(), HasSubstr("error: [logrotate] cannot rotate"));
    // It is tried again, quietly, while the job goes on.
    ASSERT_TRUE(waitFor([&] { return countOf(tendLog(), "still cannot rotate") >= 2; }, 30s))
        << tendLog();
    EXPECT_THAT(statusOf("chatty"), HasSubstr("start/running"));
    fs::remove(logs / "filler");
    ASSERT_TRUE(waitFor([&] { return tendLog().find("works again") != std::string::npos; }, 30s))
        << tendLog();
    EXPECT_TRUE(fs::exists(logs / "chatty.log.1.gz"));
    // And rotation by size goes on.
    const std::size_t rotated_before = rotationsOf(logs / "chatty.log").size();
    ASSERT_TRUE(
        waitFor([&] { return rotationsOf(logs / "chatty.log").size() > rotated_before; }, 30s));
    EXPECT_EQ(countOf(tendLog(), "error: [logrotate] cannot rotate"), 1u) << tendLog();
    EXPECT_EQ(mainPidOf("chatty"), pid);  // the same process all along
    ASSERT_EQ(ctl("stop", "chatty").exit_code, 0);
}

}  // namespace
}  // namespace tend::test
