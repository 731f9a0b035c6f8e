// SPDX-License-Identifier: MIT
#include "bus_driver.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <sdbus-c++/Error.h>

namespace tend::dbus_bridge {

using plugin::PluginHost;

BusDriver::BusDriver(PluginHost& host, std::unique_ptr<sdbus::IConnection> connection,
                     std::function<void(std::string)> lost)
    : host_(host), connection_(std::move(connection)), lost_(std::move(lost)) {
    // A descriptor of the watch's own: sd-bus closes its one when the connection fails, and a
    // new connection may get the same number while the loop still knows the old one.
    fd_ = ::fcntl(connection_->getEventLoopPollData().fd, F_DUPFD_CLOEXEC, 3);
    watch_ = host_.watchFd(fd_, PluginHost::Readable, [this](unsigned) { process(); });
    process();
}

BusDriver::~BusDriver() {
    watch_.reset();
    timer_.reset();
    connection_.reset();
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void BusDriver::kick() {
    process();
}

void BusDriver::process() {
    if (failed_) {
        return;
    }
    try {
        for (;;) {
            ++message_number_;
            if (!connection_->processPendingRequest()) {
                break;
            }
        }
        rearm();
    } catch (const sdbus::Error& error) {
        failed_ = true;
        watch_.reset();
        timer_.reset();
        // Not from inside the watch's own callback: `lost` may destroy this driver.
        auto lost = lost_;
        host_.post([lost, why = error.getMessage()] { lost(why); });
    }
}

void BusDriver::rearm() {
    const auto poll = connection_->getEventLoopPollData();
    const bool writable = (poll.events & POLLOUT) != 0;
    if (writable != writable_wanted_ || writable) {
        writable_wanted_ = writable;
        host_.updateFdWatch(fd_, PluginHost::Readable | (writable ? PluginHost::Writable : 0u));
    }
    timer_.reset();
    if (const auto timeout = poll.getRelativeTimeout()) {
        const auto delay = std::chrono::ceil<std::chrono::milliseconds>(*timeout);
        timer_ = host_.addTimer(delay, [this] { process(); });
    }
}

}  // namespace tend::dbus_bridge
