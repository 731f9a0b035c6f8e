// SPDX-License-Identifier: MIT
// The log router's thread meets an exception (an allocation that failed, a tap that threw): it
// costs that turn, never the capture of every job, nor tend.
#include "log/file_log_router.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>
#include <string>
#include <thread>

namespace tend::log {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string readAll(const fs::path& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool waitForText(const fs::path& path, const std::string& text) {
    for (int i = 0; i < 3000; ++i) {  // 30 s: far beyond the milliseconds this takes
        if (readAll(path).find(text) != std::string::npos) {
            return true;
        }
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

TEST(FileLogRouterFailure, AnExceptionOnTheRoutersThreadCostsOneTurnAndTheLinesGoOnArriving) {
    char pattern[] = "/tmp/tend-router-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    const fs::path dir = pattern;
    std::atomic<int> thrown{0};
    {
        FileLogRouter router(dir, nullptr);
        // Told as the log grows past each byte: the first time, it throws as an allocation that
        // failed would.
        router.setGrowthTap(1, [&](const LogGrowth&) {
            if (thrown.fetch_add(1) == 0) {
                throw std::bad_alloc();
            }
        });
        int fds[2];
        ASSERT_EQ(::pipe(fds), 0);
        OutputSpec spec;
        spec.file_name = "job.log";
        spec.job = "job";
        router.adoptOutput(spec, fds[0], -1);
        ASSERT_EQ(::write(fds[1], "one\n", 4), 4);
        ASSERT_TRUE(waitForText(dir / "job.log", "one\n")) << "the line before the throw";
        for (int i = 0; i < 200 && thrown.load() == 0; ++i) {
            std::this_thread::sleep_for(10ms);
        }
        ASSERT_GE(thrown.load(), 1) << "the tap was never called";
        ASSERT_EQ(::write(fds[1], "two\n", 4), 4);
        EXPECT_TRUE(waitForText(dir / "job.log", "one\ntwo\n")) << readAll(dir / "job.log");
        EXPECT_GE(thrown.load(), 2) << "the router's thread stopped after the exception";
        ::close(fds[1]);
    }
    fs::remove_all(dir);
}

}  // namespace
}  // namespace tend::log
