// SPDX-License-Identifier: MIT
// The env commands' arguments, as initctl took them.
#include <gtest/gtest.h>

#include "env_arguments.hpp"

namespace tend::env_manager {
namespace {

TEST(EnvArguments, GlobalRetainAndOperandsInAnyOrder) {
    const auto parsed = parseEnvArguments("set-env", {"A=1", "-g", "--retain", "B"});
    EXPECT_TRUE(parsed.error.empty());
    EXPECT_TRUE(parsed.global);
    EXPECT_TRUE(parsed.retain);
    EXPECT_EQ(parsed.operands, (std::vector<std::string>{"A=1", "B"}));
}

TEST(EnvArguments, OnlySetEnvTakesRetain) {
    EXPECT_EQ(parseEnvArguments("unset-env", {"-r", "A"}).error, "unset-env: unknown option '-r'");
    EXPECT_EQ(parseEnvArguments("list-env", {"--global"}).global, true);
}

TEST(EnvArguments, AfterADoubleDashEverythingIsAnOperand) {
    const auto parsed = parseEnvArguments("set-env", {"--", "-g=1"});
    EXPECT_FALSE(parsed.global);
    EXPECT_EQ(parsed.operands, (std::vector<std::string>{"-g=1"}));
}

TEST(EnvArguments, ListingIsInCollationOrderOfTheWholeLine) {
    std::vector<std::string> entries{"PATH=/bin", "HOME=/root", "DISPLAY=:0", "A_B=1", "A=2"};
    sortForListing(entries);
    EXPECT_EQ(entries,
              (std::vector<std::string>{"A=2", "A_B=1", "DISPLAY=:0", "HOME=/root", "PATH=/bin"}));
}

}  // namespace
}  // namespace tend::env_manager
