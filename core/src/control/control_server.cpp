// SPDX-License-Identifier: MIT
#include "control/control_server.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <deque>
#include <nlohmann/json.hpp>

#include "control/protocol.hpp"
#include "dispatch/supervisor.hpp"

namespace tend::control {

namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

constexpr std::size_t kOutputHighWater = 8u << 20;

}  // namespace

class ControlServer::Connection : public std::enable_shared_from_this<Connection> {
  public:
    Connection(ControlServer& server, asio::local::stream_protocol::socket socket)
        : server_(server),
          server_alive_(server.alive_),
          socket_(std::move(socket)),
          buffer_(kMaxRequestBytes) {}
    // Connections can outlive the server at shutdown (the io_context frees their handlers).
    ~Connection() {
        if (*server_alive_) {
            server_.restoreReserve();
        }
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
                if (ec) {
                    return;  // the client went away
                }
                std::string line(asio::buffers_begin(buffer_.data()),
                                 asio::buffers_begin(buffer_.data()) + static_cast<long>(n) - 1);
                buffer_.consume(n);
                std::weak_ptr<Connection> weak = self;
                server_.handle(line, [weak](const json& reply) {
                    if (auto connection = weak.lock()) {
                        connection->send(reply);
                    }
                });
                read();
            });
    }

  public:
    void send(const json& reply) {
        std::string text = reply.dump(-1, ' ', false, json::error_handler_t::replace);
        text.push_back('\n');
        queued_bytes_ += text.size();
        if (queued_bytes_ > kOutputHighWater) {
            server_.logger_->warn("dropping a control client that does not read its replies");
            boost::system::error_code ignored;
            socket_.close(ignored);
            return;
        }
        outbox_.push_back(std::move(text));
        if (outbox_.size() == 1) {
            write();
        }
    }

  private:
    void write() {
        auto self = shared_from_this();
        asio::async_write(socket_, asio::buffer(outbox_.front()),
                          [this, self](const boost::system::error_code& ec, std::size_t) {
                              if (ec) {
                                  return;
                              }
                              queued_bytes_ -= outbox_.front().size();
                              outbox_.pop_front();
                              if (!outbox_.empty()) {
                                  write();
                              } else if (closing_) {
                                  boost::system::error_code ignored;
                                  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
                              }
                          });
    }

    ControlServer& server_;
    std::shared_ptr<bool> server_alive_;
    asio::local::stream_protocol::socket socket_;
    asio::streambuf buffer_;
    std::deque<std::string> outbox_;
    std::size_t queued_bytes_ = 0;
    bool closing_ = false;
};

ControlServer::ControlServer(asio::io_context& io, dispatch::Supervisor& supervisor,
                             std::shared_ptr<spdlog::logger> logger, std::string version)
    : io_(io),
      supervisor_(supervisor),
      logger_(std::move(logger)),
      version_(std::move(version)),
      retry_(io) {}

ControlServer::~ControlServer() {
    *alive_ = false;
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
                std::make_shared<Connection>(*this, std::move(socket))->start();
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

void ControlServer::handle(const std::string& line, ReplyFn reply) {
    auto decoded = decodeRequest(line);
    if (const auto* bad = std::get_if<RequestError>(&decoded)) {
        reply(errorReply(bad->code, bad->message));
        return;
    }
    Request& request = std::get<Request>(decoded);
    const std::vector<std::string>& args = request.args;
    const bool wait = request.wait;
    const std::string command = request.command;

    const auto jobCommand = [&](auto method, const char* failure) {
        if (args.empty()) {
            reply(errorReply(errorCodeFor("missing job name"), "missing job name"));
            return;
        }
        const std::string name = args.front();
        const std::vector<std::string> env(args.begin() + 1, args.end());
        dispatch::Completion done;
        if (wait) {
            done = [this, reply, name, env, failure, command](bool failed,
                                                              const std::string& detail) {
                if (failed) {
                    std::string error = failure;
                    if (!detail.empty()) {
                        error += " (" + detail + ")";
                    }
                    reply(errorReply(errorCodeFor(error), error));
                    return;
                }
                std::string ignored;
                const dispatch::Job* job = supervisor_.findInstance(name, env, ignored);
                if (job && command != "stop") {
                    reply(okReply(supervisor_.statusText(*job)));
                } else if (job && job->state == dispatch::State::Waiting) {
                    reply(okReply(job->displayName() + " stop/waiting"));
                } else if (job) {
                    reply(okReply(supervisor_.statusText(*job)));
                } else {
                    // The instance has gone (a finished task, a stopped job).
                    std::string display = name;
                    const dispatch::ClassEntry* entry = supervisor_.findClass(name);
                    if (entry && !entry->cls->instance.empty()) {
                        model::Environment expanded;
                        for (const auto& item : env) {
                            expanded.setEntry(item);
                        }
                        if (auto instance =
                                model::expandVariables(entry->cls->instance, expanded)) {
                            display += " (" + *instance + ")";
                        }
                    }
                    reply(okReply(display + " stop/waiting"));
                }
            };
        }
        const dispatch::Supervisor::Reply result = (supervisor_.*method)(name, env, done);
        if (!result.ok) {
            reply(errorReply(errorCodeFor(result.error), result.error));
        } else if (!wait) {
            reply(okReply(""));
        }
    };

    if (command == "start") {
        jobCommand(&dispatch::Supervisor::start, "Job failed to start");
    } else if (command == "stop") {
        jobCommand(&dispatch::Supervisor::stop, "Job failed while stopping");
    } else if (command == "restart") {
        jobCommand(&dispatch::Supervisor::restart, "Job failed to restart");
    } else if (command == "reload") {
        if (args.empty()) {
            reply(errorReply(errorCodeFor("missing job name"), "missing job name"));
            return;
        }
        const auto result = supervisor_.reload(args.front(), {args.begin() + 1, args.end()});
        reply(result.ok ? okReply("") : errorReply(errorCodeFor(result.error), result.error));
    } else if (command == "status") {
        if (args.empty()) {
            reply(errorReply(errorCodeFor("missing job name"), "missing job name"));
            return;
        }
        const dispatch::ClassEntry* entry = supervisor_.findClass(args.front());
        if (!entry) {
            reply(errorReply("unknown-job", "Unknown job: " + args.front()));
            return;
        }
        if (args.size() == 1) {
            reply(okReply(supervisor_.statusOfClass(*entry)));
            return;
        }
        std::string error;
        const dispatch::Job* job =
            supervisor_.findInstance(args.front(), {args.begin() + 1, args.end()}, error);
        reply(job ? okReply(supervisor_.statusText(*job)) : errorReply(errorCodeFor(error), error));
    } else if (command == "list") {
        std::string out;
        for (const dispatch::ClassEntry* entry : supervisor_.classes()) {
            out += supervisor_.statusOfClass(*entry);
            out += '\n';
        }
        if (!out.empty()) {
            out.pop_back();
        }
        reply(okReply(out));
    } else if (command == "emit") {
        if (args.empty() || args.front().empty()) {
            reply(errorReply(errorCodeFor("missing event name"), "missing event name"));
            return;
        }
        model::Environment env;
        for (std::size_t i = 1; i < args.size(); ++i) {
            if (args[i].find('=') == std::string::npos || args[i].front() == '=') {
                reply(errorReply(errorCodeFor("Env must be KEY=VALUE pairs"),
                                 "Env must be KEY=VALUE pairs"));
                return;
            }
            env.setEntry(args[i]);
        }
        dispatch::Completion done;
        if (wait) {
            done = [reply](bool failed, const std::string& detail) {
                if (failed) {
                    reply(errorReply("event-failed",
                                     "Event failed" + (detail.empty() ? "" : " (" + detail + ")")));
                } else {
                    reply(okReply(""));
                }
            };
        }
        supervisor_.emit(args.front(), std::move(env), done);
        supervisor_.poll();
        if (!wait) {
            reply(okReply(""));
        }
    } else if (command == "version") {
        reply(okReply("tend " + version_));
    } else {
        reply(errorReply("unknown-command", "unknown command '" + command + "'"));
    }
}

}  // namespace tend::control
