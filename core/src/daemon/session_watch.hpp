// SPDX-License-Identifier: MIT
// What ends a desktop session besides a signal: its X server going away (a logout, or the
// server killed), and its leader exiting (the process that runs the session, which
// `tend --exit-with PID` names; Xsession's own pid, since it execs the session). Each is
// watched on tend's loop: the X connection's descriptor (libxcb), and a pidfd.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <memory>
#include <string>

struct xcb_connection_t;

namespace tend::daemon {

class SessionWatch {
  public:
    // `ended(reason)` runs once, on the loop, for whichever comes first.
    SessionWatch(boost::asio::io_context& io, std::function<void(std::string reason)> ended);
    ~SessionWatch();
    SessionWatch(const SessionWatch&) = delete;
    SessionWatch& operator=(const SessionWatch&) = delete;

    // Connects to the X server of `display`; returns what went wrong, or nothing.
    std::string watchDisplay(const std::string& display);
    // Returns what went wrong (no such process), or nothing.
    std::string watchLeader(pid_t pid);

  private:
    void waitDisplay();
    void end(std::string reason);

    boost::asio::io_context& io_;
    std::function<void(std::string)> ended_;
    bool done_ = false;
    std::string display_;
    xcb_connection_t* x_ = nullptr;
    std::unique_ptr<boost::asio::posix::stream_descriptor> x_fd_;
    std::unique_ptr<boost::asio::posix::stream_descriptor> leader_fd_;
};

}  // namespace tend::daemon
