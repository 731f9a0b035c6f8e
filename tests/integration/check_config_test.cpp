// SPDX-License-Identifier: MIT
// `tendctl check-config` beyond syntax, as a real process on real files: unknown events and jobs,
// conditions that can never be true, ignored stanzas, and its options.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/run_process.hpp"

namespace tend {
namespace {

namespace fs = std::filesystem;
using test::ProcessResult;
using test::runProcess;
using ::testing::HasSubstr;
using ::testing::Not;

class CheckConfig : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/tend-check-config-XXXXXX";
        root_ = mkdtemp(pattern);
    }
    void TearDown() override { fs::remove_all(root_); }

    void write(const fs::path& relative, const std::string& text) {
        fs::create_directories((root_ / relative).parent_path());
        std::ofstream(root_ / relative, std::ios::binary) << text;
    }

    // Runs tendctl check-config with a search path of its own below the temporary root, so
    // that the user's real jobs never join the session being checked.
    ProcessResult check(std::vector<std::string> args) const {
        args.insert(args.begin(), {TENDCTL_BIN, "check-config"});
        // No tend to hand the check to: these are tendctl's own, offline.
        return runProcess(args, {"TEND_SESSION=" + (root_ / "no-tend").string(),
                                 "XDG_CONFIG_HOME=" + (root_ / "config").string(),
                                 "XDG_CONFIG_DIRS=" + (root_ / "none").string(),
                                 "XDG_DATA_DIRS=" + (root_ / "none").string()});
    }

    std::string jobs() const { return (root_ / "jobs").string(); }

    fs::path root_;
};

TEST_F(CheckConfig, ReportsUnknownEventsAndJobsInUpstartsWordsAtTheirPosition) {
    write("jobs/a.conf", "start on started grape or peach\nstop on stopping JOB=grape\nexec a\n");
    write("jobs/b.conf", "emits plum\nstart on plum and started a\nexec b\n");
    const auto r = check({jobs()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "");
    const std::string a = jobs() + "/a.conf";
    EXPECT_THAT(r.err, HasSubstr(a + ":1:18: error: start on: unknown job grape\n"
                                     "    start on started grape or peach\n"
                                     "                     ^\n"));
    EXPECT_THAT(r.err, HasSubstr(a + ":1:27: error: start on: unknown event peach\n"));
    EXPECT_THAT(r.err, HasSubstr(a + ":2:18: error: stop on: unknown job grape\n"));
    EXPECT_THAT(r.err, Not(HasSubstr("b.conf")));
    EXPECT_THAT(r.err, HasSubstr("2 job files checked: 3 errors in 1 of them\n"));
}

TEST_F(CheckConfig, WarningsAloneExitZeroAndWarnMakesThemFail) {
    write("jobs/a.conf", "start on startup or peach\nchroot /srv\nexec a\n");
    const auto r = check({jobs()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr("a.conf:1:21: warning: start on: unknown event peach (the rest "
                                 "of the condition can still become true)\n"));
    EXPECT_THAT(r.err, HasSubstr("a.conf:2:1: warning: chroot: not applied in a user session; "
                                 "the job runs with the session's own root directory\n"));
    EXPECT_THAT(r.err, HasSubstr("1 job file checked: no errors, 2 warnings\n"));
    EXPECT_EQ(check({"-w", jobs()}).exit_code, 1);
    EXPECT_EQ(check({"--warn", jobs()}).exit_code, 1);
}

TEST_F(CheckConfig, ReportsConditionsThatCanNeverBeTrue) {
    write("jobs/a.conf",
          "start on started JOB=a JOB!=a\nstop on stopped b RESULT=success\nexec a\n");
    write("jobs/b.conf", "start on started a\nstop on started a\nexec b\n");
    const auto r = check({jobs()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("a.conf:1:24: error: start on: 'started JOB=a JOB!=a' can never "
                                 "match: JOB must be 'a' and must not be 'a'\n"));
    EXPECT_THAT(r.err, HasSubstr("a.conf:2:19: error: stop on: 'stopped b RESULT=success' can "
                                 "never match: a stopped event's RESULT is only ever 'ok' or "
                                 "'failed'\n"));
    EXPECT_THAT(r.err, HasSubstr("b.conf:2:1: warning: stop on: the same condition as start on; "));
    EXPECT_THAT(r.err, HasSubstr("2 job files checked: 2 errors in 1 of them, 1 warning\n"));
}

TEST_F(CheckConfig, IgnoreEventsTakesTheListedEventsAsGiven) {
    write("jobs/a.conf", "start on peach and desktop-start\nstop on desktop-end\nexec a\n");
    EXPECT_EQ(check({jobs()}).exit_code, 1);
    for (const auto& option : std::vector<std::vector<std::string>>{
             {"-i", "peach,desktop-*"},
             {"--ignore-events", "peach,desktop-start,desktop-end"},
             {"--ignore-events=desktop-*,peach"},
             {"-ipeach", "-i", "desktop-*"}}) {
        auto args = option;
        args.push_back(jobs());
        const auto r = check(args);
        EXPECT_EQ(r.exit_code, 0) << option.front() << '\n' << r.err;
        EXPECT_THAT(r.err, HasSubstr("1 job file checked: no errors\n"));
    }
}

TEST_F(CheckConfig, JsonListsEveryFindingWithStableFields) {
    write("jobs/a.conf", "start on peach\ncgroup memory\nexec a\n");
    write("jobs/b.conf", "exce b\n");
    const auto r = check({"--json", jobs()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "");
    const auto doc = nlohmann::json::parse(r.out);
    EXPECT_EQ(doc["errors"], 2);
    EXPECT_EQ(doc["warnings"], 1);
    EXPECT_EQ(doc["ok"], false);
    ASSERT_EQ(doc["findings"].size(), 3u);
    EXPECT_EQ(doc["findings"][0], (nlohmann::json{{"job", "a"},
                                                  {"path", jobs() + "/a.conf"},
                                                  {"line", 1},
                                                  {"column", 10},
                                                  {"severity", "error"},
                                                  {"kind", "unknown-event"},
                                                  {"message", "start on: unknown event peach"}}));
    EXPECT_EQ(doc["findings"][1]["kind"], "ignored-stanza");
    EXPECT_EQ(doc["findings"][1]["severity"], "warning");
    EXPECT_EQ(doc["findings"][2]["kind"], "syntax");
    EXPECT_EQ(doc["findings"][2]["job"], "b");
    EXPECT_EQ(doc["files"][0]["diagnostics"][0]["kind"], "unknown-event");

    const auto warned = check({"--json", "-w", jobs()});
    EXPECT_EQ(nlohmann::json::parse(warned.out)["ok"], false);
    fs::remove(root_ / "jobs/b.conf");
    write("jobs/a.conf", "start on startup\ncgroup memory\nexec a\n");
    const auto only_warnings = check({"--json", jobs()});
    EXPECT_EQ(only_warnings.exit_code, 0);
    EXPECT_EQ(nlohmann::json::parse(only_warnings.out)["ok"], true);
    EXPECT_EQ(nlohmann::json::parse(check({"--json", "-w", jobs()}).out)["ok"], false);
}

// exposes: check-config --json printed its report indented over many lines, where every other
// command prints one JSON document per line.
TEST_F(CheckConfig, JsonIsOneDocumentOnOneLine) {
    write("jobs/a.conf", "start on peach\nexec a\n");
    write("jobs/b.conf", "exec b\n");
    const auto r = check({"--json", jobs()});
    EXPECT_EQ(r.exit_code, 1);
    ASSERT_FALSE(r.out.empty());
    EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << r.out;
    const auto doc = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_TRUE(doc.is_object()) << r.out;
    EXPECT_EQ(doc["files"].size(), 2u);
}

TEST_F(CheckConfig, PointsIntoTheOverrideWhenTheConditionComesFromIt) {
    write("jobs/a.conf", "start on startup\nexec a\n");
    write("jobs/a.override", "# moved\nstart on startup and peach\n");
    const auto r = check({jobs()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("a.override:2:22: error: start on: unknown event peach\n"));
}

TEST_F(CheckConfig, AnOverrideWithErrorsDoesNotMoveTheReport) {
    write("jobs/a.conf", "start on peach\nexec a\n");
    write("jobs/a.override", "start on peach\nkill timeout forever\n");
    const auto r = check({jobs()});
    EXPECT_THAT(r.err, HasSubstr("a.conf:1:10: error: start on: unknown event peach\n"));
}

TEST_F(CheckConfig, NamedFilesAreCheckedAgainstTheJobsOnTheSearchPath) {
    write("config/tend/jobs.d/fruit.conf", "emits peach\nexec fruit\n");
    write("elsewhere/a.conf", "start on peach and started fruit\nexec a\n");
    const auto r = check({(root_ / "elsewhere/a.conf").string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr("1 job file checked: no errors\n"))
        << "the search path's jobs count but are not reported on";
}

TEST_F(CheckConfig, WithoutPathsItJudgesTheWholeSearchPathAsOneSession) {
    write("config/tend/jobs.d/fruit.conf", "emits peach\nexec fruit\n");
    write("config/upstart/a.conf", "start on peach and started fruit\nstop on plum\nexec a\n");
    const auto r = check({});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("a.conf:2:9: error: stop on: unknown event plum\n"));
    EXPECT_THAT(r.err, HasSubstr("2 job files checked: 1 error in 1 of them\n"));
}

TEST_F(CheckConfig, BadOptionsExitTwo) {
    const auto missing = check({"-i"});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_THAT(missing.err, HasSubstr("option '-i' needs a list of events"));
    const auto unknown = check({"--frobnicate"});
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_THAT(unknown.err, HasSubstr("unknown option '--frobnicate'"));
    const auto help = check({"--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_THAT(help.out, HasSubstr("--ignore-events LIST"));
}

// The corpus holds system jobs, so most of their events come from sources a session does not
// have; this pins what check-config makes of them and that it gets through all 80 files. The
// session jobs among them wait for tend's own xsession, desktop-start and desktop-end.
TEST_F(CheckConfig, JudgesTheUpstartCorpus) {
    const auto r = check({TEND_CORPUS_DIR});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("80 job files checked: 89 errors in 55 of them, 11 warnings\n"));
    EXPECT_THAT(r.err, HasSubstr("004-upstart-container-detect.conf:3:10: error: start on: "
                                 "unknown event mounted\n"));
    const auto json = nlohmann::json::parse(check({"--json", TEND_CORPUS_DIR}).out);
    EXPECT_EQ(json["errors"], 89);
    EXPECT_EQ(json["findings"].size(), 100u);
}

}  // namespace
}  // namespace tend
