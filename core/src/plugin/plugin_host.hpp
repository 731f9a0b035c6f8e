// SPDX-License-Identifier: MIT
// The PluginHost a plugin is given: every call a plugin makes into tend, each registration a
// handle that undoes it, and every call back into the plugin guarded (fault_guard.hpp). Its
// destruction removes whatever the plugin left registered.
#pragma once

#include <spdlog/spdlog.h>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "conf/stanza_registry.hpp"
#include "dispatch/supervisor.hpp"
#include "plugin/fault_guard.hpp"
#include "plugin/job_class_view.hpp"
#include "plugin/plugin_manager.hpp"
#include "plugin/plugin_record.hpp"
#include "plugin/subscribers.hpp"

namespace tend::plugin {

class PluginManager::Host final : public PluginHost {
  public:
    Host(PluginManager& manager, PluginRecord& record) : manager_(manager), record_(record) {}
    ~Host() override;

    std::string_view pluginName() const override { return record_.descriptor.name; }
    std::string setting(std::string_view key, std::string_view fallback) const override;

    void log(LogLevel level, std::string_view text) override;

    void emit(std::string name, std::vector<std::string> env,
              std::function<void(bool)> done) override;

    Registration onEvent(std::function<void(const EventView&)> callback) override;

    Registration holdEvent(std::uint64_t event_id) override;

    Registration onJobChange(std::function<void(const JobChange&)> callback) override;

    Registration onJobClass(
        std::function<void(ClassChange, const JobClassView&)> callback) override;

    // fd_watches.cpp
    Registration watchFd(int fd, unsigned events, std::function<void(unsigned)> ready) override;
    bool updateFdWatch(int fd, unsigned events) override;

    Registration addTimer(std::chrono::milliseconds delay, std::function<void()> fire,
                          bool repeat) override;

    void post(std::function<void()> work) override;

    Registration addStanza(
        std::string keyword,
        std::function<std::string(const std::vector<std::string>&)> check) override;

    Registration addOutputSink(std::function<void(const OutputLines&)> sink) override;

    Registration serveCommand(
        std::string name, std::function<void(const CommandCall&, CommandResponder)> run) override;

    std::optional<std::vector<std::string>> environment(std::string_view job,
                                                        std::string_view instance) const override;
    std::string setEnvironment(const std::vector<std::string>& entries, bool retain,
                               std::string_view job, std::string_view instance) override;
    std::string unsetEnvironment(const std::vector<std::string>& names, std::string_view job,
                                 std::string_view instance) override;
    void resetEnvironment() override;
    std::optional<std::string> expand(std::string_view text) const override;

    Registration provideService(std::string name, void* service) override;

    void* findService(std::string_view name) const override;

    // Log files (log_files.cpp).
    std::string logDirectory() const override;
    std::string logFile(std::string_view job, std::string_view instance) const override;
    std::string tendLogFile() const override;
    void rotateLog(std::string path, std::function<std::string(const std::string&)> rename,
                   std::function<void(std::string error)> done) override;
    Registration onLogGrowth(std::uint64_t step,
                             std::function<void(const LogGrowth&)> grown) override;

    // Provenance (environment_origins.cpp).
    std::string setEnvironmentFrom(const EnvironmentOrigin& origin,
                                   const std::vector<std::string>& entries, bool retain,
                                   std::string_view job, std::string_view instance) override;
    std::optional<EnvironmentOrigin> environmentOrigin(std::string_view name, std::string_view job,
                                                       std::string_view instance) const override;
    std::optional<std::vector<std::string>> environmentDrift(
        std::string_view job, std::string_view instance) const override;

    // Control, instances and tend's own log (host_control.cpp).
    void runControlCommand(std::string command, std::vector<std::string> args, std::string options,
                           std::function<void(const CommandReply&)> done) override;
    std::vector<InstanceView> instances() const override;
    Registration onTendLog(std::function<void(const TendLogLine&)> sink) override;
    Registration carryJournalConsole(bool by_default) override;
    void writeJobLog(std::string_view job, std::string_view instance,
                     std::vector<std::string> lines) override;

    // Re-exec (host_control.cpp).
    Registration onReexec(std::function<std::string()> save) override;
    std::optional<std::string> carriedState() const override;

  private:
    // The running instance a plugin names, or null with the reason in `error`.
    dispatch::Job* instanceOf(std::string_view job, std::string_view instance,
                              std::string& error) const;
    // Job files that use the keyword now say they need this plugin; they are all read again.
    void retireStanza(const std::string& keyword);

    Registration undo(std::function<void()> action);
    struct FdWatch;  // fd_watches.cpp
    void armFdWatch(const std::shared_ptr<FdWatch>& watch, unsigned which);
    void dropFdWatches();
    // Rotations a writer's thread has yet to run or report: their callbacks are the plugin's
    // code, dropped (under their lock) before the plugin's library goes.
    struct PendingRotation;
    void dropRotations();

    PluginManager& manager_;
    PluginRecord& record_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::uint64_t next_id_ = 0;
    std::map<std::uint64_t, std::shared_ptr<FdWatch>> fd_watches_;
    std::map<std::uint64_t, std::shared_ptr<boost::asio::steady_timer>> timers_;
    // A timer's callback and its re-arming. Only this map holds them: what waits on the loop
    // holds weak references, since a cancelled wait is handled (and destroyed) after the
    // plugin's library may have gone.
    struct TimerState;
    std::map<std::uint64_t, std::shared_ptr<TimerState>> timer_states_;
    // Posted work and control replies, the plugin's code, kept here for the same reason until
    // they run; post() is called from the plugin's threads.
    template <class Callable>
    std::shared_ptr<Callable> keep(Callable callable) {
        auto kept = std::make_shared<Callable>(std::move(callable));
        std::lock_guard lock(kept_mutex_);
        kept_.insert(kept);
        return kept;
    }
    void release(const std::shared_ptr<void>& callable);
    std::mutex kept_mutex_;
    std::set<std::shared_ptr<void>> kept_;
    std::set<std::uint64_t> held_;
    std::set<std::string> stanzas_;  // keywords this plugin added to the registry
    std::set<std::shared_ptr<PendingRotation>> rotations_;
};

}  // namespace tend::plugin
