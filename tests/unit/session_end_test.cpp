// SPDX-License-Identifier: MIT
// Session end on the fake platform: jobs stop in reverse order of their `start on started X`
// links, so that what a job uses (the bus, an agent) goes after the job; a cycle of links stops
// together, and the daemon's deadline allows a kill timeout per round.
#include <csignal>

#include "support/supervisor_fixture.hpp"

namespace tend {
namespace {

using test::SupervisorTest;
using ::testing::HasSubstr;

class SessionEnd : public SupervisorTest {
  protected:
    pid_t pidOf(const std::string& job) {
        for (const auto& spawned : platform_.spawned) {
            for (const auto& entry : spawned.setup.env) {
                if (entry == "UPSTART_JOB=" + job) {
                    return spawned.pid;
                }
            }
        }
        return -1;
    }
    bool told(const std::string& job) {
        const pid_t pid = pidOf(job);
        return platform_.sent(pid, SIGTERM) || platform_.sent(-pid, SIGTERM);
    }
    void stops(const std::string& job) {
        killedBy(pidOf(job), SIGTERM);
        supervisor_->poll();
    }
};

TEST_F(SessionEnd, AJobStopsOnlyOnceTheJobsThatStartOnItHaveStopped) {
    addJob("dbus", "exec dbus-daemon\n");
    addJob("imap", "start on started dbus\nexec imapfilter\n");
    addJob("notify", "start on started imap\nexec notifier\n");
    addJob("other", "exec sleep 100\n");
    start("dbus");
    start("other");
    supervisor_->poll();
    ASSERT_EQ(platform_.spawned.size(), 4u);
    EXPECT_EQ(supervisor_->stopRounds(), 3u);

    bool idle = false;
    supervisor_->stopEverything([&] { idle = true; });
    EXPECT_TRUE(told("notify"));
    EXPECT_TRUE(told("other"));  // nothing starts on it
    EXPECT_FALSE(told("imap"));
    EXPECT_FALSE(told("dbus"));

    stops("notify");
    EXPECT_TRUE(told("imap"));
    EXPECT_FALSE(told("dbus"));
    stops("other");
    EXPECT_FALSE(told("dbus"));
    stops("imap");
    EXPECT_TRUE(told("dbus"));
    EXPECT_FALSE(idle);
    stops("dbus");
    EXPECT_TRUE(idle);
}

TEST_F(SessionEnd, JobsThatStartOnEachOtherStopTogether) {
    addJob("a", "start on started b\nexec sleep 100\n");
    addJob("b", "start on started a\nexec sleep 100\n");
    addJob("user", "start on started a\nexec sleep 100\n");
    start("a");
    supervisor_->poll();
    ASSERT_EQ(platform_.spawned.size(), 3u);
    bool idle = false;
    supervisor_->stopEverything([&] { idle = true; });
    EXPECT_TRUE(told("user"));
    EXPECT_FALSE(told("a"));
    stops("user");
    EXPECT_TRUE(told("a"));
    EXPECT_TRUE(told("b"));
    EXPECT_THAT(log_.str(), HasSubstr("session end: jobs that start on each other (a, b); "
                                      "stopping them together"));
    stops("a");
    stops("b");
    EXPECT_TRUE(idle);
}

TEST_F(SessionEnd, ADependencyThatIsNotRunningHoldsNothingUp) {
    addJob("dbus", "exec dbus-daemon\n");
    addJob("imap", "start on started dbus or go\nexec imapfilter\n");
    supervisor_->emit("go", {});
    supervisor_->poll();
    ASSERT_EQ(platform_.spawned.size(), 1u);
    EXPECT_EQ(supervisor_->stopRounds(), 1u);
    bool idle = false;
    supervisor_->stopEverything([&] { idle = true; });
    EXPECT_TRUE(told("imap"));
    stops("imap");
    EXPECT_TRUE(idle);
}

}  // namespace
}  // namespace tend
