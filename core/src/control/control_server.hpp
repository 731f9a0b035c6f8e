// SPDX-License-Identifier: MIT
// The control socket: `$XDG_RUNTIME_DIR/tend/control`, in a 0700 directory, answering only
// clients of tend's own uid (checked with SO_PEERCRED on every connection). Requests are
// decoded by protocol.hpp and dispatched through commandHandlers() (command_handlers.hpp), which
// a test holds equal to the command table; any other name goes to the plugins.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/background_check.hpp"
#include "control/command_handlers.hpp"
#include "control/reply.hpp"
#include "sys/asio.hpp"

namespace tend::control {

class ControlServer {
  public:
    ControlServer(boost::asio::io_context& io, ControlContext context);
    ~ControlServer();

    // Binds and listens; returns an error text, empty on success.
    std::string listen(const std::string& path);
    const std::string& path() const { return path_; }
    // The listening socket an earlier tend in this process opened at `path` (a re-exec), and
    // the descriptor to hand to the next one.
    std::string adoptListener(const std::string& path, int fd);
    int listenerDescriptor();

    // Answers one request line. Replies may come later (requests that wait), and `monitor`
    // keeps sending while the client stays.
    void handle(const std::string& line, const std::shared_ptr<Client>& client);

    void restoreReserve();

    // At session end, once every job has stopped: stops accepting clients, sends each monitor
    // a last `{"type":"exit"}` line after every change it has not read yet, and runs `done`
    // once they have all gone out (or after a grace period, for a monitor that does not read).
    void farewell(std::function<void()> done);

  private:
    class Connection;
    void accept();
    void dispatchRequest(Request& request, const std::shared_ptr<Client>& client);
    void broadcast(const nlohmann::json& message);
    void endFarewell();

    boost::asio::io_context& io_;
    ControlContext context_;
    dispatch::Supervisor& supervisor_;
    std::shared_ptr<spdlog::logger> logger_;
    std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
    std::string path_;
    boost::asio::steady_timer retry_;
    boost::asio::steady_timer farewell_timer_;
    std::function<void()> farewell_done_;
    std::size_t farewell_waiting_ = 0;  // monitors still reading their last lines
    bool accept_failing_ = false;
    int reserve_fd_ = -1;  // released to accept a client when descriptors run out
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::vector<std::weak_ptr<Client>> monitors_;
    std::string priority_name_;  // as last set by log-priority
    std::uint64_t event_observer_ = 0;
    std::uint64_t transition_observer_ = 0;
    std::unique_ptr<BackgroundChecks> checks_;  // with a job store: check-config's thread
};

}  // namespace tend::control
