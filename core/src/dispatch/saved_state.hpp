// SPDX-License-Identifier: MIT
// What a re-exec carries from one tend to the next (`tendctl reexec`): the global environment
// and every job instance at rest, with its processes, counters and the descriptors of its
// output. The supervisor fills it in and takes it back (reexec_state.cpp); the daemon writes it
// down and reads it (daemon/reexec.hpp). Clock values are steady-clock nanoseconds, which an
// exec keeps.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dispatch/global_environment.hpp"
#include "dispatch/job.hpp"

namespace tend::dispatch {

// A `start on` or `stop on` part-way: the MATCH nodes (by index in the tree of `condition`,
// its canonical text) that events have made true while the rest waits. The next tend takes
// them back only into a tree of the same text, whose nodes are then the same.
struct SavedMatches {
    struct Match {
        std::uint32_t node = 0;
        std::string event;
        std::vector<std::string> env;
    };
    std::string condition;
    std::vector<Match> matches;
    bool empty() const { return matches.empty(); }
};

// One instance. At rest means running (its main process, and nothing else of it, alive), or
// waiting out a respawn delay with no process at all.
struct SavedJob {
    std::string name;
    std::string instance;
    Goal goal = Goal::Start;
    State state = State::Running;
    pid_t pid = 0;  // the main process; 0 while a respawn waits
    pid_t pgid = 0;
    std::vector<std::string> env;       // the start environment, flattened
    std::vector<std::string> stop_env;  // the stop event's or command's
    std::string start_events;
    std::string stop_events;
    SavedMatches stop_on;  // its `stop on`, part-way
    unsigned respawn_count = 0;
    std::int64_t respawn_window_start_ns = 0;
    std::uint32_t backoff_ms = 0;
    std::uint32_t delay_left_ms = 0;  // what is left of a respawn delay
    std::int64_t main_started_ns = 0;
    unsigned respawns = 0;
    std::optional<sys::ExitStatus> last_exit;
    bool ready = false;
    // tend's write ends, which every process of the instance gets, and the router's read ends.
    int output_fd = -1;
    int error_fd = -1;
    int router_out_fd = -1;
    int router_err_fd = -1;
    // The definition the instance started with: written down as job-file text (`definition`)
    // and, when it differs from what the next tend read from the job file (status: `definition
    // changed`), read back into `started_with` by the daemon, which knows the job language.
    std::shared_ptr<const model::JobClass> started_with;
    std::string definition;
};

// How a job's last instance ended (`tendctl explain`, a job that tripped its respawn limit).
struct SavedLastRun {
    std::string name;
    LastRun run;
};

struct SavedState {
    bool has_global = true;  // false: the global table stays as this tend found it
    std::vector<std::string> global_env;
    OriginTable global_origins;
    std::vector<SavedJob> jobs;
    std::vector<SavedLastRun> last_runs;
    std::map<std::string, SavedMatches> start_on;  // by job: each `start on` part-way
    // What each plugin's re-exec hook saved, by plugin name: bytes tend does not read.
    std::map<std::string, std::string> plugin_states;
};

}  // namespace tend::dispatch
