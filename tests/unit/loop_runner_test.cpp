// SPDX-License-Identifier: MIT
// A handler that throws (an allocation that failed, a bug) ends its own turn of tend's loop, not
// the loop: the daemon is told what it threw, and the work queued behind it still runs.
#include "daemon/loop_runner.hpp"

#include <gtest/gtest.h>

#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace tend::daemon {
namespace {

TEST(LoopRunner, AHandlerThatThrowsIsReportedAndTheWorkQueuedBehindItStillRuns) {
    boost::asio::io_context io;
    std::vector<std::string> ran;
    std::vector<std::string> failures;
    boost::asio::post(io, [&] { ran.push_back("first"); });
    boost::asio::post(io, [&] {
        ran.push_back("thrower");
        throw std::bad_alloc();
    });
    boost::asio::post(io, [&] { ran.push_back("third"); });
    boost::asio::post(io, [&] {
        // Work added after the failure is still run.
        boost::asio::post(io, [&] { ran.push_back("posted later"); });
    });
    runThroughFailures(io, [&](const std::string& what) { failures.push_back(what); });
    EXPECT_EQ(ran, (std::vector<std::string>{"first", "thrower", "third", "posted later"}));
    EXPECT_EQ(failures, (std::vector<std::string>{"std::bad_alloc"}));
}

TEST(LoopRunner, EachFailureIsToldOnceWhateverWasThrown) {
    boost::asio::io_context io;
    std::vector<std::string> failures;
    boost::asio::post(io, [] { throw std::runtime_error("a broken invariant"); });
    boost::asio::post(io, [] { throw 42; });
    boost::asio::post(io, [] { throw std::bad_alloc(); });
    runThroughFailures(io, [&](const std::string& what) { failures.push_back(what); });
    EXPECT_EQ(failures,
              (std::vector<std::string>{"a broken invariant", "an exception of an unknown type",
                                        "std::bad_alloc"}));
}

TEST(LoopRunner, ATellingThatThrowsItselfDoesNotStopTheLoop) {
    boost::asio::io_context io;
    int told = 0;
    bool ran = false;
    boost::asio::post(io, [] { throw std::bad_alloc(); });
    boost::asio::post(io, [&] { ran = true; });
    runThroughFailures(io, [&](const std::string&) {
        ++told;
        throw std::bad_alloc();  // no memory to log it either
    });
    EXPECT_EQ(told, 1);
    EXPECT_TRUE(ran);
}

TEST(LoopRunner, ReturnsWhenTheLoopRunsOutOfWorkAsPlainRunDoes) {
    boost::asio::io_context io;
    boost::asio::steady_timer timer(io);
    int fired = 0;
    timer.expires_after(std::chrono::milliseconds(1));
    timer.async_wait([&](const boost::system::error_code&) { ++fired; });
    int failures = 0;
    runThroughFailures(io, [&](const std::string&) { ++failures; });
    EXPECT_EQ(fired, 1);
    EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace tend::daemon
