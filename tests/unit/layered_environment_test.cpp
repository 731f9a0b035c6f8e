// SPDX-License-Identifier: MIT
// A job instance's table as a layer over a shared one: it must read, in order and value, exactly
// as a copy of the shared table changed the same way would, since that is what jobs used to get.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "model/layered_environment.hpp"

namespace tend::model {
namespace {

std::shared_ptr<const Environment> sharedTable() {
    return std::make_shared<const Environment>(
        Environment{"HOME=/home/u", "PATH=/usr/bin:/bin", "LANG=C.UTF-8", "DISPLAY=:0"});
}

TEST(LayeredEnvironment, ReadsAsTheSharedTableUntilItChangesSomething) {
    const auto base = sharedTable();
    LayeredEnvironment layered(base);
    EXPECT_EQ(layered.base(), base.get());
    EXPECT_EQ(layered.ownEntries(), 0u);
    EXPECT_EQ(layered.flatten(), *base);
    EXPECT_EQ(layered.get("LANG"), "C.UTF-8");
    EXPECT_EQ(layered.size(), 4u);
}

TEST(LayeredEnvironment, ReplacedKeysKeepTheirPlaceAndNewOnesComeLast) {
    const auto base = sharedTable();
    LayeredEnvironment layered(base);
    layered.set("LANG", "de_DE.UTF-8");
    layered.setEntry("UPSTART_EVENTS=startup");
    layered.unset("PATH");
    EXPECT_EQ(layered.flatten(), (Environment{"HOME=/home/u", "LANG=de_DE.UTF-8", "DISPLAY=:0",
                                              "UPSTART_EVENTS=startup"}));
    EXPECT_EQ(layered.get("PATH"), std::nullopt);
    EXPECT_EQ(layered.size(), 4u);
    // Removed, then set again: a copy would have appended it.
    layered.set("PATH", "/bin");
    EXPECT_EQ(layered.flatten().entries().back(), "PATH=/bin");
    EXPECT_EQ(*base, *sharedTable());  // the shared table never changes
}

TEST(LayeredEnvironment, AnySequenceOfChangesMatchesTheSameChangesToACopy) {
    const auto base = sharedTable();
    LayeredEnvironment layered(base);
    Environment copy = *base;
    const char* keys[] = {"HOME", "PATH", "LANG", "DISPLAY", "A", "B"};
    std::uint32_t seed = 12345;
    for (int step = 0; step < 2000; ++step) {
        seed = seed * 1103515245u + 12345u;
        const std::string key = keys[(seed >> 8) % 6];
        if ((seed >> 16) % 3 == 0) {
            layered.unset(key);
            copy.unset(key);
        } else {
            const std::string value = std::to_string(step);
            layered.set(key, value);
            copy.set(key, value);
        }
        ASSERT_EQ(layered.flatten(), copy) << "step " << step;
        ASSERT_EQ(layered.size(), copy.size());
        ASSERT_EQ(layered.get(key), copy.get(key));
    }
}

TEST(LayeredEnvironment, WithoutABaseItIsAPlainTable) {
    LayeredEnvironment layered;
    layered.set("A", "1");
    EXPECT_EQ(layered.flatten(), Environment{"A=1"});
    EXPECT_EQ(expandVariables("$A", layered), "1");
}

}  // namespace
}  // namespace tend::model
