// SPDX-License-Identifier: MIT
#include "control/control_server.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <chrono>
#include <deque>
#include <nlohmann/json.hpp>

#include "control/job_json.hpp"
#include "control/protocol.hpp"
#include "dispatch/supervisor.hpp"
#include "store/job_store.hpp"

namespace tend::control {

namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

constexpr std::size_t kOutputHighWater = 8u << 20;
// How long tend, exiting, waits for its monitors to read their last lines.
constexpr auto kFarewellGrace = std::chrono::seconds(2);

}  // namespace

class ControlServer::Connection : public Client, public std::enable_shared_from_this<Connection> {
  public:
    Connection(ControlServer& server, asio::local::stream_protocol::socket socket, Peer peer)
        : peer_(peer),
          server_(server),
          server_alive_(server.alive_),
          socket_(std::move(socket)),
          buffer_(kMaxRequestBytes + 1) {}  // the newline is not part of the limit
    // Connections can outlive the server at shutdown (the io_context frees their handlers).
    ~Connection() {
        if (*server_alive_) {
            // The socket first: the descriptor it frees is the one the reserve takes back. Under
            // descriptor exhaustion there is no other, and a reserve not restored left tend
            // unable to accept any client again.
            boost::system::error_code ignored;
            socket_.close(ignored);
            server_.restoreReserve();
        }
        notifySent();
    }

    void start() { read(); }

  private:
    void read() {
        auto self = shared_from_this();
        asio::async_read_until(
            socket_, buffer_, '\n',
            [this, self](const boost::system::error_code& ec, std::size_t n) {
                if (ec == asio::error::not_found) {
                    send(errorReply("request-too-long", "request too long: the limit is " +
                                                            std::to_string(kMaxRequestBytes) +
                                                            " bytes per line"));
                    closing_ = true;
                    return;
                }
                if (ec || !socket_.is_open()) {
                    return;  // the client went away, or was dropped for not reading
                }
                std::string line(asio::buffers_begin(buffer_.data()),
                                 asio::buffers_begin(buffer_.data()) + static_cast<long>(n) - 1);
                buffer_.consume(n);
                server_.handle(line, self);
                read();
            });
    }

  public:
    Peer peer() const override { return peer_; }
    int descriptor() override { return socket_.is_open() ? socket_.native_handle() : -1; }

    void send(const json& reply) override {
        if (socket_.is_open()) {
            sendLine(encodeLine(reply));
        }
    }

    void sendLine(std::string text) override {
        if (!socket_.is_open()) {
            return;
        }
        queued_bytes_ += text.size();
        if (queued_bytes_ > kOutputHighWater) {
            server_.logger_->warn("dropping a control client that does not read its replies");
            boost::system::error_code ignored;
            socket_.close(ignored);
            notifySent();
            return;
        }
        outbox_.push_back(std::move(text));
        if (outbox_.size() == 1) {
            write();
        }
    }

    void closeWhenSent(std::function<void()> sent) override {
        closing_ = true;
        on_sent_ = std::move(sent);
        if (outbox_.empty() || !socket_.is_open()) {
            boost::system::error_code ignored;
            socket_.shutdown(asio::socket_base::shutdown_both, ignored);
            notifySent();
        }
    }

  private:
    void notifySent() {
        if (on_sent_) {
            auto sent = std::move(on_sent_);
            on_sent_ = nullptr;
            sent();
        }
    }

    void write() {
        auto self = shared_from_this();
        asio::async_write(socket_, asio::buffer(outbox_.front()),
                          [this, self](const boost::system::error_code& ec, std::size_t) {
                              if (ec) {
                                  notifySent();  // it will never go out
                                  return;
                              }
                              queued_bytes_ -= outbox_.front().size();
                              outbox_.pop_front();
                              if (!outbox_.empty()) {
                                  write();
                              } else if (closing_) {
                                  boost::system::error_code ignored;
                                  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
                                  notifySent();
                              }
                          });
    }

    Peer peer_;
    ControlServer& server_;
    std::shared_ptr<bool> server_alive_;
    asio::local::stream_protocol::socket socket_;
    asio::streambuf buffer_;
    std::deque<std::string> outbox_;
    std::size_t queued_bytes_ = 0;
    bool closing_ = false;
    std::function<void()> on_sent_;  // closeWhenSent()'s
};

ControlServer::ControlServer(asio::io_context& io, ControlContext context)
    : io_(io),
      context_(std::move(context)),
      supervisor_(*context_.supervisor),
      logger_(context_.logger),
      retry_(io),
      farewell_timer_(io) {
    if (context_.store) {
        checks_ = std::make_unique<BackgroundChecks>(io, context_.store->registry());
    }
    // Monitors see every event and transition; with none connected this costs one check.
    event_observer_ = supervisor_.eventObservers().add([this](const model::Event& event) {
        if (!monitors_.empty()) {
            broadcast(monitorEventMessage(event));
        }
    });
    transition_observer_ = supervisor_.transitionObservers().add(
        [this](const dispatch::Supervisor::Transition& change) {
            if (!monitors_.empty()) {
                broadcast(monitorTransitionMessage(change));
            }
        });
}

ControlServer::~ControlServer() {
    *alive_ = false;
    checks_.reset();  // joins a check in progress, before what it may use goes
    supervisor_.eventObservers().remove(event_observer_);
    supervisor_.transitionObservers().remove(transition_observer_);
    if (reserve_fd_ >= 0) {
        ::close(reserve_fd_);
    }
    if (acceptor_) {
        boost::system::error_code ignored;
        acceptor_->close(ignored);
        ::unlink(path_.c_str());
    }
}

std::string ControlServer::listen(const std::string& path) {
    path_ = path;
    try {
        ::unlink(path.c_str());
        acceptor_ = std::make_unique<asio::local::stream_protocol::acceptor>(
            io_, asio::local::stream_protocol::endpoint(path));
        ::chmod(path.c_str(), 0600);
    } catch (const boost::system::system_error& e) {
        return "cannot listen on " + path + ": " + e.code().message();
    }
    restoreReserve();
    accept();
    return {};
}

std::string ControlServer::adoptListener(const std::string& path, int fd) {
    path_ = path;
    try {
        acceptor_ = std::make_unique<asio::local::stream_protocol::acceptor>(
            io_, asio::local::stream_protocol(), fd);
    } catch (const boost::system::system_error& e) {
        return "cannot take back the control socket " + path + ": " + e.code().message();
    }
    restoreReserve();
    accept();
    return {};
}

int ControlServer::listenerDescriptor() {
    return acceptor_ ? acceptor_->native_handle() : -1;
}

void ControlServer::restoreReserve() {
    if (reserve_fd_ < 0) {
        reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
}

void ControlServer::accept() {
    acceptor_->async_accept([this](const boost::system::error_code& ec,
                                   asio::local::stream_protocol::socket socket) {
        if (ec == asio::error::operation_aborted) {
            return;
        }
        if (!ec) {
            ucred cred{};
            socklen_t len = sizeof cred;
            if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
                cred.uid != ::geteuid()) {
                logger_->warn(
                    "refused a control connection from uid {} (pid {}): only uid {} may "
                    "control this tend",
                    cred.uid, cred.pid, ::geteuid());
                std::string refusal =
                    errorReply("permission-denied", "permission denied: this tend belongs to uid " +
                                                        std::to_string(::geteuid()) +
                                                        " and accepts only that user")
                        .dump() +
                    "\n";
                boost::system::error_code ignored;
                asio::write(socket, asio::buffer(refusal), ignored);
                socket.close(ignored);
            } else {
                const Peer peer{cred.uid, cred.pid};
                std::make_shared<Connection>(*this, std::move(socket), peer)->start();
            }
        } else if ((ec == asio::error::no_descriptors ||
                    ec == boost::system::errc::too_many_files_open_in_system) &&
                   reserve_fd_ >= 0) {
            // Out of descriptors: spend the one kept in reserve so that tend stays
            // controllable; it comes back when that client has gone.
            logger_->warn("out of file descriptors; serving a control client from the reserve");
            ::close(reserve_fd_);
            reserve_fd_ = -1;
            accept();
            return;
        } else {
            // The pending client stays queued, so retrying at once would spin. Say so once
            // and try again shortly.
            if (!accept_failing_) {
                logger_->error("cannot accept control connections: {}; retrying", ec.message());
            }
            accept_failing_ = true;
            retry_.expires_after(std::chrono::milliseconds(100));
            retry_.async_wait([this](const boost::system::error_code& wait_error) {
                if (!wait_error) {
                    accept();
                }
            });
            return;
        }
        if (accept_failing_) {
            accept_failing_ = false;
            logger_->info("accepting control connections again");
        }
        accept();
    });
}

void ControlServer::handle(const std::string& line, const std::shared_ptr<Client>& client) {
    auto decoded = decodeRequest(line);
    if (const auto* bad = std::get_if<RequestError>(&decoded)) {
        client->send(errorReply(bad->code, bad->message));
        return;
    }
    try {
        dispatchRequest(std::get<Request>(decoded), client);
    } catch (const std::exception& e) {
        // A command's bug must cost one reply, never the session.
        logger_->error("control request '{}' failed: {}", std::get<Request>(decoded).command,
                       e.what());
        client->send(errorReply("internal", std::string("tend could not answer: ") + e.what()));
    }
}

void ControlServer::dispatchRequest(Request& request, const std::shared_ptr<Client>& client) {
    const Replier reply(client, request);
    if (const auto it = commandHandlers().find(request.command); it != commandHandlers().end()) {
        CommandContext context{context_, supervisor_, monitors_, priority_name_, checks_.get()};
        it->second(context, request, reply, client);
        return;
    }
    if (context_.plugin_command) {
        const auto text = [&](const char* key) {
            const auto it = request.options.find(key);
            return it != request.options.end() && it->is_string() ? it->get<std::string>()
                                                                  : std::string();
        };
        const PluginCall call{request.command, request.args,     client->peer(),
                              text("job"),     text("instance"), !reply.omit_data};
        const auto answer = [reply](CommandResult result) {
            reply(result.ok ? okReply(std::move(result.text), std::move(result.data))
                            : errorReply("failed", std::move(result.text)));
        };
        if (context_.plugin_command(call, answer)) {
            return;
        }
    }
    reply(errorReply("unknown-command", "unknown command '" + request.command + "'"));
}

void ControlServer::farewell(std::function<void()> done) {
    if (acceptor_) {
        boost::system::error_code ignored;
        acceptor_->close(ignored);  // nobody new: the session is over
    }
    farewell_done_ = std::move(done);
    std::vector<std::shared_ptr<Client>> monitors;
    for (const auto& weak : monitors_) {
        if (auto client = weak.lock()) {
            monitors.push_back(std::move(client));
        }
    }
    monitors_.clear();
    farewell_waiting_ = monitors.size();
    if (monitors.empty()) {
        endFarewell();
        return;
    }
    farewell_timer_.expires_after(kFarewellGrace);
    farewell_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) {
            logger_->warn("{} monitor(s) did not read tend's last lines; exiting anyway",
                          farewell_waiting_);
            endFarewell();
        }
    });
    const json last = monitorExitMessage();
    for (const auto& client : monitors) {
        client->send(last);
        client->closeWhenSent([this, alive = alive_] {
            if (*alive && farewell_waiting_ > 0 && --farewell_waiting_ == 0) {
                endFarewell();
            }
        });
    }
}

void ControlServer::endFarewell() {
    farewell_timer_.cancel();
    if (farewell_done_) {
        auto done = std::move(farewell_done_);
        farewell_done_ = nullptr;
        done();
    }
}

void ControlServer::broadcast(const json& message) {
    std::erase_if(monitors_, [&](const std::weak_ptr<Client>& weak) {
        const auto client = weak.lock();
        if (!client) {
            return true;
        }
        client->send(message);
        return false;
    });
}

}  // namespace tend::control
