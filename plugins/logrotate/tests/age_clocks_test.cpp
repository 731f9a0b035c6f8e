// SPDX-License-Identifier: MIT
// The age clocks logrotate carries across a re-exec: what it writes it reads back, to the
// second, and a damaged line costs that line only.
#include <gtest/gtest.h>

#include "age_clocks.hpp"

namespace tend::logrotate {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

TEST(AgeClocks, ComeBackToTheSecondWithPathsThatHaveSpaces) {
    AgeClocks clocks;
    clocks["/home/u/.cache/tend/log/imapfilter.log"] =
        system_clock::time_point(seconds(1796449214));
    clocks["/home/u/log dir/with spaces.log"] = system_clock::time_point(seconds(5));
    const std::string text = encodeAgeClocks(clocks);
    EXPECT_EQ(text,
              "1796449214 /home/u/.cache/tend/log/imapfilter.log\n5 /home/u/log dir/with "
              "spaces.log\n");
    EXPECT_EQ(decodeAgeClocks(text), clocks);
}

TEST(AgeClocks, ADamagedLineCostsThatLineOnly) {
    const AgeClocks clocks =
        decodeAgeClocks("12 /a.log\nnot-a-number /b.log\n-4 /c.log\n13\n14 \n15/d.log\n16 /e.log");
    ASSERT_EQ(clocks.size(), 2u);
    EXPECT_EQ(clocks.at("/a.log"), system_clock::time_point(seconds(12)));
    EXPECT_EQ(clocks.at("/e.log"), system_clock::time_point(seconds(16)));
    EXPECT_TRUE(decodeAgeClocks("").empty());
}

TEST(AgeClocks, APathWithANewlineIsNotWritten) {
    AgeClocks clocks;
    clocks["/odd\nname.log"] = system_clock::time_point(seconds(1));
    clocks["/fine.log"] = system_clock::time_point(seconds(2));
    EXPECT_EQ(encodeAgeClocks(clocks), "2 /fine.log\n");
}

}  // namespace
}  // namespace tend::logrotate
