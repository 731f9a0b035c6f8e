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
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

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

// Callbacks that may add or remove observers (themselves included) while being notified:
// a deque keeps the running one in place, and removal only marks until the notification ends.
template <typename... Args>
class ObserverList {
  public:
    std::uint64_t add(std::function<void(Args...)> fn) {
        entries_.push_back({++next_id_, false, std::move(fn)});
        return next_id_;
    }
    void remove(std::uint64_t id) {
        for (auto& entry : entries_) {
            if (entry.id == id) {
                entry.removed = true;
            }
        }
        compact();
    }
    bool empty() const { return entries_.empty(); }
    void notify(Args... args) {
        ++depth_;
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            if (!entries_[i].removed) {
                entries_[i].fn(args...);
            }
        }
        --depth_;
        compact();
    }

  private:
    struct Entry {
        std::uint64_t id;
        bool removed;
        std::function<void(Args...)> fn;
    };
    void compact() {
        if (depth_ == 0) {
            std::erase_if(entries_, [](const Entry& e) { return e.removed; });
        }
    }
    std::deque<Entry> entries_;
    std::uint64_t next_id_ = 0;
    int depth_ = 0;
};

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

struct Job {
    ClassEntry* entry = nullptr;
    std::shared_ptr<const model::JobClass> cls;  // the definition this instance started with
    std::string instance;
    std::uint64_t serial = 0;
    Goal goal = Goal::Stop;
    State state = State::Waiting;
    model::Environment env;       // the start environment: global + `env` + event/command vars
    model::Environment stop_env;  // the stop event's or command's variables
    std::string start_events;     // UPSTART_EVENTS
    std::string stop_events;      // UPSTART_STOP_EVENTS
    std::optional<model::EventOperator> stop_on;

    std::array<pid_t, model::kProcessTypeCount> pids{};
    std::array<pid_t, model::kProcessTypeCount> pgids{};
    std::vector<pid_t> adopted;  // escapees re-parented to tend, being stopped with the job

    std::shared_ptr<QueuedEvent> blocker;  // the starting/stopping hook this job waits for
    std::vector<std::shared_ptr<QueuedEvent>> blocking;  // events held until this job settles
    std::vector<Completion> waiters;                     // control requests waiting likewise

    bool failed = false;
    FailedProcess failed_process = FailedProcess::None;
    std::optional<sys::ExitStatus> exit_status;
    std::string failure_detail;
    std::optional<sys::ExitStatus> last_exit;  // of the main process, for status and explain

    // Respawn accounting.
    unsigned respawn_count = 0;
    sys::TimePoint respawn_window_start{};
    std::uint32_t backoff_ms = 0;        // the next respawn waits this long
    std::uint32_t pending_delay_ms = 0;  // set while a respawn waits in post-stop
    sys::TimePoint main_started{};
    unsigned respawns = 0;  // total, for status
    bool respawn_after_post_start = false;

    int forks_followed = 0;  // expect fork/daemon: hops taken along the fork chain
    bool ready = false;      // expect notify: READY=1 seen
    bool killing_hard = false;
    bool adopt_new_definition =
        false;  // `restart --reload`: start again on the class's current one

    sys::TimerId kill_timer = 0;
    sys::TimerId delay_timer = 0;
    sys::TimerId start_timer = 0;

    int output_fd = -1;
    bool output_failed = false;

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
    std::optional<LastRun> last_run;
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

struct SupervisorOptions {
    model::Environment global_env;      // copied into every job at start
    std::string session;                // TEND_SESSION exported to jobs (the control socket)
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
    // `reload_definition`: start again on the job file's current definition (tendctl restart
    // --reload) rather than the one the instance started with.
    Reply restart(std::string_view name, const std::vector<std::string>& env, Completion done,
                  bool reload_definition = false);
    Reply reload(std::string_view name, const std::vector<std::string>& env);
    // Stops one instance by pointer (`stop --all`); same rules as stop().
    Reply stopInstance(Job& job, Completion done);
    // start, stop or restart of one named instance of a job (a bare `start`/`stop` run inside
    // that instance), instead of the instance the job's template expands to.
    Reply changeInstance(std::string_view name, const std::string& instance,
                         const std::string& command, Completion done);
    // The job file's error, and the running instance's definition being older than the file's.
    void setFileError(std::string_view name, std::string error);
    static bool definitionChanged(const Job& job) { return job.cls != job.entry->cls; }
    // The instance a request names: its instance template expanded with `env`.
    Job* findInstance(std::string_view name, const std::vector<std::string>& env,
                      std::string& error);

    // initctl's status lines for one instance, or `NAME stop/waiting` for a class without one.
    std::string statusText(const Job& job) const;
    std::string statusOfClass(const ClassEntry& entry) const;
    // The job log's file name below the log directory: `name.log`, `name-instance.log`.
    static std::string logFileName(std::string_view job, std::string_view instance);
    std::string logFileName(const Job& job) const {
        return logFileName(job.cls->name, job.instance);
    }

    // Session end: stop every instance; `onIdle` runs once nothing is left running.
    void stopEverything(std::function<void()> on_idle);
    bool idle() const;
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
    const SupervisorOptions& options() const { return options_; }
    sys::TimePoint now() const { return platform_.now(); }

    std::size_t pendingEvents() const { return queue_.size(); }
    std::uint64_t eventsHandled() const { return events_handled_; }

  private:
    struct ProcessRef {
        Job* job = nullptr;
        int slot = -1;  // a ProcessType index, or -1 for an adopted escapee
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
    sys::ProcessSetup processSetup(Job& job, model::ProcessType type, std::string& error);
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

    model::Environment classEnvironment(const model::JobClass& cls) const;

    sys::Platform& platform_;
    log::OutputRouter* output_;
    SupervisorOptions options_;
    std::shared_ptr<spdlog::logger> logger_;

    std::map<std::string, std::unique_ptr<ClassEntry>, std::less<>> classes_;
    // Event name -> classes whose start on / stop on mention it, so that an event only visits
    // the classes that can care.
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
    std::uint64_t events_handled_ = 0;
    bool polling_ = false;

    std::unordered_map<pid_t, ProcessRef> processes_;
    std::vector<Job*> doomed_;  // instances that reached waiting, freed by sweep()

    ObserverList<const model::Event&> event_observers_;
    ObserverList<const Transition&> transition_observers_;
    ObserverList<ClassChangeKind, const model::JobClass&> class_observers_;
    std::function<void()> on_idle_;
    bool ending_ = false;
};

}  // namespace tend::dispatch
