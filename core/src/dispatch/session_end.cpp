// SPDX-License-Identifier: MIT
// Session end: every instance stopped, and whatever is left killed at the deadline.
#include <spdlog/spdlog.h>
#include <algorithm>
#include <csignal>

#include "conf/match_constraints.hpp"
#include "dispatch/supervisor.hpp"

namespace tend::dispatch {

using model::ProcessType;

bool Supervisor::idle() const {
    const auto running = [](const auto& named) {
        return !named.second->instances.empty() && !named.second->cls->session_linger;
    };
    // From the hint to the end, then from the start to the hint: every class once at most.
    const auto hint = classes_.lower_bound(idle_hint_);
    auto found = std::find_if(hint, classes_.end(), running);
    if (found == classes_.end()) {
        found = std::find_if(classes_.begin(), hint, running);
        if (found == hint) {
            return true;
        }
    }
    idle_hint_ = found->first;
    return false;
}

std::vector<pid_t> Supervisor::lingeringPids() const {
    std::vector<pid_t> pids;
    for (const auto& [name, entry] : classes_) {
        if (!entry->cls->session_linger) {
            continue;
        }
        for (const auto& [instance, job] : entry->instances) {
            for (const pid_t pid : job->pids) {
                if (pid > 0) {
                    pids.push_back(pid);
                }
            }
            const std::vector<pid_t>& adopted = job->stopRecord().adopted;
            pids.insert(pids.end(), adopted.begin(), adopted.end());
        }
    }
    return pids;
}

// For each running class that others start on (`start on started X` or `starting X`, X
// named literally), the running classes that do. `session linger` jobs outlive the session and
// hold nothing up.
std::map<std::string, std::set<std::string>> Supervisor::dependentsOfRunning() const {
    std::map<std::string, std::set<std::string>> dependents;
    for (const auto& [name, entry] : classes_) {
        if (entry->instances.empty() || entry->cls->session_linger || !entry->cls->start_on) {
            continue;
        }
        for (const auto* match : entry->cls->start_on->matches()) {
            if (match->name != "started" && match->name != "starting") {
                continue;
            }
            const auto job = conf::lifecycleJob(*match);
            if (!job || *job == name) {
                continue;
            }
            if (const auto it = classes_.find(*job); it != classes_.end() &&
                                                     !it->second->instances.empty() &&
                                                     !it->second->cls->session_linger) {
                dependents[*job].insert(name);
            }
        }
    }
    return dependents;
}

std::size_t Supervisor::stopRounds() const {
    const auto dependents = dependentsOfRunning();
    std::map<std::string, std::size_t> depth;  // 0 while being measured: a cycle adds nothing
    const std::function<std::size_t(const std::string&)> measure = [&](const std::string& job) {
        if (const auto it = depth.find(job); it != depth.end()) {
            return std::max<std::size_t>(it->second, 1);
        }
        depth[job] = 0;
        std::size_t longest = 0;
        if (const auto it = dependents.find(job); it != dependents.end()) {
            for (const auto& dependent : it->second) {
                longest = std::max(longest, measure(dependent));
            }
        }
        return depth[job] = longest + 1;
    };
    std::size_t rounds = 1;
    for (const auto& [job, users] : dependents) {
        rounds = std::max(rounds, measure(job));
    }
    return rounds;
}

void Supervisor::stopEverything(std::function<void()> on_idle) {
    ending_ = true;
    on_idle_ = std::move(on_idle);
    stop_waiting_.clear();
    for (const auto& [name, entry] : classes_) {
        if (!entry->cls->session_linger && !entry->instances.empty()) {
            stop_waiting_[name];
        }
    }
    for (auto& [job, users] : dependentsOfRunning()) {
        stop_waiting_[job] = std::move(users);
    }
    stopClassesNoLongerNeeded();
    poll();
}

// Stops each waiting class that no running class starts on any more. Should every class left
// wait on another (a cycle of links) with nothing else still stopping, they all stop at once.
bool Supervisor::stopClassesNoLongerNeeded() {
    const auto running = [this](const std::string& name) {
        const auto it = classes_.find(name);
        return it != classes_.end() && !it->second->instances.empty();
    };
    bool stopped_any = false;
    for (auto it = stop_waiting_.begin(); it != stop_waiting_.end();) {
        std::erase_if(it->second, [&](const std::string& user) { return !running(user); });
        if (!it->second.empty()) {
            ++it;
            continue;
        }
        const std::string name = it->first;
        it = stop_waiting_.erase(it);
        if (const auto entry = classes_.find(name); entry != classes_.end()) {
            stopClass(*entry->second);
            stopped_any = true;
        }
    }
    if (stopped_any || stop_waiting_.empty()) {
        return stopped_any;
    }
    for (const auto& [name, entry] : classes_) {
        if (!entry->instances.empty() && !entry->cls->session_linger &&
            !stop_waiting_.contains(name)) {
            return false;  // a stop under way: when it ends, the waiting ones are looked at again
        }
    }
    logger_->warn("session end: jobs that start on each other ({}); stopping them together",
                  [this] {
                      std::string names;
                      for (const auto& [name, users] : stop_waiting_) {
                          names += (names.empty() ? "" : ", ") + name;
                      }
                      return names;
                  }());
    auto cycle = std::move(stop_waiting_);
    stop_waiting_.clear();
    for (const auto& [name, users] : cycle) {
        if (const auto entry = classes_.find(name); entry != classes_.end()) {
            stopClass(*entry->second);
        }
    }
    return true;
}

void Supervisor::stopClass(ClassEntry& entry) {
    std::vector<Job*> jobs;
    for (auto& [instance, job] : entry.instances) {
        jobs.push_back(job.get());
    }
    for (Job* job : jobs) {
        // Helper processes that would hold the stop up (a pre-start that never ends) go too.
        for (ProcessType type : {ProcessType::PreStart, ProcessType::PostStart}) {
            if (const pid_t pid = job->pids[processIndex(type)]) {
                platform_.signalProcess(pid, job->cls->kill_signal);
                platform_.signalGroup(job->pgids[processIndex(type)], job->cls->kill_signal);
            }
        }
        changeGoal(*job, Goal::Stop);
    }
}

void Supervisor::killEverything() {
    for (auto& [name, entry] : classes_) {
        if (entry->cls->session_linger) {
            continue;
        }
        for (auto& [instance, job] : entry->instances) {
            for (std::size_t i = 0; i < job->pids.size(); ++i) {
                if (job->pids[i]) {
                    platform_.signalProcess(job->pids[i], SIGKILL);
                }
                if (job->pgids[i]) {
                    platform_.signalGroup(job->pgids[i], SIGKILL);
                }
            }
            for (pid_t pid : job->stopRecord().adopted) {
                platform_.signalProcess(pid, SIGKILL);
            }
            platform_.signalCgroup(job->cls->name, job->instance, SIGKILL, {}, nullptr);
        }
    }
}

}  // namespace tend::dispatch
