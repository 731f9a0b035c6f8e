// SPDX-License-Identifier: MIT
// The live side of the job model, in Upstart's words. A JobClass (model/job_class.hpp) is the
// definition read from a job file; its ClassEntry is that definition as the supervisor holds
// it, with the match state of its `start on` and its instances. A Job is one running instance
// of a class, keyed by its expanded `instance` name (empty for a single-instance job), with a
// goal (where it is headed) and a state (where it is), its processes and its respawn counters.
// A QueuedEvent is an event on its way through the queue, with the blockers that hold it.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dispatch/global_environment.hpp"
#include "model/environment.hpp"
#include "model/event.hpp"
#include "model/event_operator.hpp"
#include "model/job_class.hpp"
#include "model/layered_environment.hpp"
#include "sys/platform.hpp"

namespace tend::dispatch {

enum class Goal : std::uint8_t { Stop, Start, Respawn };
enum class State : std::uint8_t {
    Waiting,
    Starting,
    PreStart,
    Spawned,
    PostStart,
    Running,
    PreStop,
    Stopping,
    Killed,
    PostStop
};
std::string_view goalName(Goal goal);
std::string_view stateName(State state);
std::string describeExit(sys::ExitStatus status);  // "terminated with status 1"
std::string formatMillis(std::uint32_t ms);        // "250ms", "2s"

// Called once when what a control request waits for is settled. `failed` tells whether the job
// (or a job the event started) failed; `detail` says why, for the error message.
using Completion = std::function<void(bool failed, const std::string& detail)>;

struct QueuedEvent;
struct ClassEntry;

// The index of a process type in a job's per-process arrays (pids, pgids).
constexpr std::size_t processIndex(model::ProcessType type) {
    return static_cast<std::size_t>(type);
}

// Which process of a job failed: one of the five, or the respawn limit.
enum class FailedProcess : std::uint8_t {
    None,
    Main,
    PreStart,
    PostStart,
    PreStop,
    PostStop,
    Respawn
};

std::string_view failedProcessName(FailedProcess process);

// Why an instance stops and what it leaves: filled only once it is told to stop, fails or
// leaves processes behind, so an instance that just runs holds a null pointer, not these.
struct StopRecord {
    model::Environment stop_env;  // the stop event's or command's variables
    std::string stop_events;      // UPSTART_STOP_EVENTS
    std::vector<pid_t> adopted;   // escapees re-parented to tend, being stopped with the job
    std::string failure_detail;   // why it failed, while `failed` is set
};

struct Job {
    ClassEntry* entry = nullptr;
    std::shared_ptr<const model::JobClass> cls;  // the definition this instance started with
    std::string instance;
    std::uint64_t serial = 0;
    Goal goal = Goal::Stop;
    State state = State::Waiting;
    // The start environment: the global generation it started from (shared, not copied), with
    // `env`, the event's or command's variables, and set-env (its own and global) over it.
    model::LayeredEnvironment env;
    std::string start_events;  // UPSTART_EVENTS
    std::optional<model::EventOperator> stop_on;
    // The global generation `env` is layered over, and the one in force when the main process
    // last started (shared, not copied): what `status` compares with the global table now.
    std::shared_ptr<const GlobalEnvironment> global_at_start;
    std::shared_ptr<const GlobalEnvironment> global_at_main;
    // Where the variables over the global table came from: the events or the start command
    // that started the instance, and set-env run inside it.
    OriginTable own_origins;

    std::array<pid_t, model::kProcessTypeCount> pids{};
    std::array<pid_t, model::kProcessTypeCount> pgids{};

    std::shared_ptr<QueuedEvent> blocker;  // the starting/stopping hook this job waits for
    std::vector<std::shared_ptr<QueuedEvent>> blocking;  // events held until this job settles
    std::vector<Completion> waiters;                     // control requests waiting likewise

    bool failed = false;
    FailedProcess failed_process = FailedProcess::None;
    std::optional<sys::ExitStatus> exit_status;
    std::optional<sys::ExitStatus> last_exit;  // of the main process, for status and explain

    // Respawn accounting.
    unsigned respawn_count = 0;
    sys::TimePoint respawn_window_start{};
    std::uint32_t backoff_ms = 0;        // the next respawn waits this long
    std::uint32_t pending_delay_ms = 0;  // set while a respawn waits in post-stop
    sys::TimePoint delay_due{};          // and when that wait ends (a re-exec keeps what is left)
    sys::TimePoint main_started{};
    unsigned respawns = 0;  // total, for status
    bool respawn_after_post_start = false;

    int forks_followed = 0;  // expect fork/daemon: hops taken along the fork chain
    bool ready = false;      // expect notify: READY=1 seen
    bool killing_hard = false;
    bool adopt_definition = false;  // `restart --reload`: start again on the class's current one

    sys::TimerId kill_timer = 0;
    sys::TimerId delay_timer = 0;
    sys::TimerId start_timer = 0;

    int output_fd = -1;  // stdout's pipe to the log router
    int error_fd = -1;   // stderr's
    bool output_failed = false;

    std::unique_ptr<StopRecord> stop_record;  // made by recordStop()
    const StopRecord& stopRecord() const;     // an empty record while it has none
    StopRecord& recordStop();                 // the record, made on first use

    pid_t mainPid() const { return pids[0]; }
    std::string displayName() const;  // "name" or "name (instance)"
};

// How an instance that has gone ended, kept on its class for `tendctl explain`.
struct LastRun {
    std::string instance;
    bool failed = false;
    FailedProcess failed_process = FailedProcess::None;
    std::string failure_detail;
    std::optional<sys::ExitStatus> last_exit;
    sys::TimePoint ended{};
    unsigned respawns = 0;
};

// The live side of a JobClass: its current definition, the start condition's match state, and
// its instances.
struct ClassEntry {
    std::shared_ptr<const model::JobClass> cls;
    std::optional<model::EventOperator> start_on;
    std::map<std::string, std::unique_ptr<Job>> instances;  // by instance name
    std::uint64_t visit_epoch = 0;  // dedupes the class while one event is dispatched
    // Its file is gone: nothing starts it any more, and it goes once its last instance stops.
    bool deleted = false;
    std::unique_ptr<LastRun> last_run;  // most classes never have one: a pointer, not 112 bytes
    // Set while the job file on disk does not parse: the definition in force is the last good
    // one. The first diagnostic, `file:line:col: error: ...`.
    std::string file_error;
};

struct QueuedEvent {
    enum class Progress : std::uint8_t { Pending, Handling, Finished };
    model::Event event;
    Progress progress = Progress::Pending;
    int blockers = 0;
    bool failed = false;
    std::string failure_detail;
    Job* hook_of = nullptr;  // the job waiting for this starting/stopping event
    std::vector<Completion> on_finished;
};

}  // namespace tend::dispatch
