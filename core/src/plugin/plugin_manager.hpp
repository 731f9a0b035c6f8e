// SPDX-License-Identifier: MIT
// The plugin manager: finds plugins in the plugins.d directories, reads their descriptors without
// loading them, refuses what it cannot trust or run (with the reason), starts the rest in
// dependency order and stops them in reverse. Copying a .so into a plugins.d directory loads it,
// replacing one restarts it on the new code, removing one unloads it.
//
// Fault isolation, in-process: every call into plugin code (factory, start, stop, callbacks) is
// guarded; a plugin that throws is disabled and its registrations removed, and one that blocks
// the loop past the budget is reported and, after repeated overruns, disabled. A plugin that
// crashes the process cannot be survived in-process: see docs/plugins.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "conf/event_sources.hpp"
#include "log/log_rotation.hpp"
#include "log/output_router.hpp"
#include "log/tend_log_tap.hpp"
#include "plugin/plugin_status.hpp"
#include "sys/asio.hpp"
#include "sys/inotify_reader.hpp"
#include "tend/plugin/plugin.hpp"

namespace spdlog {
class logger;
}

namespace tend::dispatch {
class Supervisor;
}

namespace tend::conf {
class StanzaRegistry;
}

namespace tend::plugin {

struct PluginRecord;
struct Subscribers;

struct PluginManagerOptions {
    std::vector<std::filesystem::path> dirs;
    // Where plugins add job-file stanzas, and what to call once they did (or took them away):
    // the job files are read again.
    conf::StanzaRegistry* stanzas = nullptr;
    std::function<void()> stanzas_changed;
    // Where job output can be tapped for output sinks: called with a tap while any plugin has a
    // sink, and with an empty one when none has.
    std::function<void(log::OutputTap)> set_output_tap;
    // Whether a carrier of `console journal` output runs (and takes jobs without a console
    // stanza too), and where carried lines go back to a job's log file.
    std::function<void(bool present, bool by_default)> set_carrier;
    std::function<void(std::string path, std::vector<std::string> lines)> append_job_log;
    // The log files plugins may rotate: the job log directory, tend's own log file (empty: it
    // logs to stderr), the handshake that rotates either by its path, and where job logs'
    // growth can be tapped (step 0 and no tap: stop).
    std::filesystem::path log_dir;
    std::string tend_log_file;
    std::function<void(std::string path, log::RenameStep, log::RotationDone)> rotate_log;
    std::function<void(std::uint64_t step, log::GrowthTap)> set_growth_tap;
    // tend's own log lines for log sinks: called with a tap while any plugin has a sink, and
    // with an empty one when none has.
    std::function<void(log::TendLogTap::Tap)> set_log_tap;
    // Runs a control request (as tendctl would send it) through the control server; `reply`
    // gets its final reply, on the loop.
    std::function<void(nlohmann::json request, std::function<void(nlohmann::json)> reply)>
        run_control;
    bool watch = true;
    std::chrono::milliseconds callback_budget{100};
    int overruns_allowed = 3;
    // A call into a plugin that has not returned after `hang_limit` (zero: never looked at):
    // `on_hang(plugin, what)` runs on a thread of its own while the loop is held
    // (plugin/hang_watch.hpp).
    std::chrono::milliseconds hang_limit{0};
    std::function<void(const std::string& plugin, const std::string& what)> on_hang;
    // Plugins not to load, by name, each with the reason `tendctl plugins` gives.
    std::map<std::string, std::string> refused;
};

// The clock that times calls into plugins. Their budget is 100 ms, so the coarse monotonic
// clock (a few ms of resolution, a fraction of the fine one's cost) is precise enough, and it
// is read on every call into a plugin.
struct GuardClock {
    using duration = std::chrono::nanoseconds;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<GuardClock>;
    static constexpr bool is_steady = true;
    static time_point now() noexcept;
};

class HangWatch;

class PluginManager {
  public:
    PluginManager(boost::asio::io_context& io, dispatch::Supervisor& supervisor,
                  std::shared_ptr<spdlog::logger> logger, PluginManagerOptions options);
    ~PluginManager();
    PluginManager(const PluginManager&) = delete;
    PluginManager& operator=(const PluginManager&) = delete;

    // Loads every plugin and starts watching the directories.
    void start();
    // Stops every plugin in reverse start order and unloads them.
    void stopAll();
    // After stopAll: loads every plugin again (a re-exec that did not happen).
    void startAgain();
    // Re-exec: what each running plugin's onReexec saver returns, by plugin name; and, in the
    // next tend before start(), what they returned, for their carriedState() until each has
    // started.
    std::map<std::string, std::string> saveForReexec();
    void setCarriedStates(std::map<std::string, std::string> states) {
        carried_ = std::move(states);
    }
    std::optional<std::string> carriedState(const std::string& plugin) const;
    // Re-reads the directories: loads new plugins, restarts replaced ones, unloads removed ones.
    void rescan();

    std::vector<PluginStatus> status() const;
    // The plugins that run, and the events each declares.
    std::vector<conf::PluginEvents> loadedEvents() const;

    // A control command a plugin serves; false when no plugin serves `name`.
    // `reply` is called once: with the plugin's answer, or with an error when the plugin
    // fails, goes, or drops the responder without answering.
    bool runCommand(const std::string& name, const CommandCall& call, CommandResponder reply);

    // The call into a plugin tend's loop is in (nothing when the hang watch is off): for a
    // fatal signal's handler on the loop's thread, which may read nothing else.
    struct CurrentCall {
        const std::string* plugin = nullptr;  // null: none
        const char* what = nullptr;
    };
    CurrentCall currentCall() const noexcept;

    class Host;

  private:
    void load(const std::vector<std::filesystem::path>& files);
    // Every plugin of every directory (a directory that could not be listed: again later).
    void loadEverything();
    bool startRecord(PluginRecord& record);
    void stopRecord(PluginRecord& record, PluginState state, const std::string& reason);
    void fail(PluginRecord& record, const std::string& what);
    // Calls into the plugin: a throw disables it, an overrun of the budget counts against it.
    // `mark`, when given, is the time the call starts, and is set to the time it ended: a
    // fan-out reads the clock once per callback instead of twice.
    template <typename Fn>
    bool guarded(PluginRecord& record, const char* what, Fn&& fn,
                 GuardClock::time_point* mark = nullptr);
    // The plugin files of every directory; a directory that cannot be listed for want of
    // descriptors or memory is added to `cut_short`.
    std::vector<std::filesystem::path> scan(std::set<std::filesystem::path>* cut_short) const;
    // What a shortage of descriptors or memory kept from loading is loaded by a rescan after
    // kShortageRetry; a plugin it struck is marked failed, saying so, until then.
    static constexpr std::chrono::seconds kShortageRetry{1};
    void retrySoon();
    void deferForShortage(PluginRecord& record);
    std::filesystem::path confPath(const std::filesystem::path& plugin,
                                   const std::string& name) const;
    void watchDirectories();
    void rewatch();
    void stanzasChanged();
    void updateOutputTap();
    void deliverOutput(const log::CapturedLines& batch);
    void updateCarrier();
    void updateGrowthTap();
    void deliverGrowth(const log::LogGrowth& growth);
    void onDirectoryEvents(const sys::InotifyBatch& batch);
    void updateTendLogTap();
    void deliverTendLog(int level, const std::string& text,
                        std::chrono::system_clock::time_point time);
    // Has the supervisor handle what plugins emitted once the plugin's call has returned: the
    // jobs an event starts are spawned on tend's time, not counted against the plugin's budget,
    // where a burst of 40 file events with a job each got file-bridge disabled.
    void pollSoon();

    boost::asio::io_context& io_;
    dispatch::Supervisor& supervisor_;
    std::shared_ptr<spdlog::logger> logger_;
    PluginManagerOptions options_;
    std::unique_ptr<HangWatch> hang_watch_;               // null: calls are not watched
    std::vector<std::unique_ptr<PluginRecord>> records_;  // in start order
    std::map<std::string, std::string> carried_;          // from the tend before a re-exec
    std::unique_ptr<Subscribers> subscribers_;
    std::uint64_t observer_ids_[3] = {0, 0, 0};
    sys::InotifyReader inotify_;
    // What each watch descriptor watches: a plugins.d, or an ancestor of one that does not exist
    // yet, where only the directories on the way to it (`awaited`) matter.
    struct DirectoryWatch {
        std::filesystem::path path;
        bool is_plugin_dir = false;
        std::set<std::string> awaited;
    };
    std::map<int, DirectoryWatch> watches_;
    std::map<std::filesystem::path, std::filesystem::path> watch_targets_;  // plugins.d -> watched
    boost::asio::steady_timer rescan_timer_;
    boost::asio::steady_timer retry_timer_;
    bool retry_pending_ = false;
    bool stanzas_pending_ = false;
    bool tapping_ = false;
    bool tapping_log_ = false;
    bool poll_posted_ = false;
    std::uint64_t growth_step_ = 0;           // what the router's growth tap was set to
    std::map<std::uint64_t, bool> carriers_;  // registration id -> takes jobs by default
    struct OutputBacklog;
    std::shared_ptr<OutputBacklog> output_backlog_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace tend::plugin
