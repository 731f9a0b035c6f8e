// SPDX-License-Identifier: MIT
// Hostile and broken input: each gets one clear, positioned error, never a crash, a hang or a
// stack overflow.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "conf/job_printer.hpp"
#include "support/job_text.hpp"
#include "tend/grammar/parse.hpp"

namespace tend {
namespace {

using test::formatted;
using test::loadText;
using ::testing::HasSubstr;

TEST(BadInput, InvalidUtf8IsRejectedAtTheOffendingByte) {
    const auto result = loadText("description \"caf\xC3\xA9\"\nauthor \"bad \xFF byte\"\n");
    EXPECT_FALSE(result.job);
    EXPECT_THAT(
        formatted(result),
        HasSubstr(
            "job.conf:2:13: error: invalid UTF-8: byte 0xFF does not start a valid sequence"));
}

TEST(BadInput, OverlongAndSurrogateUtf8FormsAreRejected) {
    EXPECT_THAT(formatted(loadText("description \"\xC0\xAF\"\n")), HasSubstr("invalid UTF-8"));
    EXPECT_THAT(formatted(loadText("description \"\xED\xA0\x80\"\n")), HasSubstr("invalid UTF-8"));
}

TEST(BadInput, NulBytesAreRejected) {
    using namespace std::string_literals;
    const auto result = loadText("exec /bin/true\nexec a\0b\n"s);
    EXPECT_FALSE(result.job);
    EXPECT_THAT(formatted(result), HasSubstr("job.conf:2:7: error: NUL byte in job file"));
}

TEST(BadInput, AOneMegabyteLineIsRejectedWithItsLength) {
    const std::string text = "description \"" + std::string(1 << 20, 'x') + "\"\n";
    const auto result = loadText(text);
    EXPECT_FALSE(result.job);
    EXPECT_THAT(formatted(result),
                HasSubstr("job.conf:1:1: error: line is 1048590 bytes long; the limit is 65536"));
}

TEST(BadInput, TenThousandNestedParenthesesHitTheDepthLimitNotTheStack) {
    const std::string text =
        "start on " + std::string(10000, '(') + "a" + std::string(10000, ')') + "\nexec x\n";
    const auto result = loadText(text);
    EXPECT_FALSE(result.job);
    EXPECT_THAT(formatted(result), HasSubstr("error: parentheses nested more than 64 deep"));
}

TEST(BadInput, NestingUpToTheLimitIsAccepted) {
    const std::string text = "start on " + std::string(grammar::kMaxParenDepth, '(') + "a" +
                             std::string(grammar::kMaxParenDepth, ')') + "\nexec x\n";
    const auto result = loadText(text);
    ASSERT_TRUE(result.job) << formatted(result);
    EXPECT_EQ(result.job->start_on->toString(), "a");
}

// A file saved with Windows line ends reads as the same job, its script included; a lone CR
// (old Mac line ends) is no line end, and the error says where.
TEST(BadInput, CrlfLineEndsReadAsTheSameJobAndALoneCrIsNoLineEnd) {
    const std::string lf =
        "description \"x\"\nstart on started dbus\nenv A=1\nscript\n  echo hi\n  exit 0\n"
        "end script\n";
    std::string crlf;
    for (char c : lf) {
        crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    }
    const auto unix_text = loadText(lf);
    const auto windows_text = loadText(crlf);
    ASSERT_TRUE(unix_text.job) << formatted(unix_text);
    ASSERT_TRUE(windows_text.job) << formatted(windows_text);
    EXPECT_EQ(conf::printJobClass(*windows_text.job), conf::printJobClass(*unix_text.job));

    const auto old_mac = loadText("description \"y\"\rexec sleep 1000\r");
    EXPECT_FALSE(old_mac.job);
    EXPECT_THAT(formatted(old_mac), HasSubstr("job.conf:1:17: error: unexpected 'exec' after "
                                              "'description \"y\"'"));
}

// Found by fuzz_job_file: a script line ending in several CRs lost one per read, so the printed
// job read back as another. Every CR before the line end goes at the first read.
TEST(BadInput, AScriptLineEndingInSeveralCrsReadsBackTheSameOncePrinted) {
    const auto first = loadText("script\n  echo a \r\r\r\n  echo b\r\n  echo c\nend script\n");
    ASSERT_TRUE(first.job) << formatted(first);
    const std::string printed = conf::printJobClass(*first.job);
    EXPECT_EQ(printed.find('\r'), std::string::npos) << printed;
    const auto again = loadText(printed);
    ASSERT_TRUE(again.job) << formatted(again);
    EXPECT_TRUE(*again.job == *first.job) << printed;
    EXPECT_EQ(conf::printJobClass(*again.job), printed);
}

TEST(BadInput, AnUnterminatedQuoteAtEndOfFilePointsAtTheQuote) {
    const auto result = loadText("exec x\ndescription \"never closed");
    EXPECT_FALSE(result.job);
    EXPECT_THAT(
        formatted(result),
        HasSubstr(
            "job.conf:2:13: error: unterminated quoted string: no closing \" before end of file"));
}

TEST(BadInput, AnUnterminatedScriptBlockPointsAtItsOpening) {
    const auto result =
        loadText("description \"x\"\npost-stop script\n    echo bye\n  end scrip\n");
    EXPECT_FALSE(result.job);
    EXPECT_THAT(formatted(result),
                HasSubstr("job.conf:2:1: error: unterminated script block: no 'end script' line"));
}

TEST(BadInput, ATrailingBackslashAtEndOfFileIsReported) {
    const auto result = loadText("exec foo \\");
    EXPECT_THAT(formatted(result),
                HasSubstr("job.conf:1:10: error: trailing backslash at end of file"));
}

TEST(BadInput, AnEmptyFileIsAnErrorSoAHalfWrittenFileNeverLoads) {
    const auto empty = loadText("");
    EXPECT_FALSE(empty.job);
    EXPECT_THAT(formatted(empty), HasSubstr("job.conf:1:1: error: job file has no stanzas"));
    const auto comments = loadText("# only a comment\n\n   \n");
    EXPECT_FALSE(comments.job);
    EXPECT_THAT(formatted(comments), HasSubstr("error: job file has no stanzas"));
}

TEST(BadInput, AnOversizedFileIsRejectedBeforeParsing) {
    const auto result = loadText(std::string(grammar::kMaxFileBytes + 1, '\n'));
    EXPECT_FALSE(result.job);
    EXPECT_THAT(formatted(result), HasSubstr("job files are limited to 4194304 bytes"));
}

}  // namespace
}  // namespace tend
