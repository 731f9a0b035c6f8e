// SPDX-License-Identifier: MIT
// Reaping real children: every exit is reported once with its status, by its pidfd and without
// a walk of the others; orphans, stopped children and children without a pidfd still reach the
// walk.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sys/child_reaper.hpp"
#include "sys/spawn.hpp"

namespace tend {
namespace {

using namespace std::chrono_literals;

class ChildReaperTest : public ::testing::Test {
  protected:
    void SetUp() override {
        reaper_.start({[this](pid_t pid, sys::ExitStatus status) { exits_[pid].push_back(status); },
                       [this](pid_t pid) { stops_.push_back(pid); }});
    }
    void TearDown() override {
        for (const pid_t pid : started_) {
            if (!exits_.contains(pid)) {
                ::kill(pid, SIGKILL);
            }
        }
        runUntil([&] {
            return std::all_of(started_.begin(), started_.end(),
                               [&](pid_t pid) { return exits_.contains(pid); });
        });
        ::prctl(PR_SET_CHILD_SUBREAPER, 0);
    }

    pid_t start(const std::string& script) {
        sys::ProcessSetup setup;
        setup.argv = {"/bin/sh", "-c", script};
        setup.env = {"PATH=/usr/bin:/bin"};
        const sys::SpawnOutcome outcome = sys::spawnProcess(setup);
        EXPECT_TRUE(outcome.ok()) << outcome.error;
        reaper_.track(outcome.pid);
        started_.push_back(outcome.pid);
        return outcome.pid;
    }

    // Runs the loop until `done`, or for a minute: a bound on a stuck test, not a speed.
    bool runUntil(const std::function<bool()>& done) {
        const auto give_up = std::chrono::steady_clock::now() + 60s;
        while (!done()) {
            if (std::chrono::steady_clock::now() > give_up) {
                return false;
            }
            io_.run_one_for(100ms);
        }
        return true;
    }

    boost::asio::io_context io_;
    sys::ChildReaper reaper_{io_};
    std::map<pid_t, std::vector<sys::ExitStatus>> exits_;
    std::vector<pid_t> stops_;
    std::vector<pid_t> started_;
};

TEST_F(ChildReaperTest, EveryExitBesideIdleChildrenIsReportedOnceWithoutAWalk) {
    std::vector<pid_t> idle;
    for (int i = 0; i < 50; ++i) {
        idle.push_back(start("exec sleep 1000"));
    }
    // After the first walk, none for an hour: what reaps the rest is their pidfds.
    reaper_.setSweepInterval(std::chrono::hours(1));
    ASSERT_EQ(reaper_.withoutPidfd(), 0u);
    std::map<pid_t, int> expected;
    for (int i = 0; i < 100; ++i) {
        expected[start("exit " + std::to_string(i % 7))] = i % 7;
    }
    ASSERT_TRUE(runUntil([&] { return exits_.size() == expected.size(); }))
        << exits_.size() << " of " << expected.size() << " exits reported";
    for (const auto& [pid, code] : expected) {
        ASSERT_EQ(exits_[pid].size(), 1u) << pid;
        EXPECT_FALSE(exits_[pid][0].signaled);
        EXPECT_EQ(exits_[pid][0].value, code);
        EXPECT_FALSE(reaper_.tracked(pid));
    }
    for (const pid_t pid : idle) {
        EXPECT_FALSE(exits_.contains(pid));
        EXPECT_TRUE(reaper_.tracked(pid));
    }
    EXPECT_LE(reaper_.sweeps(), 1u);

    ::kill(idle[0], SIGTERM);
    ASSERT_TRUE(runUntil([&] { return exits_.contains(idle[0]); }));
    EXPECT_TRUE(exits_[idle[0]][0].signaled);
    EXPECT_EQ(exits_[idle[0]][0].value, SIGTERM);
}

TEST_F(ChildReaperTest, AnOrphanIsReapedByTheWalkAtItsSignal) {
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    // No walk on the interval's account: a SIGCHLD that no pidfd explains walks at once.
    reaper_.setSweepInterval(std::chrono::hours(1));
    const pid_t parent = start("sleep 0.2 & echo $! > /dev/null; exit 0");
    ASSERT_TRUE(runUntil([&] { return exits_.size() == 2; }))
        << "the orphaned sleep was never reaped";
    EXPECT_TRUE(exits_.contains(parent));
    for (const auto& [pid, statuses] : exits_) {
        EXPECT_EQ(statuses.size(), 1u);
        EXPECT_EQ(statuses[0].value, 0);
    }
    siginfo_t info{};
    EXPECT_EQ(::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT), -1) << "a zombie is left";
}

TEST_F(ChildReaperTest, AStoppedChildIsReportedAndThenItsExit) {
    const pid_t pid = start("kill -STOP $$; exit 3");
    ASSERT_TRUE(runUntil([&] { return !stops_.empty(); }));
    EXPECT_EQ(stops_, std::vector<pid_t>{pid});
    EXPECT_FALSE(exits_.contains(pid));
    ::kill(pid, SIGCONT);
    ASSERT_TRUE(runUntil([&] { return exits_.contains(pid); }));
    EXPECT_EQ(exits_[pid][0].value, 3);
}

TEST_F(ChildReaperTest, AChildWithoutAPidfdIsReapedAtItsSignal) {
    rlimit files{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
    const rlimit original = files;
    // So few descriptors left that the reaper keeps them for other uses.
    files.rlim_cur = 200;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &files), 0);
    reaper_.setSweepInterval(std::chrono::hours(1));
    const pid_t first = start("exit 4");
    const pid_t second = start("read line; exit 5");  // stdin is /dev/null: exits at once
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &original), 0);
    EXPECT_EQ(reaper_.withoutPidfd(), 2u);
    ASSERT_TRUE(runUntil([&] { return exits_.size() == 2; }));
    EXPECT_EQ(exits_[first][0].value, 4);
    EXPECT_EQ(exits_[second][0].value, 5);
    EXPECT_EQ(reaper_.withoutPidfd(), 0u);
}

}  // namespace
}  // namespace tend
