// SPDX-License-Identifier: MIT
// A control-socket client for tests that need to misbehave: it sends exactly the bytes it is
// given, reads replies line by line, and never blocks past a deadline.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace tend::test {

// The socket is non-blocking after connect() so that no test can hang on a tend that stopped
// reading.
class RawClient {
  public:
    using Clock = std::chrono::steady_clock;

    explicit RawClient(const std::string& path) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path.c_str(), std::min(path.size(), sizeof addr.sun_path - 1));
        if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            error_ = errno;
            close();
            return;
        }
        ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    }
    RawClient(RawClient&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)),
          error_(other.error_),
          pending_(std::move(other.pending_)),
          sent_(other.sent_) {}
    RawClient& operator=(RawClient&&) = delete;
    ~RawClient() { close(); }

    bool connected() const { return fd_ >= 0; }
    int fd() const { return fd_; }
    // errno of the last failed call, for messages.
    std::string error() const { return std::strerror(error_); }
    // Bytes accepted by the socket so far.
    std::size_t sent() const { return sent_; }

    // Sends all of `data`; false once tend has closed its end (EPIPE, ECONNRESET) or after
    // `timeout` without progress.
    bool send(std::string_view data, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        auto deadline = Clock::now() + timeout;
        while (!data.empty() && fd_ >= 0) {
            const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n > 0) {
                data.remove_prefix(static_cast<std::size_t>(n));
                sent_ += static_cast<std::size_t>(n);
                deadline = Clock::now() + timeout;
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && errno != EAGAIN) {
                error_ = errno;
                return false;
            }
            if (!waitUntil(POLLOUT, deadline)) {
                error_ = ETIMEDOUT;
                return false;
            }
        }
        return data.empty();
    }

    // The next line tend sent (without its newline), or nothing when the connection ended or
    // no whole line came within `timeout`.
    std::optional<std::string> readLine(
        std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            const bool open = readSome();
            if (auto line = takeLine()) {
                return line;
            }
            if (!open || !waitUntil(POLLIN, deadline)) {
                return std::nullopt;
            }
        }
    }

    std::optional<nlohmann::json> exchange(const std::string& line) {
        if (!send(line)) {
            return std::nullopt;
        }
        const auto reply = readLine();
        if (!reply) {
            return std::nullopt;
        }
        return nlohmann::json::parse(*reply);
    }

    // Reads whatever is there without waiting; false once the connection has ended.
    bool readSome() {
        char buffer[65536];
        for (;;) {
            const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n > 0) {
                pending_.append(buffer, static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && errno == EAGAIN) {
                return true;
            }
            error_ = n == 0 ? 0 : errno;
            return false;
        }
    }

    std::optional<std::string> takeLine() {
        const auto end = pending_.find('\n');
        if (end == std::string::npos) {
            return std::nullopt;
        }
        std::string line = pending_.substr(0, end);
        pending_.erase(0, end + 1);
        return line;
    }

    // True once tend has closed (or shut down) its end, seen without reading anything.
    bool hungUp(std::chrono::milliseconds timeout) {
        pollfd pfd{fd_, POLLRDHUP, 0};
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            const int ready = ::poll(&pfd, 1, static_cast<int>(std::max<long>(0, left.count())));
            if (ready > 0 && (pfd.revents & (POLLHUP | POLLRDHUP)) != 0) {
                return true;
            }
            if (ready == 0 || (ready < 0 && errno != EINTR)) {
                return false;
            }
        }
    }

    void close() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

  private:
    bool waitUntil(short events, Clock::time_point deadline) {
        pollfd pfd{fd_, events, 0};
        for (;;) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) {
                return false;
            }
            const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
            if (ready > 0) {
                return true;
            }
            if (ready < 0 && errno != EINTR) {
                return false;
            }
        }
    }

    int fd_ = -1;
    int error_ = 0;
    std::string pending_;
    std::size_t sent_ = 0;
};

}  // namespace tend::test
