// SPDX-License-Identifier: MIT
// The 80 third-party Upstart job files in tests/corpus/upstart/: 78 load cleanly, two are
// rejected with a positioned error as Upstart rejected them, and every loadable one survives the
// print/parse round trip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "conf/job_loader.hpp"
#include "conf/job_printer.hpp"
#include "support/job_text.hpp"

namespace tend {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::vector<std::string> corpusFiles() {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(TEND_CORPUS_DIR)) {
        if (entry.path().extension() == ".conf") {
            names.push_back(entry.path().filename().string());
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

// The files Upstart itself rejects, with the error tend must give.
const std::map<std::string, std::string> kRejected = {
    {"066-httpcache.conf", "066-httpcache.conf:15:1: error: unknown stanza 'go'"},
    {"072-chromeos-cros-disks.conf",
     "072-chromeos-cros-disks.conf:25:1: error: unknown stanza 'import'"},
};

conf::LoadResult load(const std::string& file) {
    return conf::loadJobFile(fs::path(file).stem().string(), fs::path(TEND_CORPUS_DIR) / file,
                             test::coreRegistry());
}

class CorpusFile : public ::testing::TestWithParam<std::string> {};

TEST_P(CorpusFile, LoadsOrIsRejectedAsUpstartDid) {
    const std::string& file = GetParam();
    const auto result = load(file);
    const auto rejected = kRejected.find(file);
    if (rejected == kRejected.end()) {
        EXPECT_TRUE(result.job) << test::formatted(result);
        EXPECT_FALSE(result.hasErrors()) << test::formatted(result);
    } else {
        EXPECT_FALSE(result.job);
        EXPECT_THAT(test::formatted(result), HasSubstr(rejected->second));
    }
}

TEST_P(CorpusFile, SurvivesThePrintParseRoundTrip) {
    const auto result = load(GetParam());
    if (!result.job) {
        ASSERT_TRUE(kRejected.contains(GetParam())) << test::formatted(result);
        return;
    }
    const std::string printed = conf::printJobClass(*result.job);
    const auto again = conf::loadJob(result.job->name, grammar::SourceText("printed.conf", printed),
                                     nullptr, test::coreRegistry());
    ASSERT_TRUE(again.job) << test::formatted(again) << printed;
    EXPECT_EQ(*again.job, *result.job) << printed;
    EXPECT_EQ(conf::printJobClass(*again.job), printed);
}

INSTANTIATE_TEST_SUITE_P(
    Upstart, CorpusFile, ::testing::ValuesIn(corpusFiles()), [](const auto& info) {
        std::string name = fs::path(info.param).stem().string();
        std::replace_if(
            name.begin(), name.end(),
            [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
        return name;
    });

TEST(Corpus, HoldsAllEightyFilesWithSeventyEightLoadable) {
    const auto files = corpusFiles();
    EXPECT_EQ(files.size(), 80u);
    const auto loadable = std::count_if(
        files.begin(), files.end(), [](const std::string& f) { return load(f).job.has_value(); });
    EXPECT_EQ(loadable, 78);
}

}  // namespace
}  // namespace tend
