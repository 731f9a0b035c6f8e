// SPDX-License-Identifier: MIT
// What a re-exec carries: the supervisor's jobs saved by one supervisor, written down, read
// back and taken by another on the same (fake) processes, with a virtual clock; and the saved
// state's file format refusing what it should.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <csignal>
#include <cstdlib>
#include <sstream>

#include "daemon/saved_state_json.hpp"
#include "dispatch/supervisor.hpp"
#include "support/fake_platform.hpp"
#include "support/job_text.hpp"

namespace tend {
namespace {

using dispatch::Supervisor;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

class SavedStateTest : public ::testing::Test {
  protected:
    SavedStateTest() {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
        logger_ = std::make_shared<spdlog::logger>("test", sink);
        before_ = makeSupervisor();
    }

    std::unique_ptr<Supervisor> makeSupervisor() {
        return std::make_unique<Supervisor>(platform_, nullptr, dispatch::SupervisorOptions{},
                                            logger_);
    }

    static void addJob(Supervisor& supervisor, const std::string& name, const std::string& text) {
        const grammar::SourceText source(name + ".conf", text);
        auto result = conf::loadJob(name, source, nullptr, test::coreRegistry());
        ASSERT_TRUE(result.job) << test::formatted(result);
        supervisor.setClass(std::make_shared<const model::JobClass>(std::move(*result.job)));
    }

    static std::string status(const Supervisor& supervisor, const std::string& name) {
        return supervisor.statusOfClass(*supervisor.findClass(name));
    }

    // Saved by the first supervisor, through the file format, into a second one that has read
    // `jobs` (name, text) as the next tend would.
    std::vector<std::string> reexec(const std::vector<std::pair<std::string, std::string>>& jobs) {
        EXPECT_EQ(before_->restlessness(), "");
        const std::string text = daemon::encodeSavedState(before_->save());
        std::string error;
        const auto state = daemon::decodeSavedState(text, error);
        EXPECT_TRUE(state) << error;
        after_ = makeSupervisor();
        for (const auto& [name, job] : jobs) {
            addJob(*after_, name, job);
        }
        return state ? after_->restore(*state) : std::vector<std::string>{"unreadable"};
    }

    pid_t lastPid() const { return platform_.spawned.back().pid; }

    test::FakePlatform platform_;
    std::ostringstream log_;
    std::shared_ptr<spdlog::logger> logger_;
    std::unique_ptr<Supervisor> before_;
    std::unique_ptr<Supervisor> after_;
};

TEST_F(SavedStateTest, ARunningInstanceComesBackWithItsProcessEnvironmentAndCounters) {
    const std::string job = "respawn\nrespawn limit 5 100\ninstance $N\nenv A=1\nexec sleep 100\n";
    addJob(*before_, "svc", job);
    ASSERT_TRUE(before_->start("svc", {"N=x", "B=2"}, {}).ok);
    // One crash: a respawn counted, and the last exit kept.
    platform_.exited(lastPid());
    before_->onChildExit(lastPid(), {false, 7});
    const pid_t pid = lastPid();
    const std::string before_status = status(*before_, "svc");
    ASSERT_THAT(before_status, HasSubstr("svc (x) start/running, process " + std::to_string(pid)));
    ASSERT_TRUE(before_->setEnvironment(nullptr, {"GLOBAL=yes"}, false).empty());

    EXPECT_THAT(reexec({{"svc", job}}), IsEmpty());
    EXPECT_EQ(status(*after_, "svc"), before_status);
    const dispatch::Job& carried = *after_->findClass("svc")->instances.at("x");
    EXPECT_EQ(carried.respawns, 1u);
    EXPECT_EQ(carried.respawn_count, 1u);
    ASSERT_TRUE(carried.last_exit);
    EXPECT_EQ(carried.last_exit->value, 7);
    const model::Environment env = after_->environment(&carried);
    EXPECT_EQ(env.get("A"), "1");
    EXPECT_EQ(env.get("B"), "2");
    EXPECT_EQ(env.get("N"), "x");
    EXPECT_EQ(after_->globalEnvironment().get("GLOBAL"), "yes");
    // The process is the second supervisor's now: its exit is a crash it respawns from.
    const std::size_t spawns = platform_.spawned.size();
    platform_.exited(pid);
    after_->onChildExit(pid, {false, 7});
    EXPECT_EQ(platform_.spawned.size(), spawns + 1);
    EXPECT_EQ(after_->findClass("svc")->instances.at("x")->respawns, 2u);
}

TEST_F(SavedStateTest, AJobBetweenTwoStatesIsNamedUntilItRuns) {
    addJob(*before_, "slow", "pre-start exec sleep 1\nexec sleep 100\n");
    ASSERT_TRUE(before_->start("slow", {}, {}).ok);
    EXPECT_EQ(before_->restlessness(), "slow is start/pre-start");
    platform_.exited(lastPid());
    before_->onChildExit(lastPid(), {false, 0});
    EXPECT_EQ(before_->restlessness(), "");
    EXPECT_THAT(status(*before_, "slow"), HasSubstr("slow start/running"));
}

TEST_F(SavedStateTest, ARespawnDelayIsArmedAgainAndRunsOut) {
    const std::string job =
        "respawn\nrespawn limit unlimited\nrespawn delay 400ms 1s\nexec false\n";
    addJob(*before_, "crasher", job);
    ASSERT_TRUE(before_->start("crasher", {}, {}).ok);
    platform_.exited(lastPid());
    before_->onChildExit(lastPid(), {false, 1});
    ASSERT_THAT(status(*before_, "crasher"), HasSubstr("crasher respawn/post-stop, respawn delay"));
    const std::size_t spawns = platform_.spawned.size();

    EXPECT_THAT(reexec({{"crasher", job}}), IsEmpty());
    before_.reset();  // its timers go with it, as an exec's do
    EXPECT_THAT(status(*after_, "crasher"), HasSubstr("crasher respawn/post-stop, respawn delay"));
    platform_.advance(1s);
    EXPECT_EQ(platform_.spawned.size(), spawns + 1);
    EXPECT_THAT(status(*after_, "crasher"), HasSubstr("crasher start/running"));
}

// A re-exec neither restarts the delay nor cuts it short: the respawn comes when it would have.
TEST_F(SavedStateTest, ARespawnDelayRunsOnFromWhereItWas) {
    const std::string job = "respawn\nrespawn limit unlimited\nrespawn delay 400ms\nexec false\n";
    addJob(*before_, "crasher", job);
    ASSERT_TRUE(before_->start("crasher", {}, {}).ok);
    platform_.exited(lastPid());
    before_->onChildExit(lastPid(), {false, 1});
    const std::size_t spawns = platform_.spawned.size();
    platform_.advance(300ms);
    ASSERT_EQ(platform_.spawned.size(), spawns);

    EXPECT_THAT(reexec({{"crasher", job}}), IsEmpty());
    before_.reset();
    platform_.advance(99ms);
    EXPECT_EQ(platform_.spawned.size(), spawns) << "sooner than 400 ms after the exit";
    platform_.advance(2ms);
    EXPECT_EQ(platform_.spawned.size(), spawns + 1) << "the delay started over at the re-exec";
    EXPECT_THAT(status(*after_, "crasher"), HasSubstr("crasher start/running"));
}

TEST_F(SavedStateTest, AnInstanceWhoseJobIsGoneIsSentSigtermAndReported) {
    addJob(*before_, "gone", "exec sleep 100\n");
    ASSERT_TRUE(before_->start("gone", {}, {}).ok);
    const pid_t pid = lastPid();
    platform_.signals.clear();
    EXPECT_THAT(reexec({}),
                ElementsAre("gone: no job file defines it any more; its processes are sent "
                            "SIGTERM"));
    ASSERT_FALSE(platform_.signals.empty());
    EXPECT_EQ(platform_.signals.back().target, -pid);
    EXPECT_EQ(platform_.signals.back().signal, SIGTERM);
}

TEST_F(SavedStateTest, AStartOnHalfMatchedBeforeTheReexecIsCompletedAfterIt) {
    const std::string pair = "start on (a or b) and c KEY=v*\nexec sleep 100\n";
    addJob(*before_, "pair", pair);
    before_->emit("a", model::Environment{"FROM=before"});
    before_->poll();
    ASSERT_EQ(status(*before_, "pair"), "pair stop/waiting");
    const std::size_t spawns = platform_.spawned.size();

    EXPECT_THAT(reexec({{"pair", pair}}), IsEmpty());
    after_->emit("c", model::Environment{"KEY=val"});
    after_->poll();
    EXPECT_THAT(status(*after_, "pair"), HasSubstr("pair start/running"));
    ASSERT_EQ(platform_.spawned.size(), spawns + 1);
    // The event from before the re-exec is one of those that started it, with its variables.
    EXPECT_THAT(platform_.spawned.back().setup.env, ::testing::Contains("UPSTART_EVENTS=a c"));
    EXPECT_THAT(platform_.spawned.back().setup.env, ::testing::Contains("FROM=before"));
}

TEST_F(SavedStateTest, AStartOnThatChangedInBetweenForgetsItsHalf) {
    addJob(*before_, "pair", "start on a and c\nexec sleep 100\n");
    before_->emit("a", {});
    before_->poll();
    const std::size_t spawns = platform_.spawned.size();

    EXPECT_THAT(reexec({{"pair", "start on a and d\nexec sleep 100\n"}}), IsEmpty());
    EXPECT_THAT(log_.str(), HasSubstr("pair: its start on changed or went; what of `a and c` "
                                      "had matched is forgotten"));
    after_->emit("d", {});
    after_->poll();
    EXPECT_EQ(status(*after_, "pair"), "pair stop/waiting");
    EXPECT_EQ(platform_.spawned.size(), spawns);
}

TEST_F(SavedStateTest, AStopOnHalfMatchedBeforeTheReexecIsCompletedAfterIt) {
    const std::string svc = "stop on x and y\nexec sleep 100\n";
    addJob(*before_, "svc", svc);
    ASSERT_TRUE(before_->start("svc", {}, {}).ok);
    before_->emit("x", {});
    before_->poll();
    ASSERT_THAT(status(*before_, "svc"), HasSubstr("svc start/running"));
    const pid_t pid = lastPid();

    EXPECT_THAT(reexec({{"svc", svc}}), IsEmpty());
    platform_.signals.clear();
    after_->emit("y", {});
    after_->poll();
    EXPECT_THAT(status(*after_, "svc"), HasSubstr("svc stop/"));
    ASSERT_FALSE(platform_.signals.empty());
    EXPECT_EQ(std::abs(platform_.signals.front().target), pid);
    EXPECT_EQ(platform_.signals.front().signal, SIGTERM);
}

TEST(SavedStateFormat, RefusesOtherVersionsFormatsAndNumbersThatAreNotIntegers) {
    dispatch::SavedState state;
    state.global_env = {"HOME=/home/user"};
    dispatch::SavedJob job;
    job.name = "svc";
    job.pid = 42;
    job.pgid = 42;
    state.jobs.push_back(job);
    const std::string text = daemon::encodeSavedState(state);
    std::string error;
    ASSERT_TRUE(daemon::decodeSavedState(text, error)) << error;

    const auto with = [&](const std::string& from, const std::string& to) {
        std::string changed = text;
        const auto at = changed.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        return changed.replace(at, from.size(), to);
    };
    EXPECT_FALSE(daemon::decodeSavedState(with("\"version\":2", "\"version\":3"), error));
    EXPECT_EQ(error, "saved state version 3, and this tend reads 2 only");
    EXPECT_FALSE(daemon::decodeSavedState(with("tend-saved-state", "other"), error));
    EXPECT_EQ(error, "not a saved state (format \"other\")");
    EXPECT_FALSE(daemon::decodeSavedState(with("\"pid\":42", "\"pid\":4.5e300"), error));
    EXPECT_THAT(error, HasSubstr("malformed saved state: not an integer"));
    EXPECT_FALSE(daemon::decodeSavedState(with("\"pid\":42", "\"pid\":-3"), error));
    EXPECT_EQ(error, "malformed saved state: a negative process id");
    EXPECT_FALSE(daemon::decodeSavedState("[]", error));
    EXPECT_EQ(error, "not a saved state (not a JSON object)");
}

}  // namespace
}  // namespace tend
