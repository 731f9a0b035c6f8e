// SPDX-License-Identifier: MIT
// The out-of-line part of a job class: the stanzas few jobs use cost a job without them one
// pointer, and a job with them still loads, compares and prints as before.
#include <gtest/gtest.h>

#include "conf/job_printer.hpp"
#include "model/sparse_value.hpp"
#include "support/job_text.hpp"

namespace tend {
namespace {

using test::formatted;
using test::loadText;

struct Pair {
    int a = 0;
    std::string b;
    friend bool operator==(const Pair&, const Pair&) = default;
};

TEST(SparseValue, ReadsItsDefaultsUntilEditedAndCopiesDeeply) {
    model::SparseValue<Pair> value;
    EXPECT_FALSE(value.engaged());
    EXPECT_EQ(value->a, 0);
    EXPECT_EQ(value->b, "");

    value.edit().b = "set";
    ASSERT_TRUE(value.engaged());
    model::SparseValue<Pair> copy = value;
    copy.edit().b = "changed in the copy";
    EXPECT_EQ(value->b, "set");
    EXPECT_EQ(copy->b, "changed in the copy");
    EXPECT_FALSE(value == copy);

    copy = value;
    EXPECT_TRUE(value == copy);
    model::SparseValue<Pair> moved = std::move(copy);
    EXPECT_EQ(moved->b, "set");
}

TEST(SparseValue, AnEditedValueStillAtItsDefaultsEqualsAnUntouchedOne) {
    model::SparseValue<Pair> untouched;
    model::SparseValue<Pair> edited;
    edited.edit();
    EXPECT_TRUE(untouched == edited);
}

TEST(SeldomStanzas, AJobWithoutThemAllocatesNothingForThem) {
    const auto result = loadText("description \"d\"\nstart on startup\nrespawn\nexec sleep 1\n");
    ASSERT_TRUE(result.job) << formatted(result);
    EXPECT_FALSE(result.job->seldom.engaged());
}

TEST(SeldomStanzas, AJobWithThemLoadsComparesAndPrintsThem) {
    const char* text =
        "author \"someone\"\nusage \"start with X=1\"\nchdir /tmp\nsetuid nobody\n"
        "limit nofile 10 20\nexec sleep 1\n";
    const auto result = loadText(text);
    ASSERT_TRUE(result.job) << formatted(result);
    const model::JobClass& job = *result.job;
    ASSERT_TRUE(job.seldom.engaged());
    EXPECT_EQ(job.seldom->author, "someone");
    EXPECT_EQ(job.seldom->usage, "start with X=1");
    EXPECT_EQ(job.seldom->chdir, "/tmp");
    EXPECT_EQ(job.seldom->setuid, "nobody");
    ASSERT_EQ(job.seldom->limits.size(), 1u);

    const std::string printed = conf::printJobClass(job);
    EXPECT_NE(printed.find("chdir /tmp"), std::string::npos) << printed;
    EXPECT_NE(printed.find("limit nofile 10 20"), std::string::npos) << printed;
    const auto again = loadText(printed);
    ASSERT_TRUE(again.job) << formatted(again);
    EXPECT_TRUE(*again.job == job);

    const auto other = loadText(std::string(text) + "chroot /srv\n");
    ASSERT_TRUE(other.job) << formatted(other);
    EXPECT_FALSE(*other.job == job);
}

}  // namespace
}  // namespace tend
