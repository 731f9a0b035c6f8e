// SPDX-License-Identifier: MIT
// The control socket: `$XDG_RUNTIME_DIR/tend/control`, in a 0700 directory, answering only
// clients of tend's own uid (checked with SO_PEERCRED on every connection).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "sys/asio.hpp"

namespace spdlog {
class logger;
}

namespace tend::dispatch {
class Supervisor;
}

namespace tend::control {

class ControlServer {
  public:
    ControlServer(boost::asio::io_context& io, dispatch::Supervisor& supervisor,
                  std::shared_ptr<spdlog::logger> logger, std::string version);
    ~ControlServer();

    // Binds and listens; returns an error text, empty on success.
    std::string listen(const std::string& path);
    const std::string& path() const { return path_; }

    // The reply to one request line; `reply` may run later (for requests that wait).
    using ReplyFn = std::function<void(const nlohmann::json&)>;
    void handle(const std::string& line, ReplyFn reply);

  private:
    class Connection;
    void accept();

    boost::asio::io_context& io_;
    dispatch::Supervisor& supervisor_;
    std::shared_ptr<spdlog::logger> logger_;
    std::string version_;
    std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
    std::string path_;
    boost::asio::steady_timer retry_;
    bool accept_failing_ = false;
    int reserve_fd_ = -1;  // released to accept a client when descriptors run out
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  public:
    void restoreReserve();
};

}  // namespace tend::control
