// SPDX-License-Identifier: MIT
// `tend --check` and `tendctl check-config` as real processes, on real files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/run_process.hpp"

namespace tend {
namespace {

namespace fs = std::filesystem;
using test::runProcess;
using ::testing::HasSubstr;

class TempTree : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/tend-check-XXXXXX";
        root_ = mkdtemp(pattern);
    }
    void TearDown() override { fs::remove_all(root_); }
    void write(const fs::path& relative, const std::string& text) {
        fs::create_directories((root_ / relative).parent_path());
        std::ofstream(root_ / relative, std::ios::binary) << text;
    }
    fs::path root_;
};

TEST(CheckCli, ReportsTheTwoBrokenCorpusFilesAndExitsOne) {
    const auto r = runProcess({TEND_BIN, "--check", TEND_CORPUS_DIR});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("066-httpcache.conf:15:1: error: unknown stanza 'go'"));
    EXPECT_THAT(r.err,
                HasSubstr("072-chromeos-cros-disks.conf:25:1: error: unknown stanza 'import'"));
    EXPECT_THAT(r.err, HasSubstr("80 job files checked: 2 errors in 2 of them"));
}

TEST(CheckCli, PassesTheShippedJobsAndExitsZero) {
    const auto r = runProcess({TEND_BIN, "--check", TEND_JOBS_DIR});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr("no errors"));
}

TEST(CheckCli, PrintsMachineReadableDiagnosticsWithJson) {
    const auto r = runProcess({TEND_BIN, "--check", "--json", TEND_CORPUS_DIR});
    EXPECT_EQ(r.exit_code, 1);
    const auto doc = nlohmann::json::parse(r.out);
    EXPECT_EQ(doc["errors"], 2);
    EXPECT_EQ(doc["files"].size(), 80u);
    bool found = false;
    for (const auto& file : doc["files"]) {
        if (file["job"] == "072-chromeos-cros-disks") {
            EXPECT_FALSE(file["loaded"].get<bool>());
            EXPECT_EQ(file["diagnostics"][0]["line"], 25);
            EXPECT_EQ(file["diagnostics"][0]["column"], 1);
            EXPECT_EQ(file["diagnostics"][0]["severity"], "error");
            found = true;
        }
    }
    EXPECT_TRUE(found);
}

TEST_F(TempTree, CheckNamesJobsBySubdirectoryAndAppliesOverrides) {
    write("net/web.conf", "start on started dbus\nexec /bin/true\n");
    write("net/web.override", "manual\nkill timeout forever\n");
    const auto r = runProcess({TEND_BIN, "--check", "--json", root_.string()});
    EXPECT_EQ(r.exit_code, 1);
    const auto doc = nlohmann::json::parse(r.out);
    ASSERT_EQ(doc["files"].size(), 1u);
    EXPECT_EQ(doc["files"][0]["job"], "net/web");
    EXPECT_TRUE(doc["files"][0]["loaded"].get<bool>())
        << "a broken override leaves the .conf in force";
    EXPECT_THAT(doc["files"][0]["diagnostics"].dump(), HasSubstr("illegal interval 'forever'"));
}

TEST_F(TempTree, MissingAndUnreadablePathsAreErrorsNotCrashes) {
    write("ok.conf", "exec /bin/true\n");
    fs::create_directory(root_ / "dir.conf");
    const auto r = runProcess(
        {TEND_BIN, "--check", (root_ / "missing.conf").string(), (root_ / "ok.conf").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("missing.conf: error: cannot open: No such file or directory"));
    EXPECT_THAT(r.err, HasSubstr("2 job files checked: 1 error in 1 of them"));
    write("lonely.override", "manual\n");
    const auto lonely = runProcess({TEND_BIN, "--check", (root_ / "lonely.override").string()});
    EXPECT_EQ(lonely.exit_code, 0) << "an orphan override is a warning, not an error";
    EXPECT_THAT(lonely.err, HasSubstr("warning: override has no 'lonely.conf' beside it"));
    const auto dir = runProcess({TEND_BIN, "--check", root_.string()});
    EXPECT_EQ(dir.exit_code, 0) << dir.err << " (a directory named *.conf is not a job)";
}

TEST_F(TempTree, TendctlCheckConfigWalksTheXdgSearchPath) {
    write("config/tend/jobs.d/a.conf", "exec /bin/true\n");
    write("config/upstart/b.conf", "start on (x\n");
    const auto r =
        runProcess({TENDCTL_BIN, "check-config"}, {"XDG_CONFIG_HOME=" + (root_ / "config").string(),
                                                   "XDG_CONFIG_DIRS=" + (root_ / "none").string(),
                                                   "XDG_DATA_DIRS=" + (root_ / "none").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err,
                HasSubstr("b.conf:2:1: error: unbalanced '(': expected ')' before end of file"));
    EXPECT_THAT(r.err, HasSubstr("2 job files checked: 1 error in 1 of them"));
}

TEST(CheckCli, TendctlWithoutATendSaysHowToStartOne) {
    const auto ctl = runProcess({TENDCTL_BIN, "status", "imapfilter"},
                                {"TEND_SESSION=/nonexistent/tend/control"});
    EXPECT_EQ(ctl.exit_code, 1);
    EXPECT_THAT(ctl.err, HasSubstr("cannot reach tend at /nonexistent/tend/control: No such file "
                                   "or directory"));
    EXPECT_THAT(ctl.err, HasSubstr("Start it with 'tend'"));
    const auto bad = runProcess({TEND_BIN, "stray-argument"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_THAT(bad.err, HasSubstr("unexpected argument 'stray-argument'"));
}

}  // namespace
}  // namespace tend
