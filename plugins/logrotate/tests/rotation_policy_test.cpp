// SPDX-License-Identifier: MIT
// logrotate's policy: sizes, ages, the `log rotate ...` stanza and the plugin's settings.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "rotation_policy.hpp"

namespace tend::logrotate {
namespace {

using namespace std::chrono_literals;

TEST(RotationPolicy, SizesTakeBytesAndBinaryUnits) {
    EXPECT_EQ(parseSize("4096"), 4096u);
    EXPECT_EQ(parseSize("512k"), 512u * 1024);
    EXPECT_EQ(parseSize("10M"), 10u * 1024 * 1024);
    EXPECT_EQ(parseSize("1G"), 1ull << 30);
    EXPECT_FALSE(parseSize("ten"));
    EXPECT_FALSE(parseSize("10MB"));
    EXPECT_FALSE(parseSize("-1"));
    EXPECT_FALSE(parseSize("99999999999999999999G"));
}

TEST(RotationPolicy, AgesTakeSecondsAndUnits) {
    EXPECT_EQ(parseAge("30"), 30s);
    EXPECT_EQ(parseAge("15m"), 15min);
    EXPECT_EQ(parseAge("12h"), 12h);
    EXPECT_EQ(parseAge("7d"), 7 * 24h);
    EXPECT_EQ(parseAge("2w"), 14 * 24h);
    EXPECT_FALSE(parseAge("1y"));
    EXPECT_FALSE(parseAge("soon"));
}

TEST(RotationPolicy, AStanzaOverridesWhatItNamesAndKeepsTheRest) {
    RotationPolicy policy;
    policy.age = 7 * 24h;
    ASSERT_EQ(applyStanza({"size", "1M", "keep", "2", "nocompress"}, policy), "");
    EXPECT_TRUE(policy.enabled);
    EXPECT_EQ(policy.size, 1u << 20);
    EXPECT_EQ(policy.keep, 2);
    EXPECT_FALSE(policy.compress);
    EXPECT_EQ(policy.age, 7 * 24h);
}

TEST(RotationPolicy, RotateOffTurnsRotationOffForTheJob) {
    RotationPolicy policy;
    ASSERT_EQ(applyStanza({"off"}, policy), "");
    EXPECT_FALSE(policy.enabled);
}

TEST(RotationPolicy, ABadStanzaSaysWhatIsWrongAndChangesNothing) {
    RotationPolicy policy;
    EXPECT_EQ(applyStanza({"size", "ten"}, policy),
              "invalid size 'ten' (for example 512k, 10M, 1G, or off)");
    EXPECT_EQ(applyStanza({"keep", "5", "size"}, policy), "'size' needs a value");
    EXPECT_EQ(applyStanza({"weekly"}, policy),
              "unknown option 'weekly' (size, age, keep, compress, nocompress, off)");
    EXPECT_EQ(applyStanza({"keep", "-2"}, policy), "invalid keep '-2' (a number from 0 to 1000)");
    EXPECT_EQ(policy.size, RotationPolicy{}.size);
    EXPECT_EQ(policy.keep, RotationPolicy{}.keep);
}

TEST(RotationPolicy, SettingsApplyAndBadOnesAreReportedOneByOne) {
    const std::map<std::string, std::string, std::less<>> settings{
        {"size", "64k"}, {"keep", "many"}, {"compress", "no"}, {"age", "1d"}};
    RotationPolicy policy;
    const auto errors = applySettings(
        [&](std::string_view key) {
            const auto it = settings.find(key);
            return it == settings.end() ? std::string() : it->second;
        },
        policy);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0], "setting keep: invalid number 'many' (0 to 1000)");
    EXPECT_EQ(policy.size, 64u * 1024);
    EXPECT_EQ(policy.keep, 5);
    EXPECT_FALSE(policy.compress);
    EXPECT_EQ(policy.age, 24h);
}

}  // namespace
}  // namespace tend::logrotate
