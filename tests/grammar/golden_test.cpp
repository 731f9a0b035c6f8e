// SPDX-License-Identifier: MIT
// Golden tests: every Upstart parser case (tests/grammar/cases/INDEX.md) is a `.conf` input,
// an optional `.override`, and a `.expect` holding either the diagnostics a user would read or,
// for a valid file, the canonical form it loads into. Set TEND_UPDATE_GOLDEN=1 to rewrite the
// `.expect` files after an intended change, then review the diff.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "conf/job_printer.hpp"
#include "support/job_text.hpp"

namespace tend {
namespace {

namespace fs = std::filesystem;

std::string readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::vector<std::string> caseNames() {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(TEND_CASES_DIR)) {
        if (entry.path().extension() == ".conf") {
            names.push_back(entry.path().stem().string());
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

// A case loaded as tend loads a job: its `.conf`, with its `.override` if it has one.
conf::LoadResult load(const std::string& name) {
    const fs::path dir(TEND_CASES_DIR);
    const grammar::SourceText conf(name + ".conf", readFile(dir / (name + ".conf")));
    std::optional<grammar::SourceText> over;
    if (fs::exists(dir / (name + ".override"))) {
        over.emplace(name + ".override", readFile(dir / (name + ".override")));
    }
    return conf::loadJob(name, conf, over ? &*over : nullptr, test::coreRegistry());
}

// The cases that load into a definition, which is what a print/parse round trip needs: those
// whose expected output has no error. The rest are invalid files: they have nothing to print,
// and their diagnostics are checked against their `.expect` like every case's output. (Read from
// the `.expect` files rather than by loading every case: each test process builds this list.)
std::vector<std::string> loadingCaseNames() {
    std::vector<std::string> names = caseNames();
    std::erase_if(names, [](const std::string& name) {
        return readFile(fs::path(TEND_CASES_DIR) / (name + ".expect")).find(": error:") !=
               std::string::npos;
    });
    return names;
}

// What the user would see: diagnostics, then the loaded definition in canonical form.
std::string render(const conf::LoadResult& result) {
    std::string out = test::formatted(result);
    if (result.job) {
        out += conf::printJobClass(*result.job);
    }
    return out;
}

std::string caseTestName(const ::testing::TestParamInfo<std::string>& info) {
    std::string name = info.param;
    std::replace_if(
        name.begin(), name.end(),
        [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
    return name;
}

class GoldenCase : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenCase, MatchesItsExpectedOutput) {
    const std::string& name = GetParam();
    const std::string actual = render(load(name));
    const fs::path expect_path = fs::path(TEND_CASES_DIR) / (name + ".expect");
    if (std::getenv("TEND_UPDATE_GOLDEN") != nullptr) {
        std::ofstream(expect_path, std::ios::binary) << actual;
    }
    ASSERT_TRUE(fs::exists(expect_path)) << "missing " << expect_path;
    EXPECT_EQ(actual, readFile(expect_path));
}

INSTANTIATE_TEST_SUITE_P(UpstartParserCases, GoldenCase, ::testing::ValuesIn(caseNames()),
                         caseTestName);

// Instantiated only for the cases that load (loadingCaseNames), so each one run checks something.
class LoadingGoldenCase : public ::testing::TestWithParam<std::string> {};

TEST_P(LoadingGoldenCase, SurvivesThePrintParseRoundTrip) {
    const auto loaded = load(GetParam()).job;
    ASSERT_TRUE(loaded) << "listed as a case that loads, but it did not";
    const std::string printed = conf::printJobClass(*loaded);
    if (printed.empty()) {
        // A definition with no stanza at all (everything default) prints as nothing.
        model::JobClass blank;
        blank.name = loaded->name;
        EXPECT_EQ(*loaded, blank);
    } else {
        const auto again = conf::loadJob(loaded->name, grammar::SourceText("printed.conf", printed),
                                         nullptr, test::coreRegistry());
        ASSERT_TRUE(again.job) << test::formatted(again) << printed;
        EXPECT_EQ(*again.job, *loaded) << printed;
    }
}

INSTANTIATE_TEST_SUITE_P(UpstartParserCases, LoadingGoldenCase,
                         ::testing::ValuesIn(loadingCaseNames()), caseTestName);

TEST(GoldenCases, AreThere) {
    EXPECT_GE(caseNames().size(), 150u);
    // A valid case that stopped loading would drop out of the round trip (its `.expect`, which
    // holds the canonical form, would fail it above); this keeps the round trip from thinning out.
    EXPECT_GE(loadingCaseNames().size(), 140u);
}

}  // namespace
}  // namespace tend
