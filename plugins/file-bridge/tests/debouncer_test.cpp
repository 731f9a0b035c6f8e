// SPDX-License-Identifier: MIT
// Debouncing on a clock the test moves.
#include <gtest/gtest.h>

#include "debouncer.hpp"

namespace tend::file_bridge {
namespace {

using namespace std::chrono_literals;

FileEvent event(Kind kind, std::string match) {
    return FileEvent{"/d/", kind, std::move(match), ""};
}

TEST(Debouncer, ABurstOfOneEventBecomesOneWhenTheWindowCloses) {
    Debouncer debouncer(100ms);
    const auto t0 = Debouncer::Clock::time_point{} + 1h;
    for (int i = 0; i < 50; ++i) {
        debouncer.offer(event(Modify, "/d/f"), t0 + std::chrono::milliseconds(i));
    }
    EXPECT_TRUE(debouncer.due(t0 + 99ms).empty());
    EXPECT_EQ(debouncer.nextDue(), t0 + 100ms);
    const auto out = debouncer.due(t0 + 100ms);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], event(Modify, "/d/f"));
    EXPECT_EQ(debouncer.held(), 0u);
    // The next burst starts a new window.
    debouncer.offer(event(Modify, "/d/f"), t0 + 150ms);
    EXPECT_EQ(debouncer.due(t0 + 250ms).size(), 1u);
}

TEST(Debouncer, OtherPathsAndKindsAreTheirOwnAndKeepTheirOrder) {
    Debouncer debouncer(10ms);
    const auto t0 = Debouncer::Clock::time_point{} + 1h;
    debouncer.offer(event(Create, "/d/a"), t0);
    debouncer.offer(event(Modify, "/d/a"), t0 + 1ms);
    debouncer.offer(event(Create, "/d/b"), t0 + 2ms);
    debouncer.offer(event(Create, "/d/a"), t0 + 3ms);
    const auto out = debouncer.due(t0 + 1s);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0], event(Create, "/d/a"));
    EXPECT_EQ(out[1], event(Modify, "/d/a"));
    EXPECT_EQ(out[2], event(Create, "/d/b"));
    EXPECT_FALSE(debouncer.nextDue());
}

}  // namespace
}  // namespace tend::file_bridge
