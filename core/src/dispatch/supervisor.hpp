// SPDX-License-Identifier: MIT
// The supervisor: job classes, their instances (Job), the event queue, and the state machine
// that joins them, following Upstart's job.c and event.c.
//
// Everything runs on one thread. Inputs (an emitted event, a control request, a process exit,
// a timer) change goals and states and queue events; poll() then drains the queue. An event runs
// pending -> handling -> finished: while handling, stop matching runs over every instance before
// start matching runs over every class, and the event finishes only when the jobs it started or
// stopped have settled (its blockers reach zero). `starting` and `stopping` are hooks: the job
// that emitted them waits for them to finish before it moves on.
//
// One class, one file per concern:
//   class_table.cpp       classes added, replaced, removed; the index by event
//   event_queue.cpp       emit, poll, handling and finishing events, blockers
//   state_machine.cpp     goals, states, lifecycle events, instances created and destroyed
//   respawn_policy.cpp    normal exits, the respawn limit, the back-off
//   process_setup.cpp     what a process runs, with which environment and identity; spawning
//   process_events.cpp    exits, stops, sd_notify, the fork chain, killing
//   control_requests.cpp  start, stop, restart, reload (the signal), finding an instance
//   status_text.cpp       initctl's status lines
//   session_end.cpp       stopping everything at logout
//   job_environment.cpp   the global and per-instance environment tables
//   reexec_state.cpp      the jobs at rest, saved for a re-exec and taken back after it
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dispatch/job.hpp"
#include "dispatch/observer_list.hpp"
#include "dispatch/saved_state.hpp"
#include "log/output_router.hpp"
#include "model/environment.hpp"
#include "model/event.hpp"
#include "model/event_operator.hpp"
#include "model/job_class.hpp"
#include "sys/platform.hpp"

namespace spdlog {
class logger;
}

namespace tend::dispatch {

struct SupervisorOptions {
    model::Environment global_env;      // the global table tend starts with ("session")
    std::string session;                // TEND_SESSION exported to jobs (the control socket)
    std::string upstart_session;        // UPSTART_SESSION for them too, when set
    std::string notify_socket;          // NOTIFY_SOCKET for `expect notify` jobs
    std::string default_cwd = "/";      // when a job has no `chdir`
    bool log_timestamps = false;        // the global `--log-timestamps`
    bool console_log_available = true;  // false turns `console log` into `console none`
    // Limits every job gets unless it sets its own: tend raises its open-file limit for its
    // log pipes, and hands jobs the limit the session gave it.
    std::map<int, model::ResourceLimit> default_limits;
};

class Supervisor {
  public:
    Supervisor(sys::Platform& platform, log::OutputRouter* output, SupervisorOptions options,
               std::shared_ptr<spdlog::logger> logger);
    ~Supervisor();
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    // Adds or replaces a class. Running instances keep the definition they started with.
    void setClass(std::shared_ptr<const model::JobClass> cls);
    // Forgets a class whose file is gone. Running instances run on until they stop; until then
    // the class still lists them, but nothing can start it.
    void removeClass(std::string_view name);
    const ClassEntry* findClass(std::string_view name) const;
    std::vector<const ClassEntry*> classes() const;

    // Queues an event; `done` runs when it has finished. Call poll() to handle it.
    void emit(std::string name, model::Environment env, Completion done = {});
    // Drains the event queue. Runs after every input; never recurses.
    void poll();

    // Control requests. On success the completion runs when the job has settled (`wait`), or
    // at once. Errors come back as initctl's texts: "Unknown job: NAME", ...
    struct Reply {
        bool ok = true;
        std::string error;
    };
    Reply start(std::string_view name, const std::vector<std::string>& env, Completion done);
    Reply stop(std::string_view name, const std::vector<std::string>& env, Completion done);
    // `adopt_definition`: start again on the job file's current definition (tendctl restart
    // --reload) rather than the one the instance started with.
    Reply restart(std::string_view name, const std::vector<std::string>& env, Completion done,
                  bool adopt_definition = false);
    // `tendctl reload`: sends the job's reload signal (SIGHUP unless it says otherwise) to its
    // main process.
    Reply signalReload(std::string_view name, const std::vector<std::string>& env);
    // Stops one instance by pointer (`stop --all`); same rules as stop().
    Reply stopInstance(Job& job, Completion done);
    // start, stop or restart of one named instance of a job (a bare `start`/`stop` run inside
    // that instance), instead of the instance the job's template expands to.
    Reply changeInstance(std::string_view name, const std::string& instance,
                         const std::string& command, Completion done);
    // The job file's error, and the running instance's definition being older than the file's.
    void setFileError(std::string_view name, std::string error);
    static bool definitionChanged(const Job& job) { return job.cls != job.entry->cls; }
    // The instance name a request's KEY=VALUE pairs give a job: its `instance` template
    // expanded against the class's environment and `env` (empty for a single-instance job).
    // Nothing, with initctl's error text, when the template uses a variable that is unset.
    std::optional<std::string> instanceName(const ClassEntry& entry,
                                            const std::vector<std::string>& env,
                                            std::string& error) const;
    // The instance a request names: its instance template expanded with `env`.
    Job* findInstance(std::string_view name, const std::vector<std::string>& env,
                      std::string& error);

    // The job environment: the global table (`job` null), which every instance's own table
    // starts as a layer over (shared, not copied), or a running instance's own, flattened. set
    // (`KEY=VALUE`, or `KEY` for empty) and unset take every operand or none: a bad name or value
    // (NUL, newline, over 64 KiB), a table that would pass 4,096 variables or an unknown global
    // name changes nothing, and comes back as the error text (empty on success). Setting a global
    // variable sets it in every running instance's table too, as initctl's `set-env --global` did;
    // reset takes the global table back to the one tend started with. `origin` says where the
    // values come from (its time is filled in here).
    model::Environment environment(const Job* job) const;
    const model::Environment& globalEnvironment() const { return global_->env; }
    std::string setEnvironment(Job* job, const std::vector<std::string>& entries, bool retain,
                               VariableOrigin origin = {});
    std::string unsetEnvironment(Job* job, const std::vector<std::string>& names);
    void resetEnvironment();
    // Where the value a table holds for `name` came from; nullopt when the table lacks it.
    std::optional<VariableOrigin> environmentOrigin(const Job* job, std::string_view name) const;
    // A running main process's stale environment: the variables of the global table that
    // changed since it started, came or went, unless the instance's own `env` stanza, start
    // variables or set-env override them, or the instance set them itself (`set-env --global`
    // in its own post-start is how a bus announces itself). Sorted names; empty for an instance
    // without a main process.
    std::vector<std::string> staleEnvironment(const Job& job) const;
    // The same as "-KEY=OLD" and "+KEY=NEW" lines, sorted by name.
    std::vector<std::string> environmentDrift(const Job& job) const;

    // initctl's status lines for one instance, or `NAME stop/waiting` for a class without one.
    std::string statusText(const Job& job) const;
    std::string statusOfClass(const ClassEntry& entry) const;
    // The job log's file name below the log directory: `name.log`, `name-instance.log`.
    static std::string logFileName(std::string_view job, std::string_view instance);
    std::string logFileName(const Job& job) const {
        return logFileName(job.cls->name, job.instance);
    }

    // Session end: stop every instance but those of `session linger` jobs; `onIdle` runs once
    // nothing else is left running. Jobs stop in reverse order of their `start on started X`
    // (or `starting X`) links: X stops once no job that starts on it is left.
    void stopEverything(std::function<void()> on_idle);
    // How many rounds that order takes at most (the longest chain of such links among the
    // jobs running now), for the daemon's deadline; 1 with no links.
    std::size_t stopRounds() const;
    bool idle() const;
    // The processes of `session linger` jobs, which tend leaves running when it exits.
    std::vector<pid_t> lingeringPids() const;
    // After stopEverything: SIGKILL whatever is still there (the daemon's final deadline).
    void killEverything();

    // Inputs from the platform.
    void onChildExit(pid_t pid, sys::ExitStatus status);
    void onChildStopped(pid_t pid);
    void onNotify(pid_t pid, std::string_view message);

    // Observers of every event as it is handled, of every goal and state change, and of job
    // classes added, changed or removed (for `tendctl monitor`, tests and plugins). Each add
    // returns an id for remove.
    struct Transition {
        const Job* job = nullptr;
        bool goal = false;  // a goal change, else a state change
        Goal old_goal = Goal::Stop;
        Goal new_goal = Goal::Stop;
        State old_state = State::Waiting;
        State new_state = State::Waiting;
    };
    enum class ClassChangeKind { Added, Changed, Removed };
    ObserverList<const model::Event&>& eventObservers() { return event_observers_; }
    ObserverList<const Transition&>& transitionObservers() { return transition_observers_; }
    ObserverList<ClassChangeKind, const model::JobClass&>& classObservers() {
        return class_observers_;
    }
    // Keeps the event being handled from finishing until releaseEvent (a plugin waiting on
    // something outside tend). False when no such event is live.
    bool holdEvent(std::uint64_t event_id);
    void releaseEvent(std::uint64_t event_id);
    sys::TimePoint now() const { return platform_.now(); }

    // Re-exec (reexec_state.cpp). Why the jobs are not at rest (empty when they are): an event
    // on its way, or an instance between two states, running a hook or waited for.
    std::string restlessness() const;
    SavedState save() const;
    // Takes back what an earlier tend in this process saved, into the classes loaded since.
    // Returns a line per instance it could not take back (whose class is gone: its processes
    // are sent SIGTERM, as a removed job's would be at its stop).
    std::vector<std::string> restore(const SavedState& state);
    // Where an instance's output goes.
    log::OutputSpec outputSpec(const Job& job) const;

  private:
    struct ProcessRef {
        Job* job = nullptr;
        int index = -1;  // a processIndex(), or -1 for an adopted escapee
    };

    // Event handling.
    void handleEvent(QueuedEvent& event);
    void finishEvent(const std::shared_ptr<QueuedEvent>& event);
    void indexClass(ClassEntry& entry, bool add);
    void blockEvents(Job& job, const model::EventOperator& op);

    // The state machine (Upstart's job_change_goal / job_change_state / job_next_state).
    Job& createInstance(ClassEntry& entry, const std::string& instance);
    void changeGoal(Job& job, Goal goal);
    void changeState(Job& job, State state);
    State nextState(const Job& job) const;
    void enterState(Job& job, State& state, bool& wait);
    void jobFinished(Job& job, bool failed);
    void jobFailed(Job& job, FailedProcess process, std::optional<sys::ExitStatus> status,
                   std::string detail);
    void emitLifecycle(Job& job, std::string_view name, bool hook);
    void destroyInstance(Job& job);
    void sweep();

    // Processes.
    bool spawnProcess(Job& job, model::ProcessType type);
    sys::ProcessSetup processSetup(Job& job, model::ProcessType type, std::string& error,
                                   bool& short_of_resources);
    bool retryStartLater(Job& job, const std::string& why);
    bool isProcessOf(Job& job, pid_t pid);
    void closeOutput(Job& job);
    void onMainExit(Job& job, pid_t pid, sys::ExitStatus status);
    void onAuxExit(Job& job, model::ProcessType type, pid_t pid, sys::ExitStatus status);
    bool followForkChain(Job& job, pid_t exited);
    void mainReady(Job& job);
    void onStartTimeout(Job& job);
    bool delayRespawn(Job& job);
    void armRecheck(Job& job);
    bool isNormalExit(const Job& job, sys::ExitStatus status) const;
    bool respawnTooFast(Job& job);
    std::uint32_t nextRespawnDelay(Job& job);
    void killJob(Job& job);
    void checkKilled(Job& job);
    bool anyProcessAlive(Job& job);
    void cancelTimer(sys::TimerId& id);

    // The class's start environment: its `env` stanza over the global generation in force.
    model::LayeredEnvironment classEnvironment(const model::JobClass& cls) const;
    // The instance stop and restart act on: one that is not stopping already.
    Job* instanceToStop(std::string_view name, const std::vector<std::string>& env, Reply& refused);
    // The class's environment with a request's KEY=VALUE pairs over it.
    model::LayeredEnvironment requestEnvironment(const model::JobClass& cls,
                                                 const std::vector<std::string>& env) const;
    std::optional<std::string> instanceName(const ClassEntry& entry,
                                            const model::LayeredEnvironment& env,
                                            std::string& error) const;

    sys::Platform& platform_;
    log::OutputRouter* output_;
    SupervisorOptions options_;
    std::shared_ptr<const GlobalEnvironment> global_;          // the generation in force
    std::shared_ptr<const GlobalEnvironment> initial_global_;  // for reset-env
    GlobalEnvironment& writableGlobal();                       // copies a generation in use
    std::shared_ptr<spdlog::logger> logger_;

    std::map<std::string, std::unique_ptr<ClassEntry>, std::less<>> classes_;
    // The class idle() last found running: each job's end at a session's end asks idle() again,
    // and a walk from the first class each time made ending N jobs cost N squared.
    mutable std::string idle_hint_;
    // matchKey() -> classes whose start on / stop on have such a MATCH, so that an event only
    // visits the classes that can care: the key is the event name, narrowed by a literal first
    // positional operand or else the first literal KEY=VALUE (class_table.cpp).
    using EventIndex = std::unordered_map<std::string, std::vector<ClassEntry*>>;
    void candidates(const EventIndex& index, const model::Event& event,
                    std::vector<ClassEntry*>& out);
    EventIndex start_index_;
    EventIndex stop_index_;
    std::uint64_t visit_epoch_ = 0;

    std::vector<std::shared_ptr<QueuedEvent>> queue_;
    std::unordered_map<std::uint64_t, std::shared_ptr<QueuedEvent>> live_events_;
    std::uint64_t next_event_id_ = 1;
    std::uint64_t next_serial_ = 1;
    bool polling_ = false;

    std::unordered_map<pid_t, ProcessRef> processes_;
    std::vector<Job*> doomed_;  // instances that reached waiting, freed by sweep()

    ObserverList<const model::Event&> event_observers_;
    ObserverList<const Transition&> transition_observers_;
    ObserverList<ClassChangeKind, const model::JobClass&> class_observers_;
    std::function<void()> on_idle_;
    bool ending_ = false;
    // Session end: the classes not yet told to stop, each with the classes that start on it.
    std::map<std::string, std::set<std::string>> stop_waiting_;
    std::map<std::string, std::set<std::string>> dependentsOfRunning() const;
    bool stopClassesNoLongerNeeded();  // whether it stopped any
    void stopClass(ClassEntry& entry);
};

}  // namespace tend::dispatch
