// SPDX-License-Identifier: MIT
// journal-logger against a real tend and a real systemd-journald (in a mount namespace of this
// test binary's own, see journald_fixture.hpp): what a job writes arrives with its fields, its
// `<N>` priority, binary bytes, long lines in order and 10 MB at full speed without a line lost
// or tend growing; state changes with their MESSAGE_ID; the `jobs` setting and the `journal`
// stanza; and a journal that goes away and comes back while a job goes on writing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/daemon_fixture.hpp"
#include "support/journald_fixture.hpp"

namespace tend::test {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kStateMessageId = "MESSAGE_ID=742085a102d540d3af03d0d54d3a7e41";

class JournalLogger : public TendDaemonTest {
  protected:
    static void SetUpTestSuite() {
        journal_ = new JournaldSandbox();
        error_ = journal_->setUp();
    }
    static void TearDownTestSuite() {
        journal_->tearDown(::testing::UnitTest::GetInstance()->Failed());
        delete journal_;
        journal_ = nullptr;
    }

    void SetUp() override {
        if (!journal_->skipReason().empty()) {
            GTEST_SKIP() << journal_->skipReason();
        }
        ASSERT_EQ(error_, "") << "cannot run a journald for the test";
        if (journal_->pid() == 0) {  // a test before this one stopped it
            ASSERT_EQ(journal_->startJournald(), "");
        }
        TendDaemonTest::SetUp();
        plugins_ = makePluginsDir();
        installPlugin(fs::path(TEND_PLUGINS_DIR) / "journal-logger.so", plugins_, "journal-logger");
    }

    void settings(const std::string& text) {
        std::ofstream(plugins_ / "journal-logger.conf") << text;
    }

    ::testing::AssertionResult startWithPlugin() {
        return startTend({"/bin/sh", "-c", "exec \"$@\" --plugins-dir " + plugins_.string(), "sh"});
    }

    // Entries of `job` (and the other matches), waiting until there are at least `count`.
    std::vector<json> waitForEntries(const std::string& job, std::size_t count,
                                     std::vector<std::string> matches = {},
                                     std::chrono::milliseconds timeout = 30s) {
        matches.push_back("TEND_JOB=" + job);
        std::vector<json> found;
        waitFor(
            [&] {
                found = journal_->entries(matches);
                return found.size() >= count;
            },
            timeout, 100ms);
        return found;
    }

    // Output lines of `job` in the journal (state changes have SYSLOG_IDENTIFIER=tend).
    std::vector<json> lineEntries(const std::string& job, std::size_t count,
                                  std::chrono::milliseconds timeout = 30s) {
        return waitForEntries(job, count, {"SYSLOG_IDENTIFIER=" + job}, timeout);
    }

    static std::string message(const json& entry) {
        return JournaldSandbox::bytes(entry["MESSAGE"]);
    }

    static long rssKb(pid_t pid, const std::string& field = "VmRSS:") {
        std::istringstream in(readFile("/proc/" + std::to_string(pid) + "/status"));
        for (std::string line; std::getline(in, line);) {
            if (line.starts_with(field)) {
                return std::atol(line.c_str() + field.size());
            }
        }
        return -1;
    }

    static JournaldSandbox* journal_;
    static std::string error_;
    fs::path plugins_;
};

JournaldSandbox* JournalLogger::journal_ = nullptr;
std::string JournalLogger::error_;

// The entry of `entries` whose MESSAGE is `text`, or null.
const json* entryWith(const std::vector<json>& entries, const std::string& text) {
    for (const auto& entry : entries) {
        if (JournaldSandbox::bytes(entry["MESSAGE"]) == text) {
            return &entry;
        }
    }
    return nullptr;
}

TEST_F(JournalLogger, AJobsLinesArriveWithTheirFieldsAndTheirStreamsPriority) {
    writeJob("greeter",
             "instance $WHO\nconsole log\n"
             "exec sh -c 'echo hello from $WHO; echo \"<3>boom\"; echo oops >&2; "
             "echo \"<5>noted\" >&2; exec sleep 1000'\n");
    ASSERT_TRUE(startWithPlugin());
    ASSERT_EQ(ctl("start", "greeter", "WHO=world").exit_code, 0) << tendLog();
    const pid_t pid = mainPidOf("greeter", "WHO=world");
    const auto entries = lineEntries("greeter", 4);
    ASSERT_EQ(entries.size(), 4u) << tendLog();
    const json* hello = entryWith(entries, "hello from world");
    ASSERT_NE(hello, nullptr);
    EXPECT_EQ((*hello)["PRIORITY"], "6");
    EXPECT_EQ((*hello)["SYSLOG_IDENTIFIER"], "greeter");
    EXPECT_EQ((*hello)["TEND_JOB"], "greeter");
    EXPECT_EQ((*hello)["TEND_INSTANCE"], "world");
    EXPECT_EQ((*hello)["OBJECT_PID"], std::to_string(pid));
    EXPECT_EQ((*hello)["_TRANSPORT"], "journal");
    EXPECT_EQ((*hello)["_PID"], std::to_string(tendPid()));
    // A `<N>` prefix wins; stderr is a warning.
    ASSERT_NE(entryWith(entries, "boom"), nullptr);
    EXPECT_EQ((*entryWith(entries, "boom"))["PRIORITY"], "3");
    ASSERT_NE(entryWith(entries, "oops"), nullptr);
    EXPECT_EQ((*entryWith(entries, "oops"))["PRIORITY"], "4");
    ASSERT_NE(entryWith(entries, "noted"), nullptr);
    EXPECT_EQ((*entryWith(entries, "noted"))["PRIORITY"], "5");
    // The log file keeps the lines as the job wrote them, each stream in its order.
    const std::string file = readFile(log_dir_ / "greeter-world.log");
    EXPECT_THAT(file, HasSubstr("hello from world\n"));
    EXPECT_LT(file.find("hello from world\n"), file.find("<3>boom\n"));
    EXPECT_LT(file.find("oops\n"), file.find("<5>noted\n"));
    EXPECT_EQ(file.size(), std::string("hello from world\n<3>boom\noops\n<5>noted\n").size());
    ASSERT_EQ(ctl("stop", "greeter", "WHO=world").exit_code, 0);
}

TEST_F(JournalLogger, BinaryBytesAndInvalidUtf8PassThroughUnchanged) {
    const std::string binary("\x01\x02 tab\there \xff\xfe\x80 end\x7f", 20);
    const std::string latin1 = "caf\xe9";
    writeFile("bytes", binary + "\n" + latin1 + "\nplain\n");
    writeJob("bytes", "console log\ntask\nexec cat " + path("bytes").string() + "\n");
    ASSERT_TRUE(startWithPlugin());
    ASSERT_EQ(ctl("start", "bytes").exit_code, 0) << tendLog();
    const auto entries = lineEntries("bytes", 3);
    ASSERT_EQ(entries.size(), 3u) << tendLog();
    EXPECT_TRUE(entries[0]["MESSAGE"].is_array()) << entries[0].dump();
    EXPECT_EQ(message(entries[0]), binary);
    EXPECT_TRUE(entries[1]["MESSAGE"].is_array()) << entries[1].dump();
    EXPECT_EQ(message(entries[1]), latin1);
    EXPECT_EQ(entries[2]["MESSAGE"], "plain");
}

// tend holds at most 64 KiB of a line whose end has not come: the job writes 100,000 bytes,
// waits, and writes the rest, so the line reaches the plugin in at least two pieces, which it
// joins again. A line over 1 MiB goes on in the next entry.
TEST_F(JournalLogger, ALineOverSixtyFourKiBArrivesWholeAndOneOverAMebibyteInMebibytes) {
    std::string line;
    for (int i = 0; line.size() < 200000; ++i) {
        line += std::to_string(i) + ",";
    }
    writeFile("part1", line.substr(0, 100000));
    writeFile("part2", line.substr(100000, 60000));
    writeFile("part3", line.substr(160000) + "\nafter\n");
    writeJob("long", "console log\ntask\nexec sh -c 'cd " + root_.string() +
                         " && cat part1 && sleep 0.3 && cat part2 && sleep 0.3 && cat part3'\n");
    constexpr std::size_t kHuge = 2500000;
    writeJob("huge", "console log\ntask\nscript\n  head -c " + std::to_string(kHuge) +
                         " /dev/zero | tr '\\0' b\n  echo\n  echo after\nend script\n");
    ASSERT_TRUE(startWithPlugin());
    ASSERT_EQ(ctl("start", "long").exit_code, 0) << tendLog();
    ASSERT_EQ(ctl("start", "huge").exit_code, 0) << tendLog();
    const auto until_after = [&](const std::string& job) {
        std::vector<json> entries;
        waitFor(
            [&] {
                entries = journal_->entries({"TEND_JOB=" + job, "SYSLOG_IDENTIFIER=" + job});
                return !entries.empty() && message(entries.back()) == "after";
            },
            30s, 100ms);
        return entries;
    };
    const auto entries = until_after("long");
    ASSERT_EQ(entries.size(), 2u) << tendLog();
    EXPECT_EQ(message(entries[0]).size(), line.size());
    EXPECT_TRUE(message(entries[0]) == line) << "the entry differs from the line";
    EXPECT_EQ(readLog("long"), line + "\nafter\n");

    const auto huge = until_after("huge");
    ASSERT_EQ(huge.size(), 4u) << tendLog();
    EXPECT_EQ(message(huge[0]).size(), 1u << 20);
    EXPECT_EQ(message(huge[1]).size(), 1u << 20);
    EXPECT_EQ(message(huge[2]), std::string(kHuge - 2 * (1u << 20), 'b'));
    EXPECT_EQ(message(huge[0]), std::string(1u << 20, 'b'));
}

// `console journal`: the journal only, with the log file as the fallback whenever the journal
// cannot take the lines; `setting console journal` makes it the default.
TEST_F(JournalLogger, ConsoleJournalGoesToTheJournalOnlyAndFallsBackToTheFile) {
    settings("setting console journal\n");
    writeJob("quiet", "console journal\ntask\nexec sh -c 'echo out-line; echo err-line >&2'\n");
    writeJob("bydefault", "task\nexec echo default-line\n");
    writeJob("both", "console log\ntask\nexec echo both-line\n");
    writeJob("refused", "console journal\njournal off\ntask\nexec echo refused-line\n");
    writeJob("ticker",
             "console journal\nscript\n  i=0\n  while [ $i -lt 200 ]; do\n"
             "    echo \"tick $i\"; i=$((i+1)); sleep 0.01\n  done\n"
             "  exec sleep 1000\nend script\n");
    ASSERT_TRUE(startWithPlugin());
    for (const char* job : {"quiet", "bydefault", "both", "refused"}) {
        ASSERT_EQ(ctl("start", job).exit_code, 0) << job << tendLog();
    }
    const auto quiet = lineEntries("quiet", 2);
    ASSERT_EQ(quiet.size(), 2u) << tendLog();
    ASSERT_NE(entryWith(quiet, "err-line"), nullptr);
    EXPECT_EQ((*entryWith(quiet, "err-line"))["PRIORITY"], "4");
    EXPECT_EQ(lineEntries("bydefault", 1).size(), 1u);
    EXPECT_EQ(lineEntries("both", 1).size(), 1u);
    ASSERT_TRUE(waitForFile(logPath("both"), "both-line\n"));
    // A job the plugin does not copy (`journal off`) keeps its lines in the file.
    ASSERT_TRUE(waitForFile(logPath("refused"), "refused-line\n")) << tendLog();
    EXPECT_FALSE(fs::exists(logPath("quiet"))) << readLog("quiet");
    EXPECT_FALSE(fs::exists(logPath("bydefault"))) << readLog("bydefault");
    EXPECT_THAT(ctl("journal-logger").out, HasSubstr("default console: journal"));

    // The journal goes away: the lines go to the file, none lost, and that is said once.
    journal_->stopJournald(SIGKILL);
    ASSERT_EQ(ctl("start", "ticker").exit_code, 0) << tendLog();
    ASSERT_TRUE(waitFor([&] { return lines(readLog("ticker")).size() >= 200; }, 30s))
        << readLog("ticker") << tendLog();
    const auto written = lines(readLog("ticker"));
    ASSERT_EQ(written.size(), 200u);
    for (std::size_t i = 0; i < written.size(); ++i) {
        ASSERT_EQ(written[i], "tick " + std::to_string(i));
    }
    EXPECT_EQ(countOf(tendLog(), "journal unavailable"), 1u) << tendLog();
    const json data = json::parse(ctl("--json", "journal-logger").out, nullptr, false);
    EXPECT_EQ(data.value("lines_given_back", 0), 200) << data.dump();
    EXPECT_THAT(statusOf("ticker"), HasSubstr("start/running"));
    ASSERT_EQ(journal_->startJournald(), "");
    ASSERT_EQ(ctl("stop", "ticker").exit_code, 0);
}

TEST_F(JournalLogger, TenMegabytesWrittenFastReachTheJournalAndTheFileWithoutTendGrowing) {
    constexpr int kLines = 10240;  // of 1 KiB each
    std::string text;
    text.reserve(kLines * 1024);
    for (int i = 0; i < kLines; ++i) {
        std::string line = "line " + std::to_string(i) + " ";
        line.resize(1023, static_cast<char>('a' + i % 26));
        text += line + "\n";
    }
    // In ten bursts of 1 MiB, about 0.1 s apart: tend passes output to plugins through a queue
    // of 8 MiB, and drops lines for the sinks (never for the log file) beyond that; 10 MiB in
    // one burst outruns it on a busy machine whatever the sink does.
    for (int part = 0; part < 10; ++part) {
        writeFile("part" + std::to_string(part),
                  text.substr(static_cast<std::size_t>(part) * kLines / 10 * 1024,
                              static_cast<std::size_t>(kLines) / 10 * 1024));
    }
    writeJob("fast", "console log\ntask\nexec sh -c 'cd " + root_.string() +
                         " && for part in 0 1 2 3 4 5 6 7 8 9; do cat part$part; sleep 0.1; "
                         "done'\n");
    ASSERT_TRUE(startWithPlugin());
    const long before_kb = rssKb(tendPid());
    const auto started = Clock::now();
    ASSERT_EQ(ctl("start", "fast").exit_code, 0) << tendLog();
    const std::vector<std::string> count_argv{"/usr/bin/journalctl",
                                              "--no-pager",
                                              "-q",
                                              "-o",
                                              "cat",
                                              "--directory",
                                              (journal_->dir() / "journal").string(),
                                              "--output-fields=PRIORITY",
                                              "TEND_JOB=fast",
                                              "SYSLOG_IDENTIFIER=fast"};
    std::size_t count = 0;
    const bool all = waitFor(
        [&] {
            count = countOf(runProcess(count_argv).out, "\n");
            return count >= static_cast<std::size_t>(kLines);
        },
        120s, 200ms);
    const auto took = std::chrono::duration_cast<Millis>(Clock::now() - started);
    ASSERT_TRUE(all) << count << " of " << kLines << " lines in the journal\n" << tendLog();
    EXPECT_EQ(count, static_cast<std::size_t>(kLines));
    // Every line, in order, in the journal and in the file.
    std::vector<std::string> messages_argv = count_argv;
    messages_argv.erase(
        std::find(messages_argv.begin(), messages_argv.end(), "--output-fields=PRIORITY"));
    EXPECT_TRUE(runProcess(messages_argv).out == text) << "the journal's lines differ";
    ASSERT_TRUE(waitFor([&] { return readLog("fast").size() == text.size(); }, 30s));
    EXPECT_TRUE(readLog("fast") == text) << "the log file differs";
    const long peak_kb = rssKb(tendPid(), "VmHWM:");
    const long after_kb = rssKb(tendPid());
    EXPECT_LT(peak_kb - before_kb, 64L * 1024 + kSanitizerRssSlackKb)
        << "tend's peak RSS grew from " << before_kb << " kB to " << peak_kb << " kB";
    EXPECT_THAT(tendLog(), ::testing::Not(HasSubstr("fell behind")));
    const ProcessResult status = ctl("journal-logger");
    EXPECT_THAT(status.out, HasSubstr("lines sent: " + std::to_string(kLines)));
    std::cout << "[ journal ] " << kLines << " lines (10 MiB) in the journal after " << took.count()
              << " ms (" << (kLines * 1000L / std::max<long>(1, took.count()))
              << " lines/s); tend's RSS " << before_kb << " kB before, peak " << peak_kb << " kB, "
              << after_kb << " kB after\n";
    const std::string log = tendLog();
    if (log.find("blocked tend's event loop") != std::string::npos) {
        std::cout << "[ journal ] tend reported the plugin blocking its loop:\n" << log;
    }
}

TEST_F(JournalLogger, StateChangesAreLoggedWithTheirMessageId) {
    writeJob("imapfilter", "console log\nexec sleep 1000\n");
    ASSERT_TRUE(startWithPlugin());
    ASSERT_EQ(ctl("start", "imapfilter").exit_code, 0) << tendLog();
    const pid_t pid = mainPidOf("imapfilter");
    ASSERT_EQ(ctl("stop", "imapfilter").exit_code, 0) << tendLog();
    // Up through starting ... running, then down to waiting again.
    ASSERT_GE(waitForEntries("imapfilter", 1, {kStateMessageId, "TEND_STATE=waiting"}).size(), 1u)
        << tendLog();
    const auto entries = journal_->entries({kStateMessageId, "TEND_JOB=imapfilter"});
    ASSERT_GE(entries.size(), 6u);
    std::vector<std::string> messages;
    for (const auto& entry : entries) {
        messages.push_back(message(entry));
        EXPECT_EQ(entry["SYSLOG_IDENTIFIER"], "tend");
        EXPECT_EQ(entry["PRIORITY"], "6");
        EXPECT_FALSE(entry.contains("TEND_INSTANCE"));
    }
    EXPECT_THAT(messages, ::testing::Contains("imapfilter state running -> pre-stop"));
    EXPECT_THAT(messages, ::testing::Contains("imapfilter state pre-stop -> stopping"));
    EXPECT_THAT(messages, ::testing::Contains("imapfilter state waiting -> starting"));
    for (const auto& entry : entries) {
        if (message(entry) == "imapfilter state pre-stop -> stopping") {
            EXPECT_EQ(entry["TEND_STATE"], "stopping");
            EXPECT_EQ(entry["TEND_GOAL"], "stop");
            EXPECT_EQ(entry["OBJECT_PID"], std::to_string(pid));
        }
    }
}

TEST_F(JournalLogger, TendsOwnLogGoesToTheJournalAtItsLevel) {
    ASSERT_TRUE(startWithPlugin());
    writeJob("broken", "exce nothing\n");
    ASSERT_EQ(ctl("reload-configuration").exit_code, 0);
    const std::string error = (path("jobs") / "broken.conf").string() + ":1:1: unknown stanza";
    const auto logged = [&](const std::string& priority, const std::string& text) {
        for (const auto& entry :
             journal_->entries({"SYSLOG_IDENTIFIER=tend", "PRIORITY=" + priority})) {
            if (message(entry).find(text) != std::string::npos) {
                return true;
            }
        }
        return false;
    };
    EXPECT_TRUE(waitFor([&] { return logged("3", error); }, 30s, 100ms)) << tendLog();
    // Information at 6: tend said it was ready.
    EXPECT_TRUE(waitFor([&] { return logged("6", " ready; control socket "); }, 30s, 100ms))
        << tendLog();
}

TEST_F(JournalLogger, TheStateChangesOfAFailedInstanceAreNotices) {
    writeJob("crasher", "console log\nrespawn\nrespawn limit 1 60\nexec sh -c 'exit 3'\n");
    ASSERT_TRUE(startWithPlugin());
    ctl("start", "crasher");
    ASSERT_GE(
        waitForEntries("crasher", 1, {kStateMessageId, "TEND_STATE=waiting", "PRIORITY=5"}).size(),
        1u)
        << tendLog();
    // Before it failed, its changes were plain information.
    EXPECT_FALSE(journal_->entries({kStateMessageId, "TEND_JOB=crasher", "PRIORITY=6"}).empty());
}

TEST_F(JournalLogger, TheJobsSettingAndAJobsJournalStanzaChooseTheJobs) {
    settings("setting jobs listed, silenced\n");
    const std::string talk = "console log\nexec sh -c 'echo said; exec sleep 1000'\n";
    writeJob("listed", talk);
    writeJob("silenced", "journal off\n" + talk);
    writeJob("unlisted", talk);
    writeJob("asked", "journal on\n" + talk);
    writeJob("broken", "journal sometimes\n" + talk);
    ASSERT_TRUE(startWithPlugin());
    for (const char* job : {"listed", "silenced", "unlisted", "asked"}) {
        ASSERT_EQ(ctl("start", job).exit_code, 0) << job << tendLog();
        ASSERT_TRUE(waitForFile(logPath(job), "said\n")) << job;
    }
    EXPECT_EQ(lineEntries("listed", 1).size(), 1u);
    EXPECT_EQ(lineEntries("asked", 1).size(), 1u);
    // What came after the jobs in the journal has arrived: the others are not coming.
    ASSERT_EQ(ctl("stop", "asked").exit_code, 0);
    ASSERT_GE(waitForEntries("asked", 1, {"TEND_STATE=waiting"}).size(), 1u);
    EXPECT_EQ(journal_->entries({"TEND_JOB=silenced"}).size(), 0u);
    EXPECT_EQ(journal_->entries({"TEND_JOB=unlisted"}).size(), 0u);
    EXPECT_THAT(tendLog(), HasSubstr("broken.conf:1:"));
    EXPECT_THAT(tendLog(), HasSubstr("journal: expected 'on' or 'off'"));
    EXPECT_THAT(ctl("journal-logger").out, HasSubstr("jobs: listed,silenced"));
    for (const char* job : {"listed", "silenced", "unlisted"}) {
        ASSERT_EQ(ctl("stop", job).exit_code, 0);
    }
}

TEST_F(JournalLogger, AJournalThatGoesAwayIsReportedOnceAndReachedAgainWhenItIsBack) {
    writeJob("ticker",
             "console log\nscript\n  i=0\n  while :; do\n    echo \"tick $i\"\n"
             "    i=$((i+1)); sleep 0.02\n  done\nend script\n");
    ASSERT_TRUE(startWithPlugin());
    ASSERT_EQ(ctl("start", "ticker").exit_code, 0) << tendLog();
    const pid_t pid = mainPidOf("ticker");
    ASSERT_GE(lineEntries("ticker", 5).size(), 5u) << tendLog();
    EXPECT_THAT(ctl("journal-logger").out, HasSubstr("journal: connected"));

    journal_->stopJournald(SIGKILL);
    ASSERT_TRUE(waitForFile(tend_log_, "journal unavailable (", 10s)) << tendLog();
    EXPECT_THAT(tendLog(), HasSubstr("job output stays in the file logs"));
    // The job goes on, its log file too, while the journal is away for a while.
    const std::size_t logged = lines(readLog("ticker")).size();
    ASSERT_TRUE(waitFor([&] { return lines(readLog("ticker")).size() >= logged + 100; }, 30s));
    const ProcessResult away = ctl("journal-logger");
    EXPECT_THAT(away.out, HasSubstr("journal: unavailable (")) << away.out;
    EXPECT_THAT(away.out, ::testing::Not(HasSubstr("lines not sent: 0\n"))) << away.out;
    EXPECT_EQ(countOf(tendLog(), "journal unavailable"), 1u) << tendLog();
    EXPECT_THAT(statusOf("ticker"), HasSubstr("start/running"));
    const json data = json::parse(ctl("--json", "journal-logger").out, nullptr, false);
    EXPECT_EQ(data["connected"], false) << data.dump();
    EXPECT_GT(data["lines_not_sent"].get<long>(), 0) << data.dump();

    ASSERT_EQ(journal_->startJournald(), "");
    ASSERT_TRUE(waitForFile(tend_log_, "journal reachable again; ", 10s)) << tendLog();
    EXPECT_THAT(tendLog(), HasSubstr(" lines were not sent to it and are in the file logs"));
    // New lines arrive: a tick the log file got after the journal came back.
    const std::size_t now = lines(readLog("ticker")).size();
    ASSERT_TRUE(waitFor([&] { return lines(readLog("ticker")).size() >= now + 5; }, 30s));
    const std::string later = "MESSAGE=tick " + std::to_string(now + 2);
    EXPECT_EQ(waitForEntries("ticker", 1, {later}).size(), 1u) << tendLog();
    EXPECT_EQ(mainPidOf("ticker"), pid);
    ASSERT_EQ(ctl("stop", "ticker").exit_code, 0);
    // The log file has every line, none lost while the journal was away.
    const auto written = lines(readLog("ticker"));
    for (std::size_t i = 0; i < written.size(); ++i) {
        ASSERT_EQ(written[i], "tick " + std::to_string(i));
    }
    EXPECT_EQ(countOf(tendLog(), "journal unavailable"), 1u) << tendLog();
    EXPECT_EQ(countOf(tendLog(), "journal reachable again"), 1u) << tendLog();
}

// libsystemd sends into the void, and says it worked, when journald's socket file does not exist:
// the plugin looks for it itself.
TEST_F(JournalLogger, AJournalWhoseSocketDoesNotExistIsReportedAndReachedOnceItStarts) {
    journal_->stopJournald();
    ::unlink(JournaldSandbox::kSocket);
    writeJob("early",
             "console log\nscript\n  i=0\n  while :; do\n    echo \"line $i\"\n"
             "    i=$((i+1)); sleep 0.05\n  done\nend script\n");
    ASSERT_TRUE(startWithPlugin());
    ASSERT_EQ(ctl("start", "early").exit_code, 0) << tendLog();
    ASSERT_TRUE(waitForFile(tend_log_, "journal unavailable (", 10s)) << tendLog();
    EXPECT_THAT(tendLog(), HasSubstr("journal unavailable (/run/systemd/journal/socket: No such "
                                     "file or directory); job output stays in the file logs"));
    EXPECT_THAT(ctl("journal-logger").out, HasSubstr("journal: unavailable ("));
    ASSERT_EQ(journal_->startJournald(), "");
    ASSERT_TRUE(waitForFile(tend_log_, "journal reachable again; ", 10s)) << tendLog();
    EXPECT_GE(lineEntries("early", 3).size(), 3u) << tendLog();
    EXPECT_THAT(ctl("journal-logger").out, HasSubstr("journal: connected"));
    EXPECT_EQ(countOf(tendLog(), "journal unavailable"), 1u) << tendLog();
    ASSERT_EQ(ctl("stop", "early").exit_code, 0);
}

}  // namespace
}  // namespace tend::test
