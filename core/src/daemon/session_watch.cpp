// SPDX-License-Identifier: MIT
#include "daemon/session_watch.hpp"

#include <sys/syscall.h>
#include <unistd.h>
#include <xcb/xcb.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace tend::daemon {

SessionWatch::SessionWatch(boost::asio::io_context& io,
                           std::function<void(std::string reason)> ended)
    : io_(io), ended_(std::move(ended)) {}

SessionWatch::~SessionWatch() {
    if (x_fd_) {
        x_fd_->release();  // xcb closes its own descriptor
    }
    if (x_) {
        xcb_disconnect(x_);
    }
}

std::string SessionWatch::watchDisplay(const std::string& display) {
    xcb_connection_t* connection = xcb_connect(display.c_str(), nullptr);
    if (const int error = xcb_connection_has_error(connection); error != 0) {
        xcb_disconnect(connection);
        return "cannot connect to the X server of display " + display + " (xcb error " +
               std::to_string(error) + ")";
    }
    x_ = connection;
    display_ = display;
    const int fd = xcb_get_file_descriptor(x_);
    x_fd_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd);
    waitDisplay();
    return {};
}

void SessionWatch::waitDisplay() {
    x_fd_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this](const boost::system::error_code& ec) {
                          if (ec) {
                              return;
                          }
                          // tend asks the server for nothing: whatever comes is read and
                          // dropped, and the end of the stream is the server gone.
                          while (xcb_generic_event_t* event = xcb_poll_for_event(x_)) {
                              std::free(event);
                          }
                          if (xcb_connection_has_error(x_) != 0) {
                              end("the X server of display " + display_ + " went away");
                              return;
                          }
                          waitDisplay();
                      });
}

std::string SessionWatch::watchLeader(pid_t pid) {
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) {
        return "cannot watch the session leader " + std::to_string(pid) + ": " +
               std::strerror(errno);
    }
    leader_fd_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd);
    leader_fd_->async_wait(
        boost::asio::posix::stream_descriptor::wait_read,
        [this, pid](const boost::system::error_code& ec) {
            if (!ec) {
                end("the session leader (pid " + std::to_string(pid) + ") exited");
            }
        });
    return {};
}

void SessionWatch::end(std::string reason) {
    if (!done_) {
        done_ = true;
        ended_(std::move(reason));
    }
}

}  // namespace tend::daemon
