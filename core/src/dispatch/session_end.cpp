// SPDX-License-Identifier: MIT
// Session end: every instance stopped, and whatever is left killed at the deadline.
#include <csignal>

#include "dispatch/supervisor.hpp"

namespace tend::dispatch {

using model::ProcessType;

bool Supervisor::idle() const {
    for (const auto& [name, entry] : classes_) {
        if (!entry->instances.empty() && !entry->cls->session_linger) {
            return false;
        }
    }
    return true;
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
            pids.insert(pids.end(), job->adopted.begin(), job->adopted.end());
        }
    }
    return pids;
}

void Supervisor::stopEverything(std::function<void()> on_idle) {
    ending_ = true;
    on_idle_ = std::move(on_idle);
    std::vector<Job*> jobs;
    for (auto& [name, entry] : classes_) {
        if (entry->cls->session_linger) {
            continue;  // it outlives the session
        }
        for (auto& [instance, job] : entry->instances) {
            jobs.push_back(job.get());
        }
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
    poll();
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
            for (pid_t pid : job->adopted) {
                platform_.signalProcess(pid, SIGKILL);
            }
            platform_.signalCgroup(job->cls->name, job->instance, SIGKILL, {});
        }
    }
}

}  // namespace tend::dispatch
