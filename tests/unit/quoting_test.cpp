// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include "support/job_text.hpp"
#include "tend/grammar/quoting.hpp"

namespace tend::grammar {
namespace {

TEST(Dequote, RemovesQuotesThatSitMidToken) {
    EXPECT_EQ(dequote(R"(FOO="a b")"), "FOO=a b");
    EXPECT_EQ(dequote(R"('a b'"c d")"), "a bc d");
}

TEST(Dequote, KeepsTheBackslashOfAnyEscapeButBackslashAndBlank) {
    EXPECT_EQ(dequote(R"(this\$FOO)"), R"(this\$FOO)");
    EXPECT_EQ(dequote(R"(this\\FOO)"), R"(this\FOO)");
    EXPECT_EQ(dequote(R"(a\ b)"), "a b");
    EXPECT_EQ(dequote(R"(\"x)"), R"(\"x)");
}

TEST(Dequote, FoldsANewlineInsideQuotesAndItsBlanksIntoOneSpace) {
    EXPECT_EQ(dequote("\"this \\\n   is\""), "this is");
    EXPECT_EQ(dequote("\"a  \n  test\""), "a test");
}

TEST(CollapseCommand, KeepsQuotesAndInnerSpacingButFoldsContinuations) {
    EXPECT_EQ(collapseCommand("\"this   is\" a \"test \\\n of\" \\\n commands"),
              "\"this   is\" a \"test of\" commands");
}

TEST(QuoteValue, WritesTokensThatReadBackAsTheSameValue) {
    const char* values[] = {"",        "plain",       "two words",  "a#b",
                            "(paren)", "back\\slash", "say \"hi\"", "it's",
                            "a'b\"c",  "tab\there",   "\\\\double", "end\\",
                            "$HOME/x", "and",         "=value"};
    for (const char* value : values) {
        EXPECT_EQ(dequote(quoteValue(value)), value) << quoteValue(value);
        // And through the whole parser, as the printer relies on.
        const auto result = test::loadText("description " + quoteValue(value) + "\n");
        ASSERT_TRUE(result.job) << test::formatted(result);
        EXPECT_EQ(result.job->description, std::string(value));
    }
}

}  // namespace
}  // namespace tend::grammar
