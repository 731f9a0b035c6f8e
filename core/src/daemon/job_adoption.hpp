// SPDX-License-Identifier: MIT
// A re-exec whose saved state the new tend could not read: the jobs still run, as tend's own
// children, so it finds them. A child carrying UPSTART_JOB (and UPSTART_INSTANCE) that leads
// its own session is that instance's main process (a re-exec waits for rest, when a job has no
// other process); the pipes on its stdout and stderr are found among tend's own descriptors by
// their inode. What cannot be known this way (respawn counters, a respawn delay, the global
// table's changes) starts afresh.
#pragma once

#include "dispatch/saved_state.hpp"

namespace spdlog {
class logger;
}

namespace tend::daemon {

dispatch::SavedState adoptRunningJobs(spdlog::logger& logger);

}  // namespace tend::daemon
