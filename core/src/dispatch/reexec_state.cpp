// SPDX-License-Identifier: MIT
// The jobs at rest, saved for a re-exec and taken back by the next tend in the same process.
// A re-exec waits for rest rather than carry a job in the middle of a hook: what a hook's exit
// would have done next lives in the state machine's stack of calls, not in data.
#include <signal.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <chrono>

#include "dispatch/supervisor.hpp"

namespace tend::dispatch {

namespace {

std::int64_t nanosOf(sys::TimePoint time) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

sys::TimePoint timeOf(std::int64_t nanos) {
    return sys::TimePoint(
        std::chrono::duration_cast<sys::Clock::duration>(std::chrono::nanoseconds(nanos)));
}

bool onlyMainProcess(const Job& job) {
    for (std::size_t i = 1; i < job.pids.size(); ++i) {
        if (job.pids[i] > 0) {
            return false;
        }
    }
    return job.stopRecord().adopted.empty();
}

// Why one instance is not at rest, or empty.
std::string restlessnessOf(const Job& job) {
    const bool unencumbered = !job.blocker && job.blocking.empty() && job.waiters.empty() &&
                              job.kill_timer == 0 && job.start_timer == 0 &&
                              !job.respawn_after_post_start && onlyMainProcess(job);
    if (unencumbered && job.goal == Goal::Start && job.state == State::Running &&
        job.mainPid() > 0) {
        return {};
    }
    if (unencumbered && job.goal == Goal::Respawn && job.state == State::PostStop &&
        job.delay_timer != 0 && job.mainPid() == 0) {
        return {};
    }
    return job.displayName() + " is " + std::string(goalName(job.goal)) + "/" +
           std::string(stateName(job.state));
}

SavedMatches matchesOf(const std::optional<model::EventOperator>& op) {
    SavedMatches out;
    if (!op) {
        return out;
    }
    for (const auto& [node, event] : op->matchedNodes()) {
        out.matches.push_back({node, event->name, event->env.entries()});
    }
    if (!out.matches.empty()) {
        out.condition = op->condition().toString();
    }
    return out;
}

// Takes saved matches back into `op` when it is the same condition; false when it is not.
bool restoreMatches(std::optional<model::EventOperator>& op, const SavedMatches& saved) {
    if (saved.empty()) {
        return true;
    }
    if (!op || op->condition().toString() != saved.condition) {
        return false;
    }
    for (const auto& match : saved.matches) {
        model::Event event;  // id 0: no live event of this tend, so none it would block
        event.name = match.event;
        for (const auto& entry : match.env) {
            event.env.setEntry(entry);
        }
        if (!op->restoreMatch(match.node, std::move(event))) {
            op->reset();
            return false;
        }
    }
    return true;
}

}  // namespace

log::OutputSpec Supervisor::outputSpec(const Job& job) const {
    const model::JobClass& cls = *job.cls;
    log::OutputSpec spec;
    spec.file_name = logFileName(job);
    spec.job = cls.name;
    spec.instance = job.instance;
    spec.timestamps = cls.log_timestamps || options_.log_timestamps;
    spec.carried = cls.console == model::Console::Journal;
    spec.carried_by_default = cls.console == model::Console::Default;
    return spec;
}

std::string Supervisor::restlessness() const {
    if (!queue_.empty()) {
        return "event " + queue_.front()->event.name + " is being handled";
    }
    for (const auto& [name, entry] : classes_) {
        for (const auto& [instance, job] : entry->instances) {
            if (std::string why = restlessnessOf(*job); !why.empty()) {
                return why;
            }
        }
    }
    return {};
}

SavedState Supervisor::save() const {
    SavedState state;
    state.global_env = global_->env.entries();
    state.global_origins = global_->origins;
    for (const auto& [name, entry] : classes_) {
        if (entry->last_run) {
            state.last_runs.push_back(SavedLastRun{name, *entry->last_run});
        }
        if (SavedMatches part_way = matchesOf(entry->start_on); !part_way.empty()) {
            state.start_on.emplace(name, std::move(part_way));
        }
        for (const auto& [instance, job] : entry->instances) {
            SavedJob saved;
            saved.name = job->cls->name;
            saved.instance = job->instance;
            saved.goal = job->goal;
            saved.state = job->state;
            saved.pid = job->mainPid();
            saved.pgid = job->pgids[0];
            saved.env = job->env.flatten().entries();
            saved.stop_env = job->stopRecord().stop_env.entries();
            saved.start_events = job->start_events;
            saved.stop_events = job->stopRecord().stop_events;
            saved.stop_on = matchesOf(job->stop_on);
            saved.respawn_count = job->respawn_count;
            saved.respawn_window_start_ns = nanosOf(job->respawn_window_start);
            saved.backoff_ms = job->backoff_ms;
            if (job->delay_timer != 0) {
                // What is left of it: the next tend arms a timer for that, at least 1 ms.
                const auto left =
                    std::chrono::ceil<std::chrono::milliseconds>(job->delay_due - platform_.now());
                saved.delay_left_ms = static_cast<std::uint32_t>(
                    std::clamp<std::int64_t>(left.count(), 1, job->pending_delay_ms));
            }
            saved.main_started_ns = nanosOf(job->main_started);
            saved.respawns = job->respawns;
            saved.last_exit = job->last_exit;
            saved.ready = job->ready;
            saved.output_fd = job->output_fd;
            saved.error_fd = job->error_fd;
            // Always: the job file may change after tend last read it and before the next
            // tend does, which then tells the two apart by their text.
            saved.started_with = job->cls;
            state.jobs.push_back(std::move(saved));
        }
    }
    return state;
}

std::vector<std::string> Supervisor::restore(const SavedState& state) {
    std::vector<std::string> problems;
    if (state.has_global) {
        GlobalEnvironment& global = writableGlobal();
        global.env = model::Environment();
        for (const auto& entry : state.global_env) {
            global.env.setEntry(entry);
        }
        global.origins = state.global_origins;
    }
    for (const SavedLastRun& saved : state.last_runs) {
        if (const auto found = classes_.find(saved.name);
            found != classes_.end() && !found->second->last_run) {
            found->second->last_run = std::make_unique<LastRun>(saved.run);
        }
    }
    for (const auto& [name, saved] : state.start_on) {
        const auto found = classes_.find(name);
        if (found == classes_.end() || !restoreMatches(found->second->start_on, saved)) {
            // Its job file changed in between: the old condition's half is no half of the new.
            logger_->info(
                "{}: its start on changed or went; what of `{}` had matched is "
                "forgotten",
                name, saved.condition);
        }
    }
    for (const SavedJob& saved : state.jobs) {
        const auto found = classes_.find(saved.name);
        if (found == classes_.end() || found->second->deleted ||
            found->second->instances.contains(saved.instance)) {
            problems.push_back(saved.name +
                               (saved.instance.empty() ? "" : " (" + saved.instance + ")") +
                               ": no job file defines it any more; its processes are sent SIGTERM");
            if (saved.pgid > 1) {
                platform_.signalGroup(saved.pgid, SIGTERM);
            } else if (saved.pid > 0) {
                platform_.signalProcess(saved.pid, SIGTERM);
            }
            for (const int fd : {saved.output_fd, saved.error_fd}) {
                if (fd >= 0) {
                    ::close(fd);
                }
            }
            if (output_ && saved.router_out_fd >= 0) {
                log::OutputSpec spec;
                spec.file_name = logFileName(saved.name, saved.instance);
                spec.job = saved.name;
                spec.instance = saved.instance;
                output_->adoptOutput(spec, saved.router_out_fd, saved.router_err_fd);
            }
            continue;
        }
        ClassEntry& entry = *found->second;
        Job& job = createInstance(entry, saved.instance);
        if (saved.started_with && saved.started_with->name == entry.cls->name) {
            job.cls = saved.started_with;
            job.stop_on.reset();
            if (job.cls->stop_on) {
                job.stop_on.emplace(*job.cls->stop_on);
            }
            indexClass(entry, false);  // its older stop on stays reachable
            indexClass(entry, true);
        }
        job.goal = saved.goal;
        job.state = saved.state;
        job.env = classEnvironment(*job.cls);
        {
            model::Environment wanted;
            for (const auto& item : saved.env) {
                wanted.setEntry(item);
            }
            const model::Environment from_class = job.env.flatten();
            for (const auto& item : from_class.entries()) {
                const std::string_view key = std::string_view(item).substr(0, item.find('='));
                if (!wanted.get(key)) {
                    job.env.unset(key);
                }
            }
            for (const auto& item : wanted.entries()) {
                job.env.setEntry(item);
            }
        }
        if (!saved.stop_env.empty() || !saved.stop_events.empty()) {
            StopRecord& record = job.recordStop();
            for (const auto& item : saved.stop_env) {
                record.stop_env.setEntry(item);
            }
            record.stop_events = saved.stop_events;
        }
        job.start_events = saved.start_events;
        if (!restoreMatches(job.stop_on, saved.stop_on)) {
            logger_->info("{}: its stop on changed; what of `{}` had matched is forgotten",
                          job.displayName(), saved.stop_on.condition);
        }
        job.global_at_start = global_;
        job.global_at_main = global_;
        job.respawn_count = saved.respawn_count;
        job.respawn_window_start = timeOf(saved.respawn_window_start_ns);
        job.backoff_ms = saved.backoff_ms;
        job.main_started = timeOf(saved.main_started_ns);
        job.respawns = saved.respawns;
        job.last_exit = saved.last_exit;
        job.ready = saved.ready;
        job.output_fd = saved.output_fd;
        job.error_fd = saved.error_fd;
        if (output_ && saved.router_out_fd >= 0) {
            output_->adoptOutput(outputSpec(job), saved.router_out_fd, saved.router_err_fd);
        }
        if (saved.pid > 0) {
            job.pids[0] = saved.pid;
            job.pgids[0] = saved.pgid;
            processes_[saved.pid] = ProcessRef{&job, 0};
            platform_.adoptChild(saved.pid);
        }
        if (saved.state == State::PostStop && saved.pid == 0) {
            // Waiting out its respawn delay: armed again for what was left of it.
            job.goal = Goal::Start;
            job.pending_delay_ms = std::max<std::uint32_t>(saved.delay_left_ms, 1);
            delayRespawn(job);
        }
        logger_->debug("{} carried over: {}/{}{}", job.displayName(), goalName(job.goal),
                       stateName(job.state),
                       saved.pid > 0 ? ", process " + std::to_string(saved.pid) : "");
    }
    return problems;
}

}  // namespace tend::dispatch
