// SPDX-License-Identifier: MIT
// A blocking sd-bus call interrupted by a signal is made again; any other error, or an
// interruption that keeps coming, goes to the caller.
#include <gtest/gtest.h>

#include "interrupted_calls.hpp"

namespace tend::dbus_bridge {
namespace {

sdbus::Error interrupted() {
    return sdbus::Error("System.Error.EINTR", "Failed to add match (Interrupted system call)");
}

TEST(InterruptedCalls, ACallInterruptedTwiceIsMadeAgainAndItsResultReturned) {
    int calls = 0;
    const int result = retryInterrupted([&] {
        if (++calls < 3) {
            throw interrupted();
        }
        return 42;
    });
    EXPECT_EQ(result, 42);
    EXPECT_EQ(calls, 3);
}

TEST(InterruptedCalls, AnotherErrorIsNotRetried) {
    int calls = 0;
    EXPECT_THROW(retryInterrupted([&]() -> int {
                     ++calls;
                     throw sdbus::Error("System.Error.ECONNREFUSED", "Connection refused");
                 }),
                 sdbus::Error);
    EXPECT_EQ(calls, 1);
}

TEST(InterruptedCalls, InterruptionsThatKeepComingFailAfterAFewTries) {
    int calls = 0;
    try {
        retryInterrupted([&]() -> int {
            ++calls;
            throw interrupted();
        });
        ADD_FAILURE() << "no error";
    } catch (const sdbus::Error& error) {
        EXPECT_EQ(error.getName(), "System.Error.EINTR");
    }
    EXPECT_EQ(calls, kInterruptedTries);
}

}  // namespace
}  // namespace tend::dbus_bridge
