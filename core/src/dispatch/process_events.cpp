// SPDX-License-Identifier: MIT
// Process events: exits, stops and sd_notify messages from the platform, the fork chain of
// `expect fork`/`daemon`, and killing a job with escalation to SIGKILL.
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <charconv>
#include <csignal>

#include "dispatch/supervisor.hpp"
#include "model/signals.hpp"

namespace tend::dispatch {

using model::ProcessType;

void Supervisor::onChildExit(pid_t pid, sys::ExitStatus status) {
    const auto it = processes_.find(pid);
    if (it == processes_.end()) {
        logger_->debug("reaped process {} ({}), which belonged to no job", pid,
                       describeExit(status));
        // It may have been the last member of a group that a stopping job waits to empty.
        std::vector<Job*> killed;
        for (auto& [name, entry] : classes_) {
            for (auto& [instance, job] : entry->instances) {
                if (job->state == State::Killed) {
                    killed.push_back(job.get());
                }
            }
        }
        for (Job* job : killed) {
            checkKilled(*job);
        }
        poll();
        return;
    }
    const ProcessRef ref = it->second;
    processes_.erase(it);
    Job& job = *ref.job;
    if (ref.index < 0) {
        if (job.stop_record) {  // an escapee was recorded there when it was adopted
            std::erase(job.stop_record->adopted, pid);
        }
        checkKilled(job);
        poll();
        return;
    }
    const auto type = static_cast<ProcessType>(ref.index);
    job.pids[static_cast<std::size_t>(ref.index)] = 0;
    if (type == ProcessType::Main) {
        onMainExit(job, pid, status);
    } else {
        onAuxExit(job, type, pid, status);
    }
    poll();
}

void Supervisor::onMainExit(Job& job, pid_t pid, sys::ExitStatus status) {
    const model::JobClass& cls = *job.cls;
    job.last_exit = status;
    const bool expect_forks =
        cls.expect == model::Expect::Fork || cls.expect == model::Expect::Daemon;
    const bool clean = !status.signaled && status.value == 0;

    if (job.state == State::Killed) {
        checkKilled(job);
        return;
    }
    if (expect_forks && clean && job.goal != Goal::Stop &&
        (job.state == State::Spawned || job.state == State::PostStart ||
         job.state == State::Running) &&
        followForkChain(job, pid)) {
        if (job.state != State::Spawned) {
            logger_->info("{} main process ({}) forked again; now tracking process {}",
                          job.displayName(), pid, job.mainPid());
        }
        return;
    }

    if (job.goal == Goal::Stop || job.state == State::PreStop || job.state == State::Stopping) {
        logger_->info("{} main process ({}) {}", job.displayName(), pid, describeExit(status));
        return;  // being stopped: the state machine moves on by itself
    }

    const bool normal = isNormalExit(job, status);
    if (!normal || cls.respawn) {
        logger_->info("{} main process ({}) {}", job.displayName(), pid, describeExit(status));
    }
    if (cls.respawn && !normal) {
        if (respawnTooFast(job)) {
            logger_->warn("{} respawning too fast, stopped", job.displayName());
            jobFailed(job, FailedProcess::Respawn, std::nullopt,
                      "respawning too fast (more than " + std::to_string(cls.respawn_limit) +
                          " times in " + std::to_string(cls.respawn_interval) + "s)");
            changeGoal(job, Goal::Stop);
            return;
        }
        logger_->info("{} main process ended, respawning", job.displayName());
        ++job.respawns;
        job.pending_delay_ms = nextRespawnDelay(job);
        switch (job.state) {
        case State::Running:
        case State::Spawned:
            cancelTimer(job.start_timer);
            changeState(job, State::Stopping);
            break;
        case State::PostStart:
            job.respawn_after_post_start = true;
            if (const pid_t post = job.pids[processIndex(ProcessType::PostStart)]) {
                platform_.signalProcess(post, cls.kill_signal);
            }
            break;
        default:
            break;
        }
        return;
    }
    if (!normal) {
        jobFailed(job, FailedProcess::Main, status, "main process " + describeExit(status));
    }
    changeGoal(job, Goal::Stop);
}

bool Supervisor::followForkChain(Job& job, pid_t exited) {
    // The child may have called setsid after tend last looked, so the process that just exited
    // is also a session or group its children may carry.
    std::vector<pid_t> pgids{exited};
    if (job.pgids[0]) {
        pgids.push_back(job.pgids[0]);
    }
    pid_t next = 0;
    for (pid_t candidate : platform_.adoptedProcesses(job.cls->name, job.instance, pgids)) {
        if (!processes_.contains(candidate)) {
            next = candidate;
            break;
        }
    }
    if (!next) {
        return false;
    }
    const pid_t spawned_group = job.pgids[0];
    job.pids[0] = next;
    job.pgids[0] = platform_.processGroupOf(next);
    if (job.pgids[0] <= 0) {
        job.pgids[0] = spawned_group;
    }
    processes_[next] = ProcessRef{&job, 0};
    ++job.forks_followed;
    logger_->debug("{} followed the fork chain to process {}", job.displayName(), next);
    if (job.state == State::Spawned) {
        // A daemon that called setsid and is not the session's leader is the grandchild of a
        // double fork even when tend missed the middle process (it had already exited). The
        // session leader itself (daemon(3)'s first child) is about to fork again.
        const bool daemonized = job.pgids[0] != spawned_group && platform_.sessionOf(next) != next;
        const int wanted = job.cls->expect == model::Expect::Daemon ? 2 : 1;
        if (job.forks_followed >= wanted || daemonized) {
            mainReady(job);
        }
    }
    return true;
}

void Supervisor::onAuxExit(Job& job, ProcessType type, pid_t pid, sys::ExitStatus status) {
    const bool clean = !status.signaled && status.value == 0;
    const std::string_view name = model::processTypeName(type);
    if (!clean) {
        logger_->info("{} {} process ({}) {}", job.displayName(), name, pid, describeExit(status));
    }
    if (job.state == State::Killed) {
        checkKilled(job);
        return;
    }
    switch (type) {
    case ProcessType::PreStart:
        if (job.state != State::PreStart) {
            return;
        }
        if (!clean) {
            jobFailed(job, FailedProcess::PreStart, status,
                      "pre-start process " + describeExit(status));
            job.goal = Goal::Stop;
        }
        changeState(job, nextState(job));
        return;
    case ProcessType::PostStart:
        if (job.state != State::PostStart) {
            return;
        }
        if (job.respawn_after_post_start) {
            job.respawn_after_post_start = false;
            changeState(job, State::Stopping);
            return;
        }
        if (job.goal != Goal::Stop && !job.mainPid() && job.cls->process(ProcessType::Main) &&
            job.cls->expect != model::Expect::None && !job.cls->task) {
            changeGoal(job, Goal::Stop);
        }
        changeState(job, nextState(job));
        return;
    case ProcessType::PreStop:
        if (job.state == State::PreStop) {
            changeState(job, nextState(job));
        }
        return;
    case ProcessType::PostStop:
        if (job.state != State::PostStop) {
            return;
        }
        if (!clean) {
            jobFailed(job, FailedProcess::PostStop, status,
                      "post-stop process " + describeExit(status));
            job.goal = Goal::Stop;
        }
        if (!delayRespawn(job)) {
            changeState(job, nextState(job));
        }
        return;
    case ProcessType::Main:
        return;
    }
}

bool Supervisor::anyProcessAlive(Job& job) {
    for (pid_t pid : job.pids) {
        if (pid) {
            return true;
        }
    }
    if (!job.stopRecord().adopted.empty()) {
        return true;
    }
    bool alive = false;
    for (pid_t& pgid : job.pgids) {
        if (!pgid) {
            continue;
        }
        if (platform_.groupAlive(pgid)) {
            alive = true;
        } else {
            pgid = 0;
        }
    }
    // What left both tend's sight and the job's groups is still in the job's cgroup.
    return alive || platform_.cgroupPopulated(job.cls->name, job.instance);
}

void Supervisor::killJob(Job& job) {
    const int signal = job.killing_hard ? SIGKILL : job.cls->kill_signal;
    for (pid_t pid : job.pids) {
        if (pid) {
            platform_.signalProcess(pid, signal);
        }
    }
    std::vector<pid_t> pgids;
    for (pid_t pgid : job.pgids) {
        if (pgid) {
            platform_.signalGroup(pgid, signal);
            if (signal != SIGKILL) {
                platform_.signalGroup(pgid, SIGCONT);  // a stopped process must see the signal
            }
            pgids.push_back(pgid);
        }
    }
    if (job.killing_hard && platform_.killCgroup(job.cls->name, job.instance)) {
        // Everything of the job, escapees too, is dying together: nothing is left to look for,
        // and the job ends once its cgroup is empty (anyProcessAlive).
        return;
    }
    // One read of the job's cgroup serves both the adoption and the signals below.
    std::optional<std::vector<pid_t>> cgroup_members;
    for (pid_t pid :
         platform_.adoptedProcesses(job.cls->name, job.instance, pgids, &cgroup_members)) {
        if (!processes_.contains(pid)) {
            processes_[pid] = ProcessRef{&job, -1};
            job.recordStop().adopted.push_back(pid);
            logger_->info("{}: stopping process {}, left behind by the job", job.displayName(),
                          pid);
        }
    }
    const std::vector<pid_t>& adopted = job.stopRecord().adopted;
    for (pid_t pid : adopted) {
        // One in a group just signalled has it already: a second would run its trap twice.
        if (std::find(pgids.begin(), pgids.end(), platform_.processGroupOf(pid)) == pgids.end()) {
            platform_.signalProcess(pid, signal);
        }
    }
    std::vector<pid_t> signalled = pgids;
    for (pid_t pid : job.pids) {
        if (pid) {
            signalled.push_back(pid);
        }
    }
    signalled.insert(signalled.end(), adopted.begin(), adopted.end());
    for (pid_t pid : platform_.signalCgroup(job.cls->name, job.instance, signal, signalled,
                                            cgroup_members ? &*cgroup_members : nullptr)) {
        logger_->info("{}: stopping process {}, left behind by the job", job.displayName(), pid);
    }
    if (job.kill_timer || job.killing_hard) {
        return;
    }
    Job* target = &job;
    job.kill_timer = platform_.startTimer(
        sys::Millis(std::uint64_t{job.cls->kill_timeout} * 1000), [this, target] {
            target->kill_timer = 0;
            if (target->state != State::Killed) {
                return;
            }
            logger_->warn("{} did not stop within {}s of {}; sending KILL", target->displayName(),
                          target->cls->kill_timeout, model::signalName(target->cls->kill_signal));
            target->killing_hard = true;
            killJob(*target);
            checkKilled(*target);
            armRecheck(*target);
            poll();
        });
}

// After SIGKILL the kernel needs a moment; processes that are not tend's children send no
// SIGCHLD, so look again until the job's groups are empty.
void Supervisor::armRecheck(Job& job) {
    if (job.state != State::Killed || job.kill_timer) {
        return;
    }
    Job* target = &job;
    job.kill_timer = platform_.startTimer(sys::Millis(50), [this, target] {
        target->kill_timer = 0;
        if (target->state != State::Killed) {
            return;
        }
        killJob(*target);
        checkKilled(*target);
        armRecheck(*target);
        poll();
    });
}

void Supervisor::checkKilled(Job& job) {
    if (job.state != State::Killed || anyProcessAlive(job)) {
        return;
    }
    std::vector<pid_t> pgids;
    bool escapees = false;
    for (pid_t pid : platform_.adoptedProcesses(job.cls->name, job.instance, pgids)) {
        if (!processes_.contains(pid)) {
            escapees = true;
        }
    }
    if (escapees) {
        killJob(job);
        return;
    }
    cancelTimer(job.kill_timer);
    job.killing_hard = false;
    changeState(job, nextState(job));
}

void Supervisor::onChildStopped(pid_t pid) {
    const auto it = processes_.find(pid);
    if (it == processes_.end() || it->second.index != 0) {
        return;
    }
    Job& job = *it->second.job;
    if (job.state == State::Spawned && job.cls->expect == model::Expect::Stop) {
        platform_.signalProcess(pid, SIGCONT);
        mainReady(job);
        poll();
    }
}

namespace {

// A decimal pid and nothing else; 0 for anything else.
pid_t parseMainPid(std::string_view text) {
    pid_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size() && value > 0 ? value : 0;
}

}  // namespace

// In the job's session or process group (where tend starts every process of a job), or a
// process tend inherited that carries the job's name.
bool Supervisor::isProcessOf(Job& job, pid_t pid) {
    const pid_t group = job.pgids[0];
    if (group > 1 &&
        (platform_.sessionOf(pid) == group || platform_.processGroupOf(pid) == group)) {
        return true;
    }
    const auto adopted = platform_.adoptedProcesses(job.cls->name, job.instance, {group});
    return std::find(adopted.begin(), adopted.end(), pid) != adopted.end();
}

void Supervisor::onNotify(pid_t pid, std::string_view message) {
    Job* job = nullptr;
    if (const auto it = processes_.find(pid); it != processes_.end()) {
        job = it->second.job;
    } else {
        const pid_t pgid = platform_.processGroupOf(pid);
        for (auto& [name, entry] : classes_) {
            for (auto& [instance, candidate] : entry->instances) {
                if (pgid > 0 && candidate->pgids[0] == pgid) {
                    job = candidate.get();
                }
            }
        }
    }
    if (!job) {
        logger_->debug("notification from process {} that belongs to no job", pid);
        return;
    }
    std::size_t start = 0;
    while (start < message.size()) {
        std::size_t end = message.find('\n', start);
        if (end == std::string_view::npos) {
            end = message.size();
        }
        const std::string_view line = message.substr(start, end - start);
        start = end + 1;
        if (line == "READY=1") {
            job->ready = true;
            if (job->state == State::Spawned && job->cls->expect == model::Expect::Notify) {
                logger_->debug("{} is ready", job->displayName());
                mainReady(*job);
            }
        } else if (line.starts_with("MAINPID=")) {
            const pid_t main = parseMainPid(line.substr(8));
            if (main > 0 && main != job->mainPid() && job->mainPid()) {
                if (!isProcessOf(*job, main)) {
                    // tend would signal it, and its group, to stop the job.
                    logger_->warn("{}: refused MAINPID={}: not a process of this job",
                                  job->displayName(), main);
                    continue;
                }
                processes_.erase(job->mainPid());
                job->pids[0] = main;
                job->pgids[0] = platform_.processGroupOf(main);
                processes_[main] = ProcessRef{job, 0};
            }
        }
    }
    poll();
}

void Supervisor::cancelTimer(sys::TimerId& id) {
    if (id) {
        platform_.cancelTimer(id);
        id = 0;
    }
}

}  // namespace tend::dispatch
