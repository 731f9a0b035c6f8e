// SPDX-License-Identifier: MIT
// The job state machine: Upstart's job_change_goal, job_change_state and job_next_state, and
// the lifecycle events an instance emits on the way.
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <csignal>

#include "dispatch/supervisor.hpp"
#include "model/signals.hpp"

namespace tend::dispatch {

using model::ProcessType;

Job& Supervisor::createInstance(ClassEntry& entry, const std::string& instance) {
    auto job = std::make_unique<Job>();
    job->entry = &entry;
    job->cls = entry.cls;
    job->instance = instance;
    job->serial = next_serial_++;
    if (job->cls->stop_on) {
        job->stop_on.emplace(*job->cls->stop_on);
    }
    Job& ref = *job;
    entry.instances.emplace(instance, std::move(job));
    return ref;
}

void Supervisor::changeGoal(Job& job, Goal goal) {
    if (job.goal == goal) {
        return;
    }
    const Goal old = job.goal;
    job.goal = goal;
    logger_->debug("{} goal {} -> {}", job.displayName(), goalName(old), goalName(goal));
    if (!transition_observers_.empty()) {
        Transition change;
        change.job = &job;
        change.goal = true;
        change.old_goal = old;
        change.new_goal = goal;
        change.old_state = change.new_state = job.state;
        transition_observers_.notify(change);
    }
    if (goal == Goal::Start) {
        if (job.state == State::Waiting) {
            changeState(job, nextState(job));
        } else if (job.state == State::PostStop && old == Goal::Respawn) {
            // A start during the respawn delay starts at once.
            cancelTimer(job.delay_timer);
            job.pending_delay_ms = 0;
            if (!job.pids[processIndex(ProcessType::PostStop)]) {
                changeState(job, nextState(job));
            }
        }
        return;
    }
    if (goal != Goal::Stop) {
        return;
    }
    switch (job.state) {
    case State::Running:
        changeState(job, nextState(job));
        break;
    case State::Spawned:
        // Beyond Upstart: a stop while waiting for a fork, SIGSTOP or READY=1 acts at once
        // instead of hanging until the process obliges.
        cancelTimer(job.start_timer);
        changeState(job, nextState(job));
        break;
    case State::PostStart:
        // The post-start process is waiting for a service that is being stopped.
        if (const pid_t pid = job.pids[processIndex(ProcessType::PostStart)]) {
            platform_.signalProcess(pid, job.cls->kill_signal);
            platform_.signalGroup(job.pgids[processIndex(ProcessType::PostStart)],
                                  job.cls->kill_signal);
        }
        break;
    case State::PostStop:
        if (old == Goal::Respawn) {
            cancelTimer(job.delay_timer);
            job.pending_delay_ms = 0;
            if (!job.pids[processIndex(ProcessType::PostStop)]) {
                changeState(job, nextState(job));
            }
        }
        break;
    default:
        break;
    }
}

State Supervisor::nextState(const Job& job) const {
    const bool stop = job.goal == Goal::Stop;
    switch (job.state) {
    case State::Waiting:
        return stop ? State::Waiting : State::Starting;
    case State::Starting:
        return stop ? State::Stopping : State::PreStart;
    case State::PreStart:
        return stop ? State::Stopping : State::Spawned;
    case State::Spawned:
        return stop ? State::Stopping : State::PostStart;
    case State::PostStart:
        return stop ? State::Stopping : State::Running;
    case State::Running:
        if (stop) {
            return job.mainPid() ? State::PreStop : State::Stopping;
        }
        return State::Stopping;  // goal start while running: the main process died, respawn
    case State::PreStop:
        return stop ? State::Stopping : State::Running;
    case State::Stopping:
        return State::Killed;
    case State::Killed:
        return State::PostStop;
    case State::PostStop:
        return stop ? State::Waiting : State::Starting;
    }
    return State::Waiting;
}

void Supervisor::changeState(Job& job, State state) {
    while (job.state != state) {
        const State old = job.state;
        job.state = state;
        logger_->debug("{} state {} -> {}", job.displayName(), stateName(old), stateName(state));
        if (!transition_observers_.empty()) {
            Transition change;
            change.job = &job;
            change.old_goal = change.new_goal = job.goal;
            change.old_state = old;
            change.new_state = state;
            transition_observers_.notify(change);
        }
        if (old == State::PreStop && state == State::Running) {
            // The stop was cancelled (`start` from pre-stop): no second `started`, but whoever
            // waits for this job has their answer.
            jobFinished(job, false);
            return;
        }
        if (state == State::Starting && job.adopt_definition) {
            // Between the stop and the start of `restart --reload`: nothing runs on the old
            // definition any more.
            job.adopt_definition = false;
            job.cls = job.entry->cls;
            job.stop_on.reset();
            if (job.cls->stop_on) {
                job.stop_on.emplace(*job.cls->stop_on);
            }
            logger_->info("{} restarts on its new definition", job.displayName());
        }
        bool wait = false;
        enterState(job, state, wait);
        if (wait) {
            return;
        }
    }
}

// Does the work of entering `state`. Either sets `wait` (a process, an event or a timer will
// move the job on) or sets `state` to where the job goes next.
void Supervisor::enterState(Job& job, State& state, bool& wait) {
    const model::JobClass& cls = *job.cls;
    switch (state) {
    case State::Waiting:
        // At the session's end the cgroups all go together as tend exits (sys::JobCgroups): an
        // rmdir per job, tens of microseconds of cgroupfs each, held back the rest's SIGKILLs.
        if (!ending_) {
            platform_.releaseCgroup(cls.name, job.instance);
        }
        emitLifecycle(job, "stopped", false);
        jobFinished(job, false);
        if (job.goal == Goal::Stop) {
            doomed_.push_back(&job);
        }
        wait = true;
        return;
    case State::Starting:
        job.failed = false;
        job.failed_process = FailedProcess::None;
        job.exit_status.reset();
        if (job.stop_record) {
            job.stop_record->failure_detail.clear();
        }
        emitLifecycle(job, "starting", true);
        wait = true;
        return;
    case State::PreStart:
        if (cls.process(ProcessType::PreStart) && spawnProcess(job, ProcessType::PreStart)) {
            wait = true;
            return;
        }
        state = nextState(job);
        return;
    case State::Spawned:
        job.forks_followed = 0;
        job.ready = false;
        if (!cls.process(ProcessType::Main)) {
            state = nextState(job);
            return;
        }
        if (!spawnProcess(job, ProcessType::Main)) {
            // Given up (goal stop), or to be tried again as a respawn: either way it stops.
            state = State::Stopping;
            return;
        }
        if (cls.expect == model::Expect::None) {
            state = nextState(job);
            return;
        }
        {
            Job* target = &job;
            job.start_timer =
                platform_.startTimer(sys::Millis(cls.start_timeout_ms), [this, target] {
                    target->start_timer = 0;
                    onStartTimeout(*target);
                    poll();
                });
        }
        wait = true;
        return;
    case State::PostStart:
        if (cls.process(ProcessType::PostStart) && spawnProcess(job, ProcessType::PostStart)) {
            wait = true;
            return;
        }
        state = nextState(job);
        return;
    case State::Running:
        if (job.goal == Goal::Start && !job.mainPid() && cls.process(ProcessType::Main) &&
            job.respawn_after_post_start) {
            job.respawn_after_post_start = false;
            state = State::Stopping;
            return;
        }
        emitLifecycle(job, "started", false);
        if (!cls.task) {
            jobFinished(job, false);
        }
        wait = true;
        return;
    case State::PreStop:
        if (job.mainPid() && cls.process(ProcessType::PreStop) &&
            spawnProcess(job, ProcessType::PreStop)) {
            wait = true;
            return;
        }
        state = nextState(job);
        return;
    case State::Stopping:
        emitLifecycle(job, "stopping", true);
        wait = true;
        return;
    case State::Killed:
        if (anyProcessAlive(job)) {
            killJob(job);
            wait = true;
            return;
        }
        {
            // Escapees the job left behind still have to go.
            std::vector<pid_t> pgids;
            for (pid_t pgid : job.pgids) {
                if (pgid) {
                    pgids.push_back(pgid);
                }
            }
            bool found = false;
            for (pid_t pid : platform_.adoptedProcesses(job.cls->name, job.instance, pgids)) {
                if (!processes_.contains(pid)) {
                    found = true;
                }
            }
            if (found) {
                killJob(job);
                wait = true;
                return;
            }
        }
        state = nextState(job);
        return;
    case State::PostStop:
        if (cls.process(ProcessType::PostStop) && spawnProcess(job, ProcessType::PostStop)) {
            wait = true;
            return;
        }
        if (delayRespawn(job)) {
            wait = true;
            return;
        }
        state = nextState(job);
        return;
    }
}

void Supervisor::onStartTimeout(Job& job) {
    if (job.state != State::Spawned) {
        return;
    }
    const model::JobClass& cls = *job.cls;
    const std::string waited = formatMillis(cls.start_timeout_ms);
    switch (cls.expect) {
    case model::Expect::Notify: {
        const std::string detail = "main process did not send READY=1 within " + waited;
        logger_->error("{} {}", job.displayName(), detail);
        jobFailed(job, FailedProcess::Main, std::nullopt, detail);
        changeGoal(job, Goal::Stop);
        return;
    }
    case model::Expect::Fork:
    case model::Expect::Daemon:
        logger_->warn(
            "{}: 'expect {}' but the process forked {} time(s) in {}; tracking "
            "process {} as the main process",
            job.displayName(), model::expectName(cls.expect), job.forks_followed, waited,
            job.mainPid());
        mainReady(job);
        return;
    case model::Expect::Stop:
        logger_->warn(
            "{}: 'expect stop' but the process did not stop itself in {}; tracking it "
            "as running",
            job.displayName(), waited);
        mainReady(job);
        return;
    case model::Expect::None:
        return;
    }
}

void Supervisor::mainReady(Job& job) {
    cancelTimer(job.start_timer);
    if (job.state == State::Spawned) {
        changeState(job, nextState(job));
    }
}

void Supervisor::jobFinished(Job& job, bool failed) {
    auto blocking = std::move(job.blocking);
    job.blocking.clear();
    for (auto& event : blocking) {
        if (failed) {
            event->failed = true;
            if (event->failure_detail.empty()) {
                event->failure_detail = job.displayName() + ": " + job.stopRecord().failure_detail;
            }
        }
        --event->blockers;
    }
    auto waiters = std::move(job.waiters);
    job.waiters.clear();
    for (auto& done : waiters) {
        done(failed, job.stopRecord().failure_detail);
    }
}

void Supervisor::jobFailed(Job& job, FailedProcess process, std::optional<sys::ExitStatus> status,
                           std::string detail) {
    if (job.failed) {
        return;
    }
    job.failed = true;
    job.failed_process = process;
    job.exit_status = status;
    job.recordStop().failure_detail = std::move(detail);
    jobFinished(job, true);
}

void Supervisor::emitLifecycle(Job& job, std::string_view name, bool hook) {
    model::Environment env;
    env.set("JOB", job.cls->name);
    env.set("INSTANCE", job.instance);
    if (name == "stopping" || name == "stopped") {
        env.set("RESULT", job.failed ? "failed" : "ok");
        if (job.failed) {
            env.set("PROCESS", failedProcessName(job.failed_process));
            if (job.exit_status) {
                if (job.exit_status->signaled) {
                    env.set("EXIT_SIGNAL", model::signalName(job.exit_status->value));
                } else {
                    env.set("EXIT_STATUS", std::to_string(job.exit_status->value));
                }
            }
        }
    }
    for (const auto& key : job.cls->exports) {
        if (const auto value = job.env.get(key)) {
            env.set(key, *value);
        }
    }
    emit(std::string(name), std::move(env));
    if (hook) {
        const auto& event = queue_.back();
        event->hook_of = &job;
        job.blocker = event;
    }
}

void Supervisor::sweep() {
    if (!doomed_.empty()) {
        auto doomed = std::move(doomed_);
        doomed_.clear();
        for (Job* job : doomed) {
            if (job->state != State::Waiting || job->goal != Goal::Stop) {
                continue;  // started again before it could go
            }
            destroyInstance(*job);
        }
    }
    if (ending_ && !stop_waiting_.empty() && stopClassesNoLongerNeeded()) {
        poll();  // their stopping events; it sweeps again
        return;
    }
    if (ending_ && on_idle_ && idle()) {
        auto done = std::move(on_idle_);
        on_idle_ = nullptr;
        done();
    }
}

// tend's write ends of the job's output pipes; the log router reads on until the job's own
// processes have closed theirs too.
void Supervisor::closeOutput(Job& job) {
    for (int* fd : {&job.output_fd, &job.error_fd}) {
        if (*fd >= 0) {
            ::close(*fd);
            *fd = -1;
        }
    }
}

void Supervisor::destroyInstance(Job& job) {
    cancelTimer(job.kill_timer);
    cancelTimer(job.delay_timer);
    cancelTimer(job.start_timer);
    closeOutput(job);
    for (pid_t pid : job.stopRecord().adopted) {
        processes_.erase(pid);
    }
    ClassEntry* entry = job.entry;
    LastRun last;
    last.instance = job.instance;
    last.failed = job.failed;
    last.failed_process = job.failed_process;
    last.failure_detail = job.stopRecord().failure_detail;
    last.last_exit = job.last_exit;
    last.ended = platform_.now();
    last.respawns = job.respawns;
    entry->last_run = std::make_unique<LastRun>(std::move(last));
    const bool stale_class = job.cls != entry->cls;
    entry->instances.erase(job.instance);
    if (entry->deleted && entry->instances.empty()) {
        indexClass(*entry, false);
        classes_.erase(entry->cls->name);
        return;
    }
    if (stale_class) {
        indexClass(*entry, false);
        indexClass(*entry, true);
    }
}

}  // namespace tend::dispatch
