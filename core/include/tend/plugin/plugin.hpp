// SPDX-License-Identifier: MIT
// The tend plugin SDK: the one header a plugin includes.
//
// A plugin is a shared library in a plugins.d directory. It declares itself with
// TEND_PLUGIN(...): a descriptor that tend reads from the file *before* loading it (so a plugin
// of the wrong API version, or one whose required plugins are missing, never runs any code),
// and a factory that tend calls with a PluginHost. Everything the plugin does with tend goes
// through the host, and every registration returns a Registration handle: dropping the handle,
// or the plugin, undoes it. tend destroys the plugin before it unloads the library.
//
// The types here are plain C++ (std::string, std::function); no Asio, Spirit or Boost.DLL type
// appears. Plugins must be built with the same compiler and standard library as tend (the
// descriptor's API version guards the layout of this header, not the toolchain).
//
// Threads: every callback runs on tend's one event loop thread. A plugin that runs work on a
// thread of its own hands results back with PluginHost::post(), the only thread-safe call.
// A callback that throws disables its plugin; one that blocks the loop past the budget is
// reported, and disabled after repeated overruns.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/dll/alias.hpp>  // for TEND_PLUGIN's BOOST_DLL_ALIAS only

// The API version the descriptor records: a literal so that the preprocessor can put it in the
// descriptor string. Bumped whenever this header changes incompatibly.
#define TEND_PLUGIN_API_VERSION 2

namespace tend::plugin {

inline constexpr int kApiVersion = TEND_PLUGIN_API_VERSION;

// An undo action: what a registration returns. Move-only; destroying it (or calling reset())
// unregisters.
class Registration {
  public:
    Registration() = default;
    explicit Registration(std::function<void()> undo) : undo_(std::move(undo)) {}
    Registration(Registration&& other) noexcept : undo_(std::move(other.undo_)) {
        other.undo_ = nullptr;
    }
    Registration& operator=(Registration&& other) noexcept {
        if (this != &other) {
            reset();
            undo_ = std::move(other.undo_);
            other.undo_ = nullptr;
        }
        return *this;
    }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration() { reset(); }
    void reset() {
        if (auto undo = std::move(undo_)) {
            undo_ = nullptr;
            undo();
        }
    }
    explicit operator bool() const { return static_cast<bool>(undo_); }

  private:
    std::function<void()> undo_;
};

// An event as tend handles it: a name and an ordered KEY=VALUE environment.
struct EventView {
    std::uint64_t id = 0;
    std::string_view name;
    const std::vector<std::string>* env = nullptr;
    // The value of KEY, or empty.
    std::string_view get(std::string_view key) const {
        if (env) {
            for (const auto& entry : *env) {
                if (entry.size() > key.size() && entry.compare(0, key.size(), key) == 0 &&
                    entry[key.size()] == '=') {
                    return std::string_view(entry).substr(key.size() + 1);
                }
            }
        }
        return {};
    }
};

// A job instance's goal or state change. A goal-only change (`tendctl stop` on a running job,
// before it starts stopping) has previous_goal != goal and previous_state == state; an instance
// that existed before the plugin subscribed is replayed with both unchanged.
struct JobChange {
    std::string_view job;
    std::string_view instance;
    std::string_view goal;   // "start", "stop", "respawn"
    std::string_view state;  // "waiting", "starting", ... "running", ... "post-stop"
    std::string_view previous_state;
    int main_pid = 0;
    std::string_view previous_goal;
    // How the main process last ended, as `status` says it ("exited 1", "killed by SIGSEGV"),
    // empty while it has not; `exit_code` is its exit status, or -1 when a signal ended it or it
    // has not ended. `failed` with the reason once the instance failed (the respawn limit was
    // reached, a hook failed, ...), as `explain` says it.
    std::string_view last_exit;
    int exit_code = -1;
    bool failed = false;
    std::string_view failure_reason;
};

// An instance as it stands now (API 2, PluginHost::instances()).
struct InstanceView {
    std::string job;
    std::string instance;
    std::string goal;
    std::string state;
    int main_pid = 0;
    int respawns = 0;
    std::string last_exit;  // as in JobChange
    int exit_code = -1;
    bool failed = false;
    std::string failure_reason;
};

// One line of tend's own log, as a log sink sees it (API 2, PluginHost::onTendLog).
struct TendLogLine {
    int level = 1;  // 0 debug, 1 info, 2 warning, 3 error, 4 critical
    std::string_view text;
    std::chrono::system_clock::time_point time;
};

// One MATCH of a job's `start on` or `stop on`: `file FILE=~/Mail/new/* EVENT=create`.
struct EventMatch {
    std::string event;
    struct Argument {
        std::string key;  // empty for a positional operand
        std::string value;
        bool negated = false;  // KEY!=VALUE
    };
    std::vector<Argument> args;
    bool stop = false;  // from `stop on` rather than `start on`
};

// A job class as plugins see it. Bridges read `matches` to learn what to watch.
struct JobClassView {
    std::string name;
    std::vector<EventMatch> matches;  // every MATCH of start on and stop on
    // The plugin stanzas in the job file: keyword -> the arguments of each occurrence.
    std::map<std::string, std::vector<std::vector<std::string>>> stanzas;
    // The events of `matches` named `event`, e.g. every "file" the job waits for.
    std::vector<const EventMatch*> matchesFor(std::string_view event) const {
        std::vector<const EventMatch*> out;
        for (const auto& match : matches) {
            if (match.event == event) {
                out.push_back(&match);
            }
        }
        return out;
    }
};

enum class ClassChange { Added, Changed, Removed };

enum class OutputStream : unsigned char { Stdout, Stderr };

// Lines a job wrote (with `console log` or `console journal`), as an output sink sees them: whole
// lines without their newline, in the order the job wrote them to one stream. A line longer
// than 64 KiB arrives in pieces: every piece but the last `continuesAt` its index.
struct OutputLines {
    std::string_view job;
    std::string_view instance;                   // empty for a job without `instance`
    std::chrono::system_clock::time_point time;  // when tend read them
    const std::vector<std::string>* lines = nullptr;
    // API 2 (after the fields above, so that a sink built before still reads those):
    OutputStream stream = OutputStream::Stdout;    // every line of a batch comes from one stream
    const std::vector<bool>* continues = nullptr;  // per line; missing entries are false
    // False for lines of a job whose output a carrier takes (carryJournalConsole): the job's
    // log file does not have them. A carrier that cannot pass them on gives them back with
    // writeJobLog(), so that none is lost.
    bool in_log_file = true;

    bool continuesAt(std::size_t index) const {
        return continues && index < continues->size() && (*continues)[index];
    }
};

// A control command a plugin serves: `tendctl NAME ARGS...` reaches it. The reply's text is
// what tendctl prints; `ok` false makes it an error (exit status 1).
struct CommandReply {
    bool ok = true;
    std::string text;
    std::string json = "{}";  // the reply's data for --json, as JSON text
};

// Who runs a plugin's command, and how (API 2).
struct CommandCall {
    std::vector<std::string> args;  // as the user typed them after the command's name
    unsigned uid = 0;               // the client's (tend accepts only its own user)
    int pid = 0;
    // The job whose process ran tendctl (tendctl forwards $TEND_JOB or $UPSTART_JOB, and the
    // instance), or empty: initctl's env commands act on that instance's table by default.
    std::string job;
    std::string instance;
    bool json = false;  // the client prints the reply's JSON data rather than its text
};

// Answers a command: call it once, at once or later, on any thread (the answer reaches the
// client from tend's loop). A command whose responder is dropped without being called answers
// the client with an error.
using CommandResponder = std::function<void(CommandReply)>;

enum class LogLevel { Debug, Info, Warn, Error };

// A job log grew across a multiple of the step a plugin asked for (API 2).
struct LogGrowth {
    std::string_view path;  // the log file's full path
    std::string_view job;
    std::string_view instance;
    std::uint64_t size = 0;  // bytes in the file now
};

// Where a job environment variable's value came from (API 2): `kind` is "session" (imported
// from tend's own environment), "environment.d", "set-env", "plugin", "env stanza", "event" or
// "start" (`tendctl start JOB KEY=VALUE`); `detail` says more (a file:line, an event's name).
// A set-env run inside a job's process names that instance and the process that asked.
struct EnvironmentOrigin {
    std::string kind;
    std::string detail;
    std::string job;
    std::string instance;
    int pid = 0;
    std::chrono::system_clock::time_point time{};  // when tend recorded it (set by tend)
};

class PluginHost {
  public:
    virtual ~PluginHost() = default;

    // Who the plugin is, and its settings from plugins.d/<name>.conf (`setting KEY VALUE`).
    virtual std::string_view pluginName() const = 0;
    virtual std::string setting(std::string_view key, std::string_view fallback = {}) const = 0;

    // Logs under the plugin's own category: "tend[pid] info: [name] text".
    virtual void log(LogLevel level, std::string_view text) = 0;

    // Events. emit() queues an event as `tendctl emit` would; `done(failed)` runs when it has
    // finished (every job it started or stopped has settled).
    virtual void emit(std::string name, std::vector<std::string> env,
                      std::function<void(bool failed)> done = {}) = 0;
    virtual Registration onEvent(std::function<void(const EventView&)> callback) = 0;
    // Holds the event being handled (from an onEvent callback) from finishing until the
    // returned registration is reset: the emitter waits for the plugin.
    virtual Registration holdEvent(std::uint64_t event_id) = 0;

    // Called for every instance that exists already, then as goals and states change.
    virtual Registration onJobChange(std::function<void(const JobChange&)> callback) = 0;
    // Called for every class already loaded, then as classes are added, changed and removed.
    virtual Registration onJobClass(
        std::function<void(ClassChange, const JobClassView&)> callback) = 0;

    // The event loop. Callbacks run on tend's loop thread. `ready(Readable)` is called whenever
    // the descriptor is readable, for as long as the watch asks for it; `ready(Writable)` once,
    // when it becomes writable, after which the watch no longer asks for Writable (a socket is
    // writable nearly always: asking again each time would spin). updateFdWatch() sets what the
    // watch of `fd` asks for, Writable again when there is more to write, without a second
    // registration (API 2); false if this plugin watches no such fd.
    enum FdEvent : unsigned { Readable = 1, Writable = 2 };
    virtual Registration watchFd(int fd, unsigned events, std::function<void(unsigned)> ready) = 0;
    virtual Registration addTimer(std::chrono::milliseconds delay, std::function<void()> fire,
                                  bool repeat = false) = 0;
    // Thread-safe: runs `work` on the loop thread soon (not after the plugin is gone).
    virtual void post(std::function<void()> work) = 0;

    // A stanza job files may use, `KEYWORD ARGS...` (a job behaviour). `check(args)` returns
    // what is wrong with the arguments, or an empty string; tend reports it at the stanza's
    // file:line:col like any other error. Jobs' values reach the plugin in JobClassView::stanzas.
    // A KEYWORD of two words (`log rotate`) adds a sub-stanza beside a core stanza (`log
    // timestamp`): `log rotate size 1M` reaches it with the arguments after `rotate`.
    // When the plugin goes, job files that use the stanza report "needs plugin NAME" and keep
    // their last good definition.
    virtual Registration addStanza(
        std::string keyword, std::function<std::string(const std::vector<std::string>&)> check) = 0;

    // An output sink: sees the output of every job that tend captures (`console log`), a batch
    // at a time, on the loop thread, shortly after tend read it. The job's log file is written
    // as before. A sink that falls more than 8 MiB behind misses lines (tend logs how many);
    // the log files never do.
    virtual Registration addOutputSink(std::function<void(const OutputLines&)> sink) = 0;

    // `tendctl NAME ...` served by this plugin (API 2): `run` learns who called, and answers
    // through the responder, at once or later.
    virtual Registration serveCommand(
        std::string name, std::function<void(const CommandCall&, CommandResponder)> run) = 0;
    // A command that answers at once from its arguments alone.
    Registration addCommand(std::string name,
                            std::function<CommandReply(const std::vector<std::string>&)> run) {
        return serveCommand(std::move(name), [run = std::move(run)](const CommandCall& call,
                                                                    CommandResponder reply) {
            reply(run(call.args));
        });
    }

    // The job environment (API 2). Without a job: the global table, which every job starts
    // with; with one: that running instance's own table, which its later processes inherit.
    // The tables are tend's: a plugin that changes them and goes leaves them as they are.
    // environment() is nullopt for an instance that does not run. setEnvironment takes
    // `KEY=VALUE` entries (`KEY` alone: an empty value; `retain` keeps a value that is there
    // already) and unsetEnvironment names. Both take all of them or none, and return the error
    // text ("No such variable: X", "invalid variable name ...") or, on success, nothing.
    virtual std::optional<std::vector<std::string>> environment(
        std::string_view job = {}, std::string_view instance = {}) const = 0;
    virtual std::string setEnvironment(const std::vector<std::string>& entries, bool retain,
                                       std::string_view job = {},
                                       std::string_view instance = {}) = 0;
    virtual std::string unsetEnvironment(const std::vector<std::string>& names,
                                         std::string_view job = {},
                                         std::string_view instance = {}) = 0;
    // Back to the global table tend started with.
    virtual void resetEnvironment() = 0;
    // Expands `$VAR`, `${VAR:-default}` and the like against the global table, by the rules
    // the supervisor uses for `start on` operands, and a leading `~` (which those do not take)
    // to $HOME; nullopt when a plain `$VAR` is unset.
    virtual std::optional<std::string> expand(std::string_view text) const = 0;

    // Services: typed interfaces other plugins find by name. The providing plugin declares the
    // type in a header of its own (by convention `<name>_public.hpp`) that users include.
    virtual Registration provideService(std::string name, void* service) = 0;
    virtual void* findService(std::string_view name) const = 0;
    template <typename T>
    T* service(std::string_view name) const {
        return static_cast<T*>(findService(name));
    }

    // Log files (API 2). Job output goes to `<logDirectory()>/<job>[-<instance>].log` (a `/` in
    // the name becomes `_`); logFile() gives that full path. tendLogFile() is tend's own log
    // (`--log-file`), or empty when tend logs to stderr.
    virtual std::string logDirectory() const = 0;
    virtual std::string logFile(std::string_view job, std::string_view instance = {}) const = 0;
    virtual std::string tendLogFile() const = 0;
    // The rotation handshake. `rename(path)` runs on the writer's thread (the job log router's,
    // or under tend's log lock) between two writes to the file at `path`, a job log or tend's
    // own; it must only rename files, quickly, and return an error text or nothing. The next
    // write then opens a new file at `path`, so no line is lost, doubled or split between the
    // two files, and a quiet job does not keep the renamed file open. `done(error)` runs on the
    // loop afterwards. A path nobody writes now is renamed all the same.
    virtual void rotateLog(std::string path, std::function<std::string(const std::string&)> rename,
                           std::function<void(std::string error)> done) = 0;
    // Calls `grown` whenever a job log grows across a multiple of `step` bytes (at least that
    // often: with several plugins asking, the smallest step wins), on the loop thread.
    virtual Registration onLogGrowth(std::uint64_t step,
                                     std::function<void(const LogGrowth&)> grown) = 0;

    // Where values come from (API 2). setEnvironmentFrom is setEnvironment that records the
    // origin of what it sets (setEnvironment records the plugin). environmentOrigin tells where
    // the value a table holds came from: the global table's (no job) or a running instance's,
    // whose own layers (its `env` stanza, the events or start command that started it, its own
    // set-env) come before the global table; nullopt when the table lacks the variable.
    virtual std::string setEnvironmentFrom(const EnvironmentOrigin& origin,
                                           const std::vector<std::string>& entries, bool retain,
                                           std::string_view job = {},
                                           std::string_view instance = {}) = 0;
    virtual std::optional<EnvironmentOrigin> environmentOrigin(
        std::string_view name, std::string_view job = {}, std::string_view instance = {}) const = 0;
    // How a running instance's main process's environment differs from what it would get if it
    // started now, because the global table changed since: "-KEY=OLD" and "+KEY=NEW" entries,
    // sorted by name. Variables the instance's own layers set, or it set in the global table
    // itself, do not count. nullopt when no such instance runs.
    virtual std::optional<std::vector<std::string>> environmentDrift(
        std::string_view job, std::string_view instance = {}) const = 0;

    // See watchFd (API 2).
    virtual bool updateFdWatch(int fd, unsigned events) = 0;

    // Runs a control command as tendctl does, through the same command table (API 2): `command`
    // is its name ("start", "status", "list", "emit", "set-env", "reload-configuration", ...),
    // `args` what tendctl would send after it, `options` its options as a JSON object text
    // ("{}" for none; {"no_wait": true} is `start -n`). `done` runs on the loop, once, with the
    // reply `tendctl --json` gets: `ok`, `text` (what tendctl prints) and `json` (the data).
    // Commands that stream (monitor, log -f) are refused.
    virtual void runControlCommand(std::string command, std::vector<std::string> args,
                                   std::string options,
                                   std::function<void(const CommandReply&)> done) = 0;
    // Every job instance there is now, in the order `tendctl list` shows them.
    virtual std::vector<InstanceView> instances() const = 0;
    // Each line tend logs from now on, at or above tend's log level, on the loop thread (soon
    // after it is logged: a line logged on another thread is passed on through the loop). What
    // the plugin logs from inside the sink is not fed back to it.
    virtual Registration onTendLog(std::function<void(const TendLogLine&)> sink) = 0;

    // Makes the plugin a carrier of `console journal` output (API 2): while a carrier is
    // registered, the output of jobs with `console journal` (and, with `by_default`, of jobs
    // without a console stanza) reaches the output sinks with `in_log_file` false and is not
    // written to the job's log file. tend writes it to the file still when no carrier is
    // registered, and when the sinks fall more than 8 MiB behind.
    virtual Registration carryJournalConsole(bool by_default) = 0;
    // Appends `lines`, each with a newline, to the job instance's log file, as if the job had
    // written them now (API 2): for carried lines the carrier could not pass on. Thread-safe.
    virtual void writeJobLog(std::string_view job, std::string_view instance,
                             std::vector<std::string> lines) = 0;

    // Re-exec (`tendctl reexec`, API 2): `save` runs on the loop just before tend replaces
    // itself, before the plugin's stop(); the bytes it returns reach the same plugin (by name)
    // in the next tend as carriedState(), from its factory until its start() has returned. Not
    // called when tend ends the session. A plugin keeps what it needs to go on where it was:
    // timers' deadlines, counters; what it can read again (its settings) it reads again.
    virtual Registration onReexec(std::function<std::string()> save) = 0;
    // What this plugin's onReexec returned in the tend before; nothing after a fresh start or a
    // state the next tend could not read.
    virtual std::optional<std::string> carriedState() const = 0;
};

class Plugin {
  public:
    virtual ~Plugin() = default;
    // Called once every plugin it requires has started. Throwing fails the plugin.
    virtual void start() {}
    // Called before destruction, in reverse start order.
    virtual void stop() {}
};

using Factory = std::unique_ptr<Plugin>(PluginHost&);

}  // namespace tend::plugin

#define TEND_PLUGIN_STRINGIFY2(x) #x
#define TEND_PLUGIN_STRINGIFY(x) TEND_PLUGIN_STRINGIFY2(x)

// Declares the plugin. NAME and VERSION are string literals; REQUIRES, OPTIONAL and PROVIDES
// comma-separated lists in one string literal ("" for none). FACTORY is a function
// `std::unique_ptr<tend::plugin::Plugin> f(tend::plugin::PluginHost&)`.
//
// The descriptor is a string in its own ELF section, `.tend_plugin`, which tend reads from the
// file without loading it.
#define TEND_PLUGIN(NAME, VERSION, REQUIRES, OPTIONAL, PROVIDES, FACTORY)                          \
    extern "C" __attribute__((section(".tend_plugin"), used, visibility("default")))             \
    const char tend_plugin_descriptor_v1[] =                                                     \
        "tend-plugin\n"                                                                          \
        "name=" NAME "\n"                                                                        \
        "version=" VERSION "\n"                                                                  \
        "api=" TEND_PLUGIN_STRINGIFY(TEND_PLUGIN_API_VERSION) "\n"                               \
        "requires=" REQUIRES "\n"                                                                \
        "optional=" OPTIONAL "\n"                                                                \
        "provides=" PROVIDES "\n"; \
    namespace {                                                                                    \
    std::unique_ptr<tend::plugin::Plugin> tend_plugin_factory_impl(                                \
        tend::plugin::PluginHost& host) {                                                          \
        return FACTORY(host);                                                                      \
    }                                                                                              \
    }                                                                                              \
    BOOST_DLL_ALIAS(tend_plugin_factory_impl, tend_plugin_factory_v1)

// Declares the events the plugin emits: a comma-separated list of event names or fnmatch globs in
// one string literal, e.g. TEND_PLUGIN_EMITS("file"). Optional, at most once, beside TEND_PLUGIN.
// tend reads it from the file as it reads the descriptor, so that `tendctl check-config` and
// `tendctl explain` know a condition on these events waits for a plugin that is loaded, and say
// which plugin it needs when it is not.
#define TEND_PLUGIN_EMITS(EVENTS)                                                    \
    extern "C" __attribute__((section(".tend_plugin"), used, visibility("default"))) \
    const char tend_plugin_emits_v1[] =                                              \
        "tend-plugin-emits\n"                                                        \
        "emits=" EVENTS "\n";
