// SPDX-License-Identifier: MIT
// The hang watch against real threads: a call that does not return is reported once, with the
// plugin and what was called; calls that return, however many, are not; calls from other
// threads are not watched; and once calls stop, the watch's thread sleeps for good.
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "plugin/hang_watch.hpp"

namespace tend {
namespace {

using namespace std::chrono_literals;

struct Hang {
    std::string plugin;
    std::string what;
};

TEST(HangWatch, ACallThatDoesNotReturnIsReportedWithItsPluginAndWhatWasCalled) {
    std::promise<Hang> reported;
    plugin::HangWatch watch(100ms, [&](const std::string& plugin, const std::string& what) {
        reported.set_value({plugin, what});
    });
    const std::string outer = "outer";
    const std::string inner = "stuck";
    const auto outer_call = watch.enter(outer, "a control command");
    const auto inner_call = watch.enter(inner, "a timer callback");
    auto hang = reported.get_future();
    // A bound on a stuck test, not a speed: the watch looks once a second.
    ASSERT_EQ(hang.wait_for(60s), std::future_status::ready);
    const Hang got = hang.get();
    EXPECT_EQ(got.plugin, "stuck");
    EXPECT_EQ(got.what, "a timer callback");
    watch.leave(inner_call);
    watch.leave(outer_call);
}

TEST(HangWatch, CallsThatReturnAreNeverReportedAndTheWatchThenSleeps) {
    int hangs = 0;
    plugin::HangWatch watch(50ms, [&](const std::string&, const std::string&) { ++hangs; });
    const std::string name = "quick";
    // Calls far apart (each gap longer than the limit) and calls in a burst.
    for (int i = 0; i < 25; ++i) {
        watch.leave(watch.enter(name, "an event callback"));
        std::this_thread::sleep_for(100ms);
    }
    for (int i = 0; i < 100000; ++i) {
        watch.leave(watch.enter(name, "an output sink"));
    }
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    while (!watch.sleeping() && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(watch.sleeping()) << "the watch still looks, with no call in a minute";
    EXPECT_EQ(hangs, 0);
    // The next call wakes it, and a hang is still seen.
    std::promise<void> reported;
    plugin::HangWatch second(100ms,
                             [&](const std::string&, const std::string&) { reported.set_value(); });
    second.leave(second.enter(name, "a timer callback"));
    while (!second.sleeping() && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(second.sleeping());
    const auto call = second.enter(name, "a timer callback");
    EXPECT_EQ(reported.get_future().wait_for(60s), std::future_status::ready);
    second.leave(call);
}

TEST(HangWatch, CallsFromAnotherThreadAreNotWatched) {
    std::promise<void> reported;
    plugin::HangWatch watch(50ms,
                            [&](const std::string&, const std::string&) { reported.set_value(); });
    const std::string name = "elsewhere";
    std::thread other([&] {
        watch.enter(name, "a log sink");  // never left
    });
    other.join();
    EXPECT_EQ(reported.get_future().wait_for(3s), std::future_status::timeout);
}

}  // namespace
}  // namespace tend
