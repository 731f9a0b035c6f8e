// SPDX-License-Identifier: MIT
// The respawn policy: what counts as a normal exit, the respawn limit, and the back-off.
#include <spdlog/spdlog.h>
#include <algorithm>

#include "dispatch/supervisor.hpp"

namespace tend::dispatch {

namespace {

constexpr std::uint32_t kBackoffResetMs = 10000;  // uptime after which the back-off starts over
// The least wait before a start that found the system short of processes, memory or
// descriptors is tried again: at once, it would most likely meet the same shortage.
constexpr std::uint32_t kShortageRetryMs = 1000;

}  // namespace

bool Supervisor::delayRespawn(Job& job) {
    if (job.goal != Goal::Start || job.pending_delay_ms == 0) {
        return false;
    }
    job.goal = Goal::Respawn;
    Job* target = &job;
    job.delay_due = platform_.now() + sys::Millis(job.pending_delay_ms);
    logger_->info("{} respawning in {} (starts kept {} apart)", job.displayName(),
                  formatMillis(job.pending_delay_ms), formatMillis(job.backoff_ms));
    job.delay_timer = platform_.startTimer(sys::Millis(job.pending_delay_ms), [this, target] {
        target->delay_timer = 0;
        target->pending_delay_ms = 0;
        if (target->goal == Goal::Respawn && target->state == State::PostStop) {
            target->goal = Goal::Start;
            changeState(*target, nextState(*target));
        }
        poll();
    });
    return true;
}

// A service (`respawn`) whose main process could not start for want of a resource the system
// gets back (fork EAGAIN or ENOMEM, no descriptor for its output pipe) is not given up, which
// would leave it stopped for good after a moment's shortage: the start counts as a crash, under
// the respawn limit and back-off, and tend tries again. Anything else fails the start.
bool Supervisor::retryStartLater(Job& job, const std::string& why) {
    if (!job.cls->respawn || job.goal != Goal::Start) {
        return false;
    }
    job.main_started = platform_.now();  // a start that ran for no time at all
    if (respawnTooFast(job)) {
        return false;  // the caller fails it; the limit's own message would hide why
    }
    ++job.respawns;
    // Its pipe, if it got one, would be held idle across the wait: with many jobs waiting, the
    // descriptors that stopped jobs give back would go to pipes that no job can use.
    closeOutput(job);
    job.pending_delay_ms = std::max(nextRespawnDelay(job), kShortageRetryMs);
    logger_->error("{} {}; trying again in {}", job.displayName(), why,
                   formatMillis(job.pending_delay_ms));
    return true;
}

bool Supervisor::isNormalExit(const Job& job, sys::ExitStatus status) const {
    for (const auto& normal : job.cls->normal_exit) {
        if (normal.signal == status.signaled && normal.value == status.value) {
            return true;
        }
    }
    if (!status.signaled && status.value == 0) {
        return !job.cls->respawn || job.cls->task;
    }
    return false;
}

bool Supervisor::respawnTooFast(Job& job) {
    const model::JobClass& cls = *job.cls;
    if (cls.respawn_limit == 0 || cls.respawn_interval == 0) {
        return false;
    }
    const auto now = platform_.now();
    if (job.respawn_count > 0 &&
        now - job.respawn_window_start < std::chrono::seconds(cls.respawn_interval)) {
        return ++job.respawn_count > cls.respawn_limit;
    }
    job.respawn_window_start = now;
    job.respawn_count = 1;
    return false;
}

// The back-off is a minimum interval between starts, not a pause after every exit: a process
// that stayed up longer than the current interval is no crash loop and comes back at once, while
// one that keeps dying young waits out the rest of an interval that doubles each time.
std::uint32_t Supervisor::nextRespawnDelay(Job& job) {
    const model::JobClass& cls = *job.cls;
    model::JobClass::RespawnDelay delay{0, 0};
    if (cls.respawn_delay) {
        delay = *cls.respawn_delay;
    } else if (cls.respawn_limit == 0 || cls.respawn_interval == 0) {
        delay = {100, 30000};  // no limit to stop a crash loop, so pace it
    }
    if (delay.initial_ms == 0) {
        return 0;
    }
    const auto uptime = std::chrono::duration_cast<sys::Millis>(platform_.now() - job.main_started);
    if (uptime >= sys::Millis(kBackoffResetMs)) {
        job.backoff_ms = 0;
    }
    job.backoff_ms = job.backoff_ms == 0
                         ? delay.initial_ms
                         : std::min<std::uint32_t>(job.backoff_ms * 2, delay.max_ms);
    const auto ran = static_cast<std::uint64_t>(std::max<sys::Millis::rep>(uptime.count(), 0));
    return ran >= job.backoff_ms ? 0 : job.backoff_ms - static_cast<std::uint32_t>(ran);
}

}  // namespace tend::dispatch
