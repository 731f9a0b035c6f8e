// SPDX-License-Identifier: MIT
// A plugin's descriptor watches on tend's loop. Readable is level-triggered and stays armed;
// Writable is one-shot, because a socket is writable nearly all the time and re-arming it after
// every callback would spin the loop. The mask changes in place (updateFdWatch), the way an
// sd-bus connection asks for POLLOUT only while it has something queued.
#include "plugin/fault_guard.hpp"
#include "plugin/plugin_host.hpp"

namespace tend::plugin {

struct PluginManager::Host::FdWatch {
    FdWatch(boost::asio::io_context& io, int fd) : descriptor(io, fd), fd(fd) {}
    boost::asio::posix::stream_descriptor descriptor;
    int fd;
    unsigned events = 0;   // what the plugin asks for now
    unsigned waiting = 0;  // what an async_wait is pending for
    std::function<void(unsigned)> ready;
};

Registration PluginManager::Host::watchFd(int fd, unsigned events,
                                          std::function<void(unsigned)> ready) {
    const auto id = ++next_id_;
    auto watch = std::make_shared<FdWatch>(manager_.io_, fd);
    watch->ready = std::move(ready);
    watch->events = events;
    fd_watches_[id] = watch;
    armFdWatch(watch, Readable);
    armFdWatch(watch, Writable);
    return undo([this, id] {
        if (const auto it = fd_watches_.find(id); it != fd_watches_.end()) {
            boost::system::error_code ignored;
            it->second->descriptor.cancel(ignored);
            it->second->descriptor.release();  // the descriptor is the plugin's to close
            it->second->events = 0;
            fd_watches_.erase(it);
        }
    });
}

bool PluginManager::Host::updateFdWatch(int fd, unsigned events) {
    for (const auto& [id, watch] : fd_watches_) {
        if (watch->fd == fd) {
            watch->events = events;
            armFdWatch(watch, Readable);
            armFdWatch(watch, Writable);
            return true;
        }
    }
    return false;
}

void PluginManager::Host::armFdWatch(const std::shared_ptr<FdWatch>& watch, unsigned which) {
    if (!(watch->events & which) || (watch->waiting & which)) {
        return;  // not wanted, or a wait for it is pending already
    }
    watch->waiting |= which;
    const auto type = which == Writable ? boost::asio::posix::stream_descriptor::wait_write
                                        : boost::asio::posix::stream_descriptor::wait_read;
    watch->descriptor.async_wait(
        type, [this, alive = std::weak_ptr<bool>(alive_), weak = std::weak_ptr(watch),
               which](const boost::system::error_code& ec) {
            const auto live = weak.lock();
            if (ec || alive.expired() || !live) {
                return;
            }
            live->waiting &= ~which;
            if (!(live->events & which)) {
                return;  // no longer wanted: the plugin changed its mask meanwhile
            }
            if (which == Writable) {
                live->events &= ~Writable;
            }
            const auto ready = live->ready;  // the callback may drop the watch
            if (manager_.guarded(record_, "an fd watch callback", [&] { ready(which); }) &&
                !weak.expired()) {
                armFdWatch(live, Readable);
            }
        });
}

void PluginManager::Host::dropFdWatches() {
    for (auto& [id, watch] : fd_watches_) {
        boost::system::error_code ignored;
        watch->descriptor.cancel(ignored);
        watch->descriptor.release();  // the descriptor is the plugin's to close
        watch->events = 0;
    }
    fd_watches_.clear();
}

}  // namespace tend::plugin
