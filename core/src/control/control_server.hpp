// SPDX-License-Identifier: MIT
// The control socket: `$XDG_RUNTIME_DIR/tend/control`, in a 0700 directory, answering only
// clients of tend's own uid (checked with SO_PEERCRED on every connection). Requests are
// decoded by protocol.hpp and dispatched through a name -> handler map, which a test holds equal
// to the command table (command_table.hpp), to the handlers in job_commands.cpp,
// event_commands.cpp and config_commands.cpp; any other name goes to the plugins.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/reply.hpp"
#include "sys/asio.hpp"

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

struct ControlContext {
    dispatch::Supervisor* supervisor = nullptr;
    store::JobStore* store = nullptr;  // null: reload-configuration is refused
    std::shared_ptr<spdlog::logger> logger;
    std::string version;
    std::string log_dir;  // where job logs go, for `tendctl log`
    // What plugins add, wired by the daemon (control/ does not know plugins): the answer to
    // `tendctl plugins`, and a plugin's own command (nothing when no plugin serves the name).
    std::function<CommandResult()> plugin_list;
    std::function<std::optional<CommandResult>(const std::string& name,
                                               const std::vector<std::string>& args)>
        plugin_command;
};

class ControlServer {
  public:
    ControlServer(boost::asio::io_context& io, ControlContext context);
    ~ControlServer();

    // Binds and listens; returns an error text, empty on success.
    std::string listen(const std::string& path);
    const std::string& path() const { return path_; }

    // Answers one request line. Replies may come later (requests that wait), and `monitor`
    // keeps sending while the client stays.
    void handle(const std::string& line, const std::shared_ptr<Client>& client);

    void restoreReserve();

    // The commands this server answers itself; a test holds them equal to the command table.
    static std::vector<std::string_view> handledCommands();

  private:
    class Connection;
    using Handler = void (ControlServer::*)(Request&, const Replier&,
                                            const std::shared_ptr<Client>&);
    static const std::unordered_map<std::string_view, Handler>& handlers();

    void accept();
    void dispatchRequest(Request& request, const std::shared_ptr<Client>& client);
    void broadcast(const nlohmann::json& message);
    // The class a job command names, or nothing after replying with the error.
    const dispatch::ClassEntry* needJob(const Request& request, const Replier& reply) const;

    // job_commands.cpp
    void changeGoal(Request& request, const Replier& reply, const std::shared_ptr<Client>&);
    void stopAll(Request& request, const Replier& reply, const std::shared_ptr<Client>&);
    void stop(Request& request, const Replier& reply, const std::shared_ptr<Client>&);
    void signalReload(Request& request, const Replier& reply, const std::shared_ptr<Client>&);
    void status(Request& request, const Replier& reply, const std::shared_ptr<Client>&);
    void list(Request& request, const Replier& reply, const std::shared_ptr<Client>&);
    void usage(Request& request, const Replier& reply, const std::shared_ptr<Client>&);
    void explain(Request& request, const Replier& reply, const std::shared_ptr<Client>&);
    void logFile(Request& request, const Replier& reply, const std::shared_ptr<Client>&);
    // event_commands.cpp
    void emit(Request& request, const Replier& reply, const std::shared_ptr<Client>&);
    void monitor(Request& request, const Replier& reply, const std::shared_ptr<Client>& client);
    // config_commands.cpp
    void showConfig(Request& request, const Replier& reply, const std::shared_ptr<Client>&);
    void checkConfig(Request& request, const Replier& reply, const std::shared_ptr<Client>&);
    void rescanJobFiles(Request& request, const Replier& reply, const std::shared_ptr<Client>&);
    void graph(Request& request, const Replier& reply, const std::shared_ptr<Client>&);
    void logPriority(Request& request, const Replier& reply, const std::shared_ptr<Client>&);
    void version(Request& request, const Replier& reply, const std::shared_ptr<Client>&);
    void plugins(Request& request, const Replier& reply, const std::shared_ptr<Client>&);

    boost::asio::io_context& io_;
    ControlContext context_;
    dispatch::Supervisor& supervisor_;
    std::shared_ptr<spdlog::logger> logger_;
    std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
    std::string path_;
    boost::asio::steady_timer retry_;
    bool accept_failing_ = false;
    int reserve_fd_ = -1;  // released to accept a client when descriptors run out
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::vector<std::weak_ptr<Client>> monitors_;
    std::string priority_name_;  // as last set by log-priority
    std::uint64_t event_observer_ = 0;
    std::uint64_t transition_observer_ = 0;
};

}  // namespace tend::control
