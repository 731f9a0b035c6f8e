// SPDX-License-Identifier: MIT
#include "sys/inotify_reader.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tend::sys {

InotifyReader::InotifyReader(boost::asio::io_context& io) : io_(io) {}

InotifyReader::~InotifyReader() {
    *alive_ = false;
    stream_.reset();  // closes fd_
}

std::string InotifyReader::open() {
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        return std::strerror(errno);
    }
    adopt(fd);
    return {};
}

void InotifyReader::adopt(int fd) {
    fd_ = fd;
    stream_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd_);
}

int InotifyReader::addWatch(const std::filesystem::path& path, std::uint32_t mask) {
    return ::inotify_add_watch(fd_, path.c_str(), mask);
}

void InotifyReader::removeWatch(int wd) {
    ::inotify_rm_watch(fd_, wd);
}

std::filesystem::path nearestExistingDirectory(const std::filesystem::path& path) {
    std::error_code ec;
    std::filesystem::path dir = path;
    while (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
        if (dir == dir.root_path() || dir == dir.parent_path()) {
            return {};
        }
        dir = dir.parent_path();
    }
    return dir;
}

void InotifyReader::start(std::function<void(const InotifyBatch&)> on_batch) {
    on_batch_ = std::move(on_batch);
    wait();
}

void InotifyReader::wait() {
    stream_->async_wait(
        boost::asio::posix::stream_descriptor::wait_read,
        [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
            if (ec || alive.expired()) {
                return;
            }
            readAll();
            if (!alive.expired()) {
                wait();
            }
        });
}

void InotifyReader::readAll() {
    InotifyBatch batch;
    alignas(inotify_event) char buffer[16384];
    for (;;) {
        const ssize_t n = ::read(fd_, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        const char* const end = buffer + n;
        for (const char* p = buffer; p + sizeof(inotify_event) <= end;) {
            const auto* event = reinterpret_cast<const inotify_event*>(p);
            if (event->len > static_cast<std::size_t>(end - p) - sizeof(inotify_event)) {
                break;  // the kernel writes whole records; anything else is not one
            }
            p += sizeof(inotify_event) + event->len;
            if (event->mask & IN_Q_OVERFLOW) {
                batch.overflowed = true;
                continue;
            }
            // The kernel pads the name with NULs up to `len`.
            batch.events.push_back({event->wd, event->mask,
                                    std::string(event->name, ::strnlen(event->name, event->len))});
        }
    }
    if (!batch.events.empty() || batch.overflowed) {
        on_batch_(batch);
    }
}

}  // namespace tend::sys
