// SPDX-License-Identifier: MIT
// The handlers of the commands in the command table, and what they work with: the supervisor,
// the job-file store, the plugins' hooks and the server's state, without the socket. Each
// answers through its Replier, at once or when what it waits for has settled.
//
//   job_commands.cpp     start, stop (one instance or --all), restart, reload (the signal),
//                        status, list, usage, explain, log
//   event_commands.cpp   emit, monitor
//   config_commands.cpp  show-config, check-config, reload-configuration (a rescan), graph,
//                        log-priority, plugins, version
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "conf/event_sources.hpp"
#include "control/reply.hpp"

namespace spdlog {
class logger;
}

namespace tend::dispatch {
class Supervisor;
struct ClassEntry;
}  // namespace tend::dispatch

namespace tend::store {
class JobStore;
}

namespace tend::control {

// A command no handler serves, as it goes to the plugins.
struct PluginCall {
    std::string name;
    std::vector<std::string> args;
    Peer peer;
    std::string job;  // the job whose process ran tendctl, and its instance (tendctl says)
    std::string instance;
    bool json = false;  // the client prints the reply's data
};

// What the daemon hands the control server.
struct ControlContext {
    dispatch::Supervisor* supervisor = nullptr;
    store::JobStore* store = nullptr;  // null: reload-configuration is refused
    std::shared_ptr<spdlog::logger> logger;
    std::string version;
    std::string log_dir;  // where job logs go, for `tendctl log`
    // What plugins add, wired by the daemon (control/ does not know plugins): the answer to
    // `tendctl plugins`, and a plugin's own command, answered through `reply` now or later
    // (false when no plugin serves the name).
    std::function<CommandResult()> plugin_list;
    std::function<bool(const PluginCall& call, std::function<void(CommandResult)> reply)>
        plugin_command;
    // The plugins that run and the events they declare, for check-config and explain; unset,
    // the standard plugins' events are taken as given.
    std::function<std::vector<conf::PluginEvents>()> plugin_events;
    // Looks at the plugin directories again, for reload-configuration.
    std::function<void()> rescan_plugins;
    // `reexec`: replaces tend with `binary` (empty: its own); the next tend answers on
    // `client_fd`, and `reply(ok, text)` only when the re-exec does not happen. Unset: refused.
    std::function<void(std::string binary, int client_fd,
                       std::function<void(bool ok, const std::string& text)> reply)>
        reexec;
};

class BackgroundChecks;

// What a handler works with: the context and the server's state that commands change.
struct CommandContext {
    ControlContext& context;
    dispatch::Supervisor& supervisor;
    std::vector<std::weak_ptr<Client>>& monitors;  // `monitor` clients
    std::string& priority_name;                    // as last set by log-priority
    BackgroundChecks* checks = nullptr;  // check-config's thread; null without a job store
};

using CommandHandler = void (*)(CommandContext&, Request&, const Replier&,
                                const std::shared_ptr<Client>&);

// Name -> handler, for every command in the command table (a test holds the two equal).
const std::unordered_map<std::string_view, CommandHandler>& commandHandlers();

// The class a job command names, or nothing after replying with the error.
const dispatch::ClassEntry* needJob(CommandContext& c, const Request& request,
                                    const Replier& reply);

namespace commands {

void changeGoal(CommandContext&, Request&, const Replier&, const std::shared_ptr<Client>&);
void stop(CommandContext&, Request&, const Replier&, const std::shared_ptr<Client>&);
void stopAll(CommandContext&, Request&, const Replier&, const std::shared_ptr<Client>&);
void signalReload(CommandContext&, Request&, const Replier&, const std::shared_ptr<Client>&);
void status(CommandContext&, Request&, const Replier&, const std::shared_ptr<Client>&);
void list(CommandContext&, Request&, const Replier&, const std::shared_ptr<Client>&);
void usage(CommandContext&, Request&, const Replier&, const std::shared_ptr<Client>&);
void explain(CommandContext&, Request&, const Replier&, const std::shared_ptr<Client>&);
void logFile(CommandContext&, Request&, const Replier&, const std::shared_ptr<Client>&);
void emit(CommandContext&, Request&, const Replier&, const std::shared_ptr<Client>&);
void monitor(CommandContext&, Request&, const Replier&, const std::shared_ptr<Client>&);
void showConfig(CommandContext&, Request&, const Replier&, const std::shared_ptr<Client>&);
void checkConfig(CommandContext&, Request&, const Replier&, const std::shared_ptr<Client>&);
void rescanJobFiles(CommandContext&, Request&, const Replier&, const std::shared_ptr<Client>&);
void graph(CommandContext&, Request&, const Replier&, const std::shared_ptr<Client>&);
void logPriority(CommandContext&, Request&, const Replier&, const std::shared_ptr<Client>&);
void version(CommandContext&, Request&, const Replier&, const std::shared_ptr<Client>&);
void reexec(CommandContext&, Request&, const Replier&, const std::shared_ptr<Client>&);
void plugins(CommandContext&, Request&, const Replier&, const std::shared_ptr<Client>&);

}  // namespace commands

}  // namespace tend::control
