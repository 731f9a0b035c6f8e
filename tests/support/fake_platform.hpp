// SPDX-License-Identifier: MIT
// A Platform for unit tests: a virtual clock, timers that fire only when the test advances
// time, and processes that exist only as records. Nothing sleeps and nothing forks, so respawn
// limits, back-off and kill timeouts are checked exactly.
#pragma once

#include <csignal>
#include <map>
#include <set>

#include "sys/platform.hpp"

namespace tend::test {

class FakePlatform final : public sys::Platform {
  public:
    struct Spawned {
        pid_t pid;
        sys::ProcessSetup setup;
    };
    struct Signal {
        pid_t target;  // negative for a process group
        int signal;
    };

    sys::TimePoint now() const override { return now_; }

    sys::TimerId startTimer(sys::Millis delay, std::function<void()> callback) override {
        const sys::TimerId id = next_timer_++;
        timers_.emplace(id, Timer{now_ + delay, std::move(callback)});
        return id;
    }
    void cancelTimer(sys::TimerId id) override { timers_.erase(id); }

    sys::SpawnOutcome spawn(const sys::ProcessSetup& setup) override {
        if (!fail_next_spawn.empty()) {
            sys::SpawnOutcome failed;
            failed.error = fail_next_spawn;
            failed.short_of_resources = spawn_short_of_resources;
            ++failed_spawns;
            if (--spawn_failures <= 0) {
                fail_next_spawn.clear();
                spawn_failures = 1;
            }
            return failed;
        }
        const pid_t pid = next_pid_++;
        spawned.push_back({pid, setup});
        live_.insert(pid);
        groups_[pid] = pid;
        return {pid, {}};
    }
    void signalProcess(pid_t pid, int signal) override { signals.push_back({pid, signal}); }
    void signalGroup(pid_t pgid, int signal) override { signals.push_back({-pgid, signal}); }
    bool groupAlive(pid_t pgid) override {
        for (pid_t pid : live_) {
            if (groups_[pid] == pgid) {
                return true;
            }
        }
        return false;
    }
    pid_t processGroupOf(pid_t pid) override {
        const auto it = groups_.find(pid);
        return it == groups_.end() ? -1 : it->second;
    }
    pid_t sessionOf(pid_t pid) override { return processGroupOf(pid); }
    using Platform::adoptedProcesses;
    std::vector<pid_t> adoptedProcesses(std::string_view, std::string_view,
                                        const std::vector<pid_t>&,
                                        std::optional<std::vector<pid_t>>*) override {
        return adopted;
    }

    // Test controls.
    void exited(pid_t pid) { live_.erase(pid); }
    bool alive(pid_t pid) const { return live_.contains(pid); }
    // Fires every timer due by now + delta, in deadline order.
    void advance(sys::Millis delta) {
        const sys::TimePoint until = now_ + delta;
        for (;;) {
            auto next = timers_.end();
            for (auto it = timers_.begin(); it != timers_.end(); ++it) {
                if (it->second.deadline <= until &&
                    (next == timers_.end() || it->second.deadline < next->second.deadline)) {
                    next = it;
                }
            }
            if (next == timers_.end()) {
                break;
            }
            now_ = std::max(now_, next->second.deadline);
            auto callback = std::move(next->second.callback);
            timers_.erase(next);
            callback();
        }
        now_ = until;
    }
    std::size_t activeTimers() const { return timers_.size(); }
    // The delay of the only pending timer, or -1.
    long long onlyTimerDelayMs() const {
        if (timers_.size() != 1) {
            return -1;
        }
        return std::chrono::duration_cast<sys::Millis>(timers_.begin()->second.deadline - now_)
            .count();
    }
    bool sent(pid_t target, int signal) const {
        for (const auto& s : signals) {
            if (s.target == target && s.signal == signal) {
                return true;
            }
        }
        return false;
    }

    std::vector<Spawned> spawned;
    std::vector<Signal> signals;
    std::vector<pid_t> adopted;
    // The next spawn_failures spawns fail with this error, short of resources or not.
    std::string fail_next_spawn;
    bool spawn_short_of_resources = false;
    int spawn_failures = 1;
    int failed_spawns = 0;

  private:
    struct Timer {
        sys::TimePoint deadline;
        std::function<void()> callback;
    };
    sys::TimePoint now_{std::chrono::hours(1)};
    std::map<sys::TimerId, Timer> timers_;
    sys::TimerId next_timer_ = 1;
    pid_t next_pid_ = 1000;
    std::set<pid_t> live_;
    std::map<pid_t, pid_t> groups_;
};

}  // namespace tend::test
