// SPDX-License-Identifier: MIT
// The control socket: `$XDG_RUNTIME_DIR/tend/control`, in a 0700 directory, answering only
// clients of tend's own uid (checked with SO_PEERCRED on every connection). Requests are
// decoded by protocol.hpp and answered by the commands in commands.cpp.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "sys/asio.hpp"

namespace spdlog {
class logger;
}

namespace tend::dispatch {
class Supervisor;
}

namespace tend::daemon {
class JobConfig;
}

namespace tend::plugin {
class PluginManager;
}

namespace tend::control {

struct Request;

// One connected client as the commands see it: replies, progress and monitor lines go out
// through send(), in order.
class Client {
  public:
    virtual ~Client() = default;
    virtual void send(const nlohmann::json& message) = 0;
};

struct ControlContext {
    dispatch::Supervisor* supervisor = nullptr;
    daemon::JobConfig* config = nullptr;  // null: reload-configuration is refused
    plugin::PluginManager* plugins = nullptr;
    std::shared_ptr<spdlog::logger> logger;
    std::string version;
    std::string log_dir;  // where job logs go, for `tendctl log`
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

  private:
    class Connection;
    void accept();
    void dispatchRequest(Request& request, const std::shared_ptr<Client>& client);
    void jobCommand(Request& request, const std::shared_ptr<Client>& client);
    void stopAll(Request& request, const std::shared_ptr<Client>& client);
    void broadcast(const nlohmann::json& message);

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
