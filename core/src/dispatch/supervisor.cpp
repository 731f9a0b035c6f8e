// SPDX-License-Identifier: MIT
#include "dispatch/supervisor.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <utility>

#include "model/signals.hpp"

namespace tend::dispatch {

using model::ProcessType;

namespace {

constexpr std::size_t slot(ProcessType type) {
    return static_cast<std::size_t>(type);
}

constexpr std::uint32_t kBackoffResetMs = 10000;  // uptime after which the back-off starts over
constexpr std::size_t kMaxInlineScript = 100000;  // larger scripts go through /proc/self/fd/9

// Upstart runs an exec line through the shell when it holds any of these.
bool needsShell(std::string_view command) {
    return command.find_first_of("~`!$^&*()=|\\{}[];\"'<>?") != std::string_view::npos;
}

std::vector<std::string> splitWords(std::string_view text) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) {
            ++i;
        }
        const std::size_t start = i;
        while (i < text.size() && text[i] != ' ' && text[i] != '\t') {
            ++i;
        }
        if (i > start) {
            words.emplace_back(text.substr(start, i - start));
        }
    }
    return words;
}

FailedProcess failedProcessOf(ProcessType type) {
    switch (type) {
    case ProcessType::Main:
        return FailedProcess::Main;
    case ProcessType::PreStart:
        return FailedProcess::PreStart;
    case ProcessType::PostStart:
        return FailedProcess::PostStart;
    case ProcessType::PreStop:
        return FailedProcess::PreStop;
    case ProcessType::PostStop:
        return FailedProcess::PostStop;
    }
    return FailedProcess::Main;
}

// The status note for a job file that does not parse; a stanza whose plugin has gone is named.
std::string fileErrorNote(const std::string& error) {
    static constexpr std::string_view kNeeds = "needs plugin ";
    if (const auto at = error.find(kNeeds); at != std::string::npos) {
        const auto start = at + kNeeds.size();
        const auto end = error.find_first_of(", \n", start);
        return " [needs plugin " + error.substr(start, end - start) +
               "; the last good definition is in force]";
    }
    return " [job file has errors; the last good definition is in force]";
}

bool validEntry(const std::string& entry) {
    const auto eq = entry.find('=');
    return eq != std::string::npos && eq > 0;
}

// `setuid`/`setgid`: applied when tend runs as root; otherwise a job may only name tend's own
// user and group. Returns an error text, empty when the job may run.
std::string resolveIdentity(const model::JobClass& cls, sys::ProcessSetup& setup) {
    const bool root = ::geteuid() == 0;
    const auto refuse = [](const char* stanza, const std::string& name, const char* kind,
                           unsigned own, const char* whom) {
        return std::string(stanza) + " " + name + ": tend runs as " + kind + " " +
               std::to_string(own) + " and only root can run a job as another " + whom;
    };
    if (cls.setuid) {
        const passwd* pw = ::getpwnam(cls.setuid->c_str());
        if (!pw) {
            return "setuid " + *cls.setuid + ": no such user";
        }
        if (!root && pw->pw_uid != ::geteuid()) {
            return refuse("setuid", *cls.setuid, "uid", ::geteuid(), "user");
        }
        if (root) {
            setup.uid = pw->pw_uid;
            setup.gid = pw->pw_gid;
            int count = 64;
            std::vector<gid_t> groups(static_cast<std::size_t>(count));
            if (::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &count) < 0) {
                groups.resize(static_cast<std::size_t>(count));
                ::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &count);
            }
            groups.resize(static_cast<std::size_t>(std::max(count, 0)));
            setup.groups = std::move(groups);
            // The session user's home and names mean nothing to the other user.
            if (!cls.chdir) {
                struct stat st {};
                const bool has_home = ::stat(pw->pw_dir, &st) == 0 && S_ISDIR(st.st_mode);
                setup.cwd = has_home ? pw->pw_dir : "/";
            }
            for (auto& entry : setup.env) {
                if (entry.starts_with("HOME=")) {
                    entry = std::string("HOME=") + pw->pw_dir;
                } else if (entry.starts_with("USER=") || entry.starts_with("LOGNAME=")) {
                    entry = entry.substr(0, entry.find('=') + 1) + pw->pw_name;
                }
            }
        }
    }
    if (cls.setgid) {
        const group* gr = ::getgrnam(cls.setgid->c_str());
        if (!gr) {
            return "setgid " + *cls.setgid + ": no such group";
        }
        if (!root && gr->gr_gid != ::getegid()) {
            return refuse("setgid", *cls.setgid, "gid", ::getegid(), "group");
        }
        if (root) {
            setup.gid = gr->gr_gid;
        }
    }
    return {};
}

}  // namespace

std::string_view failedProcessName(FailedProcess process) {
    switch (process) {
    case FailedProcess::None:
        return "";
    case FailedProcess::Main:
        return "main";
    case FailedProcess::PreStart:
        return "pre-start";
    case FailedProcess::PostStart:
        return "post-start";
    case FailedProcess::PreStop:
        return "pre-stop";
    case FailedProcess::PostStop:
        return "post-stop";
    case FailedProcess::Respawn:
        return "respawn";
    }
    return "";
}

std::string describeExit(sys::ExitStatus status) {
    if (status.signaled) {
        return "killed by " + model::signalName(status.value) + " signal";
    }
    return "terminated with status " + std::to_string(status.value);
}

std::string formatMillis(std::uint32_t ms) {
    if (ms % 1000 == 0) {
        return std::to_string(ms / 1000) + "s";
    }
    return std::to_string(ms) + "ms";
}

std::string_view goalName(Goal goal) {
    switch (goal) {
    case Goal::Stop:
        return "stop";
    case Goal::Start:
        return "start";
    case Goal::Respawn:
        return "respawn";
    }
    return "stop";
}

std::string_view stateName(State state) {
    switch (state) {
    case State::Waiting:
        return "waiting";
    case State::Starting:
        return "starting";
    case State::PreStart:
        return "pre-start";
    case State::Spawned:
        return "spawned";
    case State::PostStart:
        return "post-start";
    case State::Running:
        return "running";
    case State::PreStop:
        return "pre-stop";
    case State::Stopping:
        return "stopping";
    case State::Killed:
        return "killed";
    case State::PostStop:
        return "post-stop";
    }
    return "waiting";
}

std::string Job::displayName() const {
    return instance.empty() ? cls->name : cls->name + " (" + instance + ")";
}

Supervisor::Supervisor(sys::Platform& platform, log::OutputRouter* output,
                       SupervisorOptions options, std::shared_ptr<spdlog::logger> logger)
    : platform_(platform),
      output_(output),
      options_(std::move(options)),
      logger_(logger ? std::move(logger) : spdlog::default_logger()) {}

Supervisor::~Supervisor() {
    for (auto& [name, entry] : classes_) {
        for (auto& [instance, job] : entry->instances) {
            cancelTimer(job->kill_timer);
            cancelTimer(job->delay_timer);
            cancelTimer(job->start_timer);
            if (job->output_fd >= 0) {
                ::close(job->output_fd);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Classes

void Supervisor::setClass(std::shared_ptr<const model::JobClass> cls) {
    auto it = classes_.find(cls->name);
    if (it == classes_.end()) {
        it = classes_.emplace(cls->name, std::make_unique<ClassEntry>()).first;
    } else {
        indexClass(*it->second, false);
    }
    ClassEntry& entry = *it->second;
    std::vector<std::string> ignored;
    if (cls->chroot) {
        ignored.emplace_back("chroot");
    }
    if (cls->apparmor_load || cls->apparmor_switch) {
        ignored.emplace_back("apparmor");
    }
    if (!cls->cgroups.empty()) {
        ignored.emplace_back("cgroup");
    }
    if (!ignored.empty()) {
        std::string list;
        for (const auto& word : ignored) {
            list += (list.empty() ? "" : ", ") + word;
        }
        logger_->info("{}: not applied in a user session: {}", cls->name, list);
    }
    const bool existed = static_cast<bool>(entry.cls) && !entry.deleted;
    const bool stop_on_changed = entry.cls && entry.cls->stop_on != cls->stop_on;
    entry.cls = std::move(cls);
    entry.deleted = false;
    entry.start_on.reset();
    if (entry.cls->start_on) {
        entry.start_on.emplace(*entry.cls->start_on);
    }
    // Running instances keep the definition they started with, except for `stop on`, which
    // (as in Upstart) takes effect at once.
    for (auto& [instance, job] : entry.instances) {
        if (stop_on_changed) {
            job->stop_on.reset();
            if (entry.cls->stop_on) {
                job->stop_on.emplace(*entry.cls->stop_on);
            }
        }
    }
    indexClass(entry, true);
    if (!class_observers_.empty()) {
        const auto keep = entry.cls;  // an observer may replace the class again
        class_observers_.notify(existed ? ClassChangeKind::Changed : ClassChangeKind::Added, *keep);
    }
}

namespace {

// The bucket a MATCH node is filed under: its event name, narrowed by its first literal operand
// when it has one (`started dbus` files under "started" + "#dbus"), so that `started JOB=x`
// visits only the classes that wait for x, not every class that says `start on started ...`.
std::string matchKey(const grammar::EventMatch& match) {
    const auto literal = [](const std::string& value) {
        return value.find_first_of("*?[$\\") == std::string::npos;
    };
    if (!match.args.empty() && match.args.front().positional() &&
        literal(match.args.front().value)) {
        return match.name + "\x1f#" + match.args.front().value;
    }
    for (const auto& arg : match.args) {
        if (!arg.positional() && !arg.negated && literal(arg.value)) {
            return match.name + "\x1f" + arg.key + "=" + arg.value;
        }
    }
    return match.name;
}

}  // namespace

void Supervisor::indexClass(ClassEntry& entry, bool add) {
    auto visit = [&](const std::optional<grammar::EventCondition>& condition, EventIndex& index) {
        if (!condition) {
            return;
        }
        for (const auto& node : condition->nodes()) {
            if (node.kind != grammar::EventNode::Kind::Match) {
                continue;
            }
            auto& list = index[matchKey(node.match)];
            const auto found = std::find(list.begin(), list.end(), &entry);
            if (add && found == list.end()) {
                list.push_back(&entry);
            } else if (!add && found != list.end()) {
                list.erase(found);
            }
        }
    };
    if (!add || !entry.deleted) {
        visit(entry.cls->start_on, start_index_);
    }
    visit(entry.cls->stop_on, stop_index_);
    // A running instance may still hold an older stop on; keep it reachable.
    for (auto& [name, job] : entry.instances) {
        if (job->cls != entry.cls) {
            visit(job->cls->stop_on, stop_index_);
        }
    }
}

void Supervisor::candidates(const EventIndex& index, const model::Event& event,
                            std::vector<ClassEntry*>& out) {
    out.clear();
    const std::uint64_t epoch = ++visit_epoch_;
    const auto take = [&](const std::string& key) {
        const auto it = index.find(key);
        if (it == index.end()) {
            return;
        }
        for (ClassEntry* entry : it->second) {
            if (entry->visit_epoch != epoch) {
                entry->visit_epoch = epoch;
                out.push_back(entry);
            }
        }
    };
    take(event.name);
    if (event.env.size() == 0) {
        return;
    }
    std::string key = event.name + "\x1f#";
    const std::size_t prefix = key.size() - 1;
    key.append(event.env.valueAt(0));
    take(key);
    for (const auto& entry : event.env.entries()) {
        key.resize(prefix);
        key.append(entry);
        take(key);
    }
}

void Supervisor::removeClass(std::string_view name) {
    const auto it = classes_.find(name);
    if (it == classes_.end()) {
        return;
    }
    ClassEntry& entry = *it->second;
    if (!class_observers_.empty()) {
        const auto keep = entry.cls;
        class_observers_.notify(ClassChangeKind::Removed, *keep);
    }
    if (entry.instances.empty()) {
        indexClass(entry, false);
        classes_.erase(it);
        return;
    }
    // Unindexed and re-indexed so that only the running instances' `stop on` stays live.
    indexClass(entry, false);
    entry.deleted = true;
    entry.start_on.reset();
    indexClass(entry, true);
}

const ClassEntry* Supervisor::findClass(std::string_view name) const {
    const auto it = classes_.find(name);
    return it == classes_.end() ? nullptr : it->second.get();
}

std::vector<const ClassEntry*> Supervisor::classes() const {
    std::vector<const ClassEntry*> out;
    out.reserve(classes_.size());
    for (const auto& [name, entry] : classes_) {
        out.push_back(entry.get());
    }
    return out;
}

model::Environment Supervisor::classEnvironment(const model::JobClass& cls) const {
    model::Environment env = options_.global_env;
    for (const auto& entry : cls.env) {
        if (entry.value) {
            env.set(entry.name, *entry.value);
        } else if (const char* value = std::getenv(entry.name.c_str())) {
            env.set(entry.name, value);
        }
    }
    return env;
}

// ---------------------------------------------------------------------------------------------
// Events

void Supervisor::emit(std::string name, model::Environment env, Completion done) {
    auto event = std::make_shared<QueuedEvent>();
    event->event.id = next_event_id_++;
    event->event.name = std::move(name);
    event->event.env = std::move(env);
    if (done) {
        event->on_finished.push_back(std::move(done));
    }
    live_events_.emplace(event->event.id, event);
    queue_.push_back(std::move(event));
}

void Supervisor::poll() {
    if (polling_) {
        return;  // an input arrived while draining; the running drain will see its work
    }
    polling_ = true;
    bool again = true;
    while (again) {
        again = false;
        for (std::size_t i = 0; i < queue_.size(); ++i) {
            auto event = queue_[i];
            if (event->progress == QueuedEvent::Progress::Pending) {
                event->progress = QueuedEvent::Progress::Handling;
                handleEvent(*event);
                again = true;
            }
            if (event->progress == QueuedEvent::Progress::Handling && event->blockers <= 0) {
                event->progress = QueuedEvent::Progress::Finished;
                finishEvent(event);
                again = true;
            }
        }
        std::erase_if(queue_, [](const std::shared_ptr<QueuedEvent>& e) {
            return e->progress == QueuedEvent::Progress::Finished;
        });
    }
    polling_ = false;
    sweep();
}

void Supervisor::handleEvent(QueuedEvent& queued) {
    ++events_handled_;
    const model::Event& event = queued.event;
    logger_->debug("handling event {}", event.name);
    if (!event_observers_.empty()) {
        event_observers_.notify(event);
    }

    // Stop matching first, so that `stop on a` / `start on a` restarts rather than ignores.
    std::vector<ClassEntry*> entries;
    candidates(stop_index_, event, entries);
    {
        for (ClassEntry* entry : entries) {
            std::vector<Job*> jobs;
            for (auto& [name, job] : entry->instances) {
                jobs.push_back(job.get());
            }
            for (Job* job : jobs) {
                if (!job->stop_on) {
                    continue;
                }
                job->stop_on->handle(event, job->env);
                if (!job->stop_on->value()) {
                    continue;
                }
                if (job->goal != Goal::Stop) {
                    job->stop_env = {};
                    job->stop_events.clear();
                    for (const model::Event* matched : job->stop_on->matchedEvents()) {
                        for (const auto& entry_text : matched->env.entries()) {
                            job->stop_env.setEntry(entry_text);
                        }
                        job->stop_events += (job->stop_events.empty() ? "" : " ") + matched->name;
                    }
                    blockEvents(*job, *job->stop_on);
                    changeGoal(*job, Goal::Stop);
                }
                job->stop_on->reset();
            }
        }
    }

    candidates(start_index_, event, entries);
    {
        static const model::Environment kNoEnvironment;
        for (ClassEntry* entry : entries) {
            if (!entry->start_on) {
                continue;
            }
            entry->start_on->handle(event, kNoEnvironment);
            if (!entry->start_on->value()) {
                continue;
            }
            model::Environment env = classEnvironment(*entry->cls);
            std::string names;
            for (const model::Event* matched : entry->start_on->matchedEvents()) {
                for (const auto& entry_text : matched->env.entries()) {
                    env.setEntry(entry_text);
                }
                names += (names.empty() ? "" : " ") + matched->name;
            }
            env.set("UPSTART_EVENTS", names);
            env.set("TEND_EVENTS", names);
            const auto instance = model::expandVariables(entry->cls->instance, env);
            if (!instance) {
                logger_->error(
                    "{}: cannot start an instance for event {}: the instance name '{}' "
                    "uses an unset variable",
                    entry->cls->name, event.name, entry->cls->instance);
                entry->start_on->reset();
                continue;
            }
            auto found = entry->instances.find(*instance);
            Job& job = found != entry->instances.end() ? *found->second
                                                       : createInstance(*entry, *instance);
            if (job.goal != Goal::Start) {
                job.env = std::move(env);
                job.start_events = names;
                if (job.stop_on) {
                    job.stop_on->reset();
                }
                blockEvents(job, *entry->start_on);
                changeGoal(job, Goal::Start);
            }
            entry->start_on->reset();
        }
    }
}

void Supervisor::blockEvents(Job& job, const model::EventOperator& op) {
    for (const model::Event* matched : op.matchedEvents()) {
        const auto it = live_events_.find(matched->id);
        if (it == live_events_.end()) {
            continue;  // already finished: a match remembered from an earlier event
        }
        ++it->second->blockers;
        job.blocking.push_back(it->second);
    }
}

void Supervisor::finishEvent(const std::shared_ptr<QueuedEvent>& event) {
    live_events_.erase(event->event.id);
    if (Job* job = event->hook_of) {
        event->hook_of = nullptr;
        job->blocker.reset();
        changeState(*job, nextState(*job));
    }
    for (auto& done : event->on_finished) {
        done(event->failed, event->failure_detail);
    }
    event->on_finished.clear();
    const std::string& name = event->event.name;
    if (event->failed && !name.ends_with("/failed")) {
        emit(name + "/failed", event->event.env);
    }
}

// ---------------------------------------------------------------------------------------------
// The state machine

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
            if (!job.pids[slot(ProcessType::PostStop)]) {
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
        if (const pid_t pid = job.pids[slot(ProcessType::PostStart)]) {
            platform_.signalProcess(pid, job.cls->kill_signal);
            platform_.signalGroup(job.pgids[slot(ProcessType::PostStart)], job.cls->kill_signal);
        }
        break;
    case State::PostStop:
        if (old == Goal::Respawn) {
            cancelTimer(job.delay_timer);
            job.pending_delay_ms = 0;
            if (!job.pids[slot(ProcessType::PostStop)]) {
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
        if (state == State::Starting && job.adopt_new_definition) {
            // Between the stop and the start of `restart --reload`: nothing runs on the old
            // definition any more.
            job.adopt_new_definition = false;
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
        job.failure_detail.clear();
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
            state = nextState(job);
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

bool Supervisor::delayRespawn(Job& job) {
    if (job.goal != Goal::Start || job.pending_delay_ms == 0) {
        return false;
    }
    job.goal = Goal::Respawn;
    Job* target = &job;
    logger_->info("{} respawning in {}", job.displayName(), formatMillis(job.pending_delay_ms));
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
                event->failure_detail = job.displayName() + ": " + job.failure_detail;
            }
        }
        --event->blockers;
    }
    auto waiters = std::move(job.waiters);
    job.waiters.clear();
    for (auto& done : waiters) {
        done(failed, job.failure_detail);
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
    job.failure_detail = std::move(detail);
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
    if (ending_ && on_idle_ && idle()) {
        auto done = std::move(on_idle_);
        on_idle_ = nullptr;
        done();
    }
}

void Supervisor::destroyInstance(Job& job) {
    cancelTimer(job.kill_timer);
    cancelTimer(job.delay_timer);
    cancelTimer(job.start_timer);
    if (job.output_fd >= 0) {
        ::close(job.output_fd);
        job.output_fd = -1;
    }
    for (pid_t pid : job.adopted) {
        processes_.erase(pid);
    }
    ClassEntry* entry = job.entry;
    LastRun last;
    last.instance = job.instance;
    last.failed = job.failed;
    last.failed_process = job.failed_process;
    last.failure_detail = job.failure_detail;
    last.last_exit = job.last_exit;
    last.ended = platform_.now();
    last.respawns = job.respawns;
    entry->last_run = std::move(last);
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

// ---------------------------------------------------------------------------------------------
// Processes

std::string Supervisor::logFileName(std::string_view job, std::string_view instance) {
    std::string name(job);
    if (!instance.empty()) {
        name += "-" + std::string(instance);
    }
    std::replace(name.begin(), name.end(), '/', '_');
    return name + ".log";
}

sys::ProcessSetup Supervisor::processSetup(Job& job, ProcessType type, std::string& error) {
    const model::JobClass& cls = *job.cls;
    const model::Process& process = *cls.process(type);
    sys::ProcessSetup setup;

    model::Environment env = job.env;
    if (type == ProcessType::PreStop || type == ProcessType::PostStop) {
        for (const auto& entry : job.stop_env.entries()) {
            env.setEntry(entry);
        }
        if (!job.stop_events.empty()) {
            env.set("UPSTART_STOP_EVENTS", job.stop_events);
            env.set("TEND_STOP_EVENTS", job.stop_events);
        }
    }
    env.set("UPSTART_JOB", cls.name);
    env.set("UPSTART_INSTANCE", job.instance);
    env.set("TEND_JOB", cls.name);
    env.set("TEND_INSTANCE", job.instance);
    if (!options_.session.empty()) {
        env.set("TEND_SESSION", options_.session);
    }
    if (type == ProcessType::Main && cls.expect == model::Expect::Notify) {
        env.set("NOTIFY_SOCKET", options_.notify_socket);
    }
    setup.env = env.entries();

    if (process.script) {
        if (process.command.size() < kMaxInlineScript) {
            setup.argv = {"/bin/sh", "-e", "-c", process.command};
        } else {
            setup.argv = {"/bin/sh", "-e", "/proc/self/fd/9"};
            setup.script = process.command;
        }
    } else if (needsShell(process.command)) {
        setup.argv = {"/bin/sh", "-e", "-c", "exec " + process.command};
    } else {
        setup.argv = splitWords(process.command);
        if (setup.argv.empty()) {
            error = "empty command";
            return setup;
        }
    }

    setup.cwd = cls.chdir ? *cls.chdir : options_.default_cwd;
    switch (cls.console) {
    case model::Console::Log:
        // Opened at the first spawn rather than at `starting`, so that many jobs starting at
        // once do not all hold a pipe before any of them runs.
        if (job.output_fd < 0 && output_ && options_.console_log_available) {
            std::string output_error;
            log::OutputSpec spec;
            spec.file_name = logFileName(job);
            spec.job = cls.name;
            spec.instance = job.instance;
            spec.timestamps = cls.log_timestamps || options_.log_timestamps;
            job.output_fd = output_->openOutput(spec, output_error);
            if (job.output_fd < 0 && !job.output_failed) {
                job.output_failed = true;
                logger_->warn("{}: cannot capture output: {}; its output is discarded",
                              job.displayName(), output_error);
            }
        }
        if (job.output_fd >= 0) {
            setup.output = sys::OutputMode::Fd;
            setup.output_fd = job.output_fd;
        }
        break;
    case model::Console::None:
        setup.output = sys::OutputMode::Null;
        break;
    case model::Console::Output:
    case model::Console::Owner:
        setup.output = sys::OutputMode::Inherit;
        break;
    }
    setup.umask = cls.umask;
    setup.nice = cls.nice;
    setup.oom_score = cls.oom_score;
    setup.limits = cls.limits;
    for (const auto& [resource, limit] : options_.default_limits) {
        setup.limits.emplace(resource, limit);  // the job's own `limit` wins
    }

    if (cls.setuid || cls.setgid) {
        error = resolveIdentity(cls, setup);
    }
    return setup;
}

bool Supervisor::spawnProcess(Job& job, ProcessType type) {
    std::string error;
    sys::ProcessSetup setup = processSetup(job, type, error);
    sys::SpawnOutcome outcome;
    if (error.empty()) {
        outcome = platform_.spawn(setup);
        error = outcome.error;
    }
    const std::string_view process_name = model::processTypeName(type);
    if (!outcome.ok()) {
        const std::string detail = std::string(process_name) + " process could not start: " + error;
        logger_->error("{} {}", job.displayName(), detail);
        jobFailed(job, failedProcessOf(type), std::nullopt, detail);
        job.goal = Goal::Stop;  // not changeGoal: we are inside changeState
        return false;
    }
    job.pids[slot(type)] = outcome.pid;
    job.pgids[slot(type)] = outcome.pid;  // every process leads its own session and group
    processes_[outcome.pid] = ProcessRef{&job, static_cast<int>(slot(type))};
    if (type == ProcessType::Main) {
        job.main_started = platform_.now();
    }
    logger_->debug("{} {} process ({})", job.displayName(), process_name, outcome.pid);
    return true;
}

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
    if (ref.slot < 0) {
        std::erase(job.adopted, pid);
        checkKilled(job);
        poll();
        return;
    }
    const auto type = static_cast<ProcessType>(ref.slot);
    job.pids[static_cast<std::size_t>(ref.slot)] = 0;
    if (type == ProcessType::Main) {
        onMainExit(job, pid, status);
    } else {
        onAuxExit(job, type, pid, status);
    }
    poll();
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
    const auto uptime = platform_.now() - job.main_started;
    if (uptime >= sys::Millis(kBackoffResetMs)) {
        job.backoff_ms = 0;
    }
    job.backoff_ms = job.backoff_ms == 0
                         ? delay.initial_ms
                         : std::min<std::uint32_t>(job.backoff_ms * 2, delay.max_ms);
    return job.backoff_ms;
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
            if (const pid_t post = job.pids[slot(ProcessType::PostStart)]) {
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
    if (!job.adopted.empty()) {
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
    return alive;
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
    for (pid_t pid : platform_.adoptedProcesses(job.cls->name, job.instance, pgids)) {
        if (!processes_.contains(pid)) {
            processes_[pid] = ProcessRef{&job, -1};
            job.adopted.push_back(pid);
            logger_->info("{}: stopping process {}, left behind by the job", job.displayName(),
                          pid);
        }
    }
    for (pid_t pid : job.adopted) {
        platform_.signalProcess(pid, signal);
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
    if (it == processes_.end() || it->second.slot != 0) {
        return;
    }
    Job& job = *it->second.job;
    if (job.state == State::Spawned && job.cls->expect == model::Expect::Stop) {
        platform_.signalProcess(pid, SIGCONT);
        mainReady(job);
        poll();
    }
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
            const pid_t main = std::atoi(std::string(line.substr(8)).c_str());
            if (main > 0 && main != job->mainPid() && job->mainPid()) {
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

// ---------------------------------------------------------------------------------------------
// Control requests

Job* Supervisor::findInstance(std::string_view name, const std::vector<std::string>& env,
                              std::string& error) {
    const auto it = classes_.find(name);
    if (it == classes_.end()) {
        error = "Unknown job: " + std::string(name);
        return nullptr;
    }
    ClassEntry& entry = *it->second;
    model::Environment expanded = classEnvironment(*entry.cls);
    for (const auto& item : env) {
        expanded.setEntry(item);
    }
    const auto instance = model::expandVariables(entry.cls->instance, expanded);
    if (!instance) {
        error = "Unknown parameter in instance name '" + entry.cls->instance + "'";
        if (entry.cls->usage) {
            error += "\nUsage: " + *entry.cls->usage;
        }
        return nullptr;
    }
    const auto found = entry.instances.find(*instance);
    if (found == entry.instances.end()) {
        error = "Unknown instance: " + *instance;
        return nullptr;
    }
    return found->second.get();
}

Supervisor::Reply Supervisor::start(std::string_view name, const std::vector<std::string>& env,
                                    Completion done) {
    for (const auto& item : env) {
        if (!validEntry(item)) {
            return {false, "Env must be KEY=VALUE pairs"};
        }
    }
    const auto it = classes_.find(name);
    if (it == classes_.end() || it->second->deleted) {
        return {false, "Unknown job: " + std::string(name)};
    }
    ClassEntry& entry = *it->second;
    model::Environment start_env = classEnvironment(*entry.cls);
    for (const auto& item : env) {
        start_env.setEntry(item);
    }
    const auto instance = model::expandVariables(entry.cls->instance, start_env);
    if (!instance) {
        std::string error = "Unknown parameter in instance name '" + entry.cls->instance + "'";
        if (entry.cls->usage) {
            error += "\nUsage: " + *entry.cls->usage;
        }
        return {false, error};
    }
    auto found = entry.instances.find(*instance);
    Job* job = found != entry.instances.end() ? found->second.get() : nullptr;
    if (job && job->goal == Goal::Start) {
        return {false, "Job is already running: " + std::string(name)};
    }
    if (!job) {
        job = &createInstance(entry, *instance);
    }
    if (job->state == State::Waiting || job->goal == Goal::Stop) {
        job->env = std::move(start_env);
        job->start_events.clear();
    }
    if (job->stop_on) {
        job->stop_on->reset();
    }
    if (done) {
        job->waiters.push_back(std::move(done));
    }
    changeGoal(*job, Goal::Start);
    poll();
    return {};
}

Supervisor::Reply Supervisor::stop(std::string_view name, const std::vector<std::string>& env,
                                   Completion done) {
    for (const auto& item : env) {
        if (!validEntry(item)) {
            return {false, "Env must be KEY=VALUE pairs"};
        }
    }
    std::string error;
    Job* job = findInstance(name, env, error);
    if (!job) {
        return {false, error};
    }
    if (job->goal == Goal::Stop) {
        return {false, "Job has already been stopped: " + std::string(name)};
    }
    job->stop_env = {};
    for (const auto& item : env) {
        job->stop_env.setEntry(item);
    }
    return stopInstance(*job, std::move(done));
}

Supervisor::Reply Supervisor::changeInstance(std::string_view name, const std::string& instance,
                                             const std::string& command, Completion done) {
    const auto it = classes_.find(name);
    if (it == classes_.end()) {
        return {false, "Unknown job: " + std::string(name)};
    }
    const auto found = it->second->instances.find(instance);
    if (found == it->second->instances.end()) {
        return {false, "Unknown instance: " + instance};
    }
    Job& job = *found->second;
    if (command == "stop") {
        return stopInstance(job, std::move(done));
    }
    if (command == "start" && job.goal == Goal::Start) {
        return {false, "Job is already running: " + std::string(name)};
    }
    if (command == "restart" && job.goal == Goal::Stop) {
        return {false, "Job has already been stopped: " + std::string(name)};
    }
    if (done) {
        job.waiters.push_back(std::move(done));
    }
    if (command == "restart") {
        changeGoal(job, Goal::Stop);
    }
    changeGoal(job, Goal::Start);
    poll();
    return {};
}

bool Supervisor::holdEvent(std::uint64_t event_id) {
    const auto it = live_events_.find(event_id);
    if (it == live_events_.end() || it->second->progress == QueuedEvent::Progress::Finished) {
        return false;
    }
    ++it->second->blockers;
    return true;
}

void Supervisor::releaseEvent(std::uint64_t event_id) {
    if (const auto it = live_events_.find(event_id); it != live_events_.end()) {
        --it->second->blockers;
        poll();
    }
}

void Supervisor::setFileError(std::string_view name, std::string error) {
    if (const auto it = classes_.find(name); it != classes_.end()) {
        it->second->file_error = std::move(error);
    }
}

Supervisor::Reply Supervisor::stopInstance(Job& job, Completion done) {
    if (job.goal == Goal::Stop) {
        return {false, "Job has already been stopped: " + job.cls->name};
    }
    job.stop_events.clear();
    if (done) {
        job.waiters.push_back(std::move(done));
    }
    changeGoal(job, Goal::Stop);
    poll();
    return {};
}

Supervisor::Reply Supervisor::restart(std::string_view name, const std::vector<std::string>& env,
                                      Completion done, bool reload_definition) {
    std::string error;
    Job* job = findInstance(name, env, error);
    if (!job) {
        return {false, error};
    }
    if (job->goal == Goal::Stop) {
        return {false, "Job has already been stopped: " + std::string(name)};
    }
    if (reload_definition) {
        if (job->entry->deleted) {
            return {false, "Job file is gone, nothing to reload: " + std::string(name)};
        }
        job->adopt_new_definition = definitionChanged(*job);
    }
    if (done) {
        job->waiters.push_back(std::move(done));
    }
    changeGoal(*job, Goal::Stop);
    changeGoal(*job, Goal::Start);
    poll();
    return {};
}

Supervisor::Reply Supervisor::reload(std::string_view name, const std::vector<std::string>& env) {
    std::string error;
    Job* job = findInstance(name, env, error);
    if (!job) {
        return {false, error};
    }
    if (!job->mainPid()) {
        return {false, "Not running"};
    }
    platform_.signalProcess(job->mainPid(), job->cls->reload_signal);
    return {};
}

std::string Supervisor::statusText(const Job& job) const {
    std::string out = job.displayName() + " " + std::string(goalName(job.goal)) + "/" +
                      std::string(stateName(job.state));
    bool first = true;
    for (ProcessType type : model::kProcessTypes) {
        const pid_t pid = job.pids[slot(type)];
        if (!pid) {
            continue;
        }
        const std::string pid_text = std::to_string(pid);
        if (first) {
            if (type == ProcessType::Main || type == ProcessType::PreStart ||
                type == ProcessType::PostStop) {
                out += ", process " + pid_text;
            } else {
                out += ", (" + std::string(model::processTypeName(type)) + ") process " + pid_text;
            }
            first = false;
        } else {
            out += "\n\t" + std::string(model::processTypeName(type)) + " process " + pid_text;
        }
    }
    if (job.goal == Goal::Respawn && job.delay_timer) {
        out += ", respawn delay " + formatMillis(job.backoff_ms);
    }
    // Beyond Upstart, after the process lines' first line so that parsers of initctl's format
    // still find `, process PID` where they expect it.
    const auto newline = out.find('\n');
    std::string notes;
    if (job.entry->deleted) {
        notes += " [job file removed; runs until stopped]";
    } else if (definitionChanged(job)) {
        notes += " [definition changed; restart to apply: tendctl restart --reload " +
                 job.cls->name + "]";
    }
    if (!job.entry->file_error.empty()) {
        notes += fileErrorNote(job.entry->file_error);
    }
    out.insert(newline == std::string::npos ? out.size() : newline, notes);
    return out;
}

std::string Supervisor::statusOfClass(const ClassEntry& entry) const {
    if (entry.instances.empty()) {
        return entry.cls->name + " stop/waiting" +
               (entry.file_error.empty() ? "" : fileErrorNote(entry.file_error));
    }
    std::string out;
    for (const auto& [name, job] : entry.instances) {
        if (!out.empty()) {
            out += '\n';
        }
        out += statusText(*job);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Session end

bool Supervisor::idle() const {
    for (const auto& [name, entry] : classes_) {
        if (!entry->instances.empty()) {
            return false;
        }
    }
    return true;
}

void Supervisor::stopEverything(std::function<void()> on_idle) {
    ending_ = true;
    on_idle_ = std::move(on_idle);
    std::vector<Job*> jobs;
    for (auto& [name, entry] : classes_) {
        for (auto& [instance, job] : entry->instances) {
            jobs.push_back(job.get());
        }
    }
    for (Job* job : jobs) {
        // Helper processes that would hold the stop up (a pre-start that never ends) go too.
        for (ProcessType type : {ProcessType::PreStart, ProcessType::PostStart}) {
            if (const pid_t pid = job->pids[slot(type)]) {
                platform_.signalProcess(pid, job->cls->kill_signal);
                platform_.signalGroup(job->pgids[slot(type)], job->cls->kill_signal);
            }
        }
        changeGoal(*job, Goal::Stop);
    }
    poll();
}

void Supervisor::killEverything() {
    for (auto& [name, entry] : classes_) {
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
        }
    }
}

}  // namespace tend::dispatch
