// SPDX-License-Identifier: MIT
// The inotify instance and the table of watched directories.
#include "inotify_watches.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace tend::file_bridge {

Inotify::Inotify() : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    if (fd_ < 0) {
        throw std::system_error(errno, std::generic_category(), "inotify_init1");
    }
}

Inotify::~Inotify() {
    ::close(fd_);
}

int Inotify::addWatch(const std::string& path, std::uint32_t mask) {
    const int wd = ::inotify_add_watch(fd_, path.c_str(), mask);
    return wd >= 0 ? wd : -errno;
}

void Inotify::removeWatch(int wd) {
    ::inotify_rm_watch(fd_, wd);  // EINVAL when the kernel dropped it already: nothing to do
}

bool Inotify::read(std::deque<RawEvent>& out, std::size_t limit) {
    alignas(inotify_event) char buffer[64 * 1024];
    std::size_t got = 0;
    while (got < limit) {
        const ssize_t n = ::read(fd_, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return true;  // EAGAIN: the queue is empty
        }
        for (const char* at = buffer; at < buffer + n;) {
            const auto* event = reinterpret_cast<const inotify_event*>(at);
            out.push_back(RawEvent{event->wd, event->mask,
                                   event->len > 0 ? std::string(event->name) : std::string()});
            at += sizeof(inotify_event) + event->len;
            ++got;
        }
    }
    return false;
}

int WatchTable::add(Interest& interest, dev_t dev, ino_t ino) {
    remove(interest);
    int wd = -1;
    if (const auto known = wd_of_.find(interest.dir); known != wd_of_.end()) {
        const auto dir = dirs_.find(known->second);
        if (dir != dirs_.end() && dir->second.dev == dev && dir->second.ino == ino &&
            (dir->second.mask & interest.mask) == interest.mask) {
            wd = known->second;
        }
    }
    if (wd < 0) {
        // IN_MASK_ADD: the watch may serve others already, under this path or another one.
        wd = calls_.addWatch(interest.dir, interest.mask | IN_MASK_ADD);
        if (wd < 0) {
            return -wd;
        }
        auto [it, added] = dirs_.try_emplace(wd);
        Dir& dir = it->second;
        if (added) {
            dir.dev = dev;
            dir.ino = ino;
        }
        dir.mask |= interest.mask;
        if (std::find(dir.paths.begin(), dir.paths.end(), interest.dir) == dir.paths.end()) {
            dir.paths.push_back(interest.dir);
        }
        wd_of_[interest.dir] = wd;
    }
    Dir& dir = dirs_[wd];
    if (interest.kind == Interest::Kind::Entries) {
        dir.entries.push_back(&interest);
    } else {
        dir.named[interest.name].push_back(&interest);
    }
    interest.wd = wd;
    interest.dev = dev;
    interest.ino = ino;
    return 0;
}

void WatchTable::remove(Interest& interest) {
    const int wd = interest.wd;
    interest.wd = -1;
    const auto it = dirs_.find(wd);
    if (wd < 0 || it == dirs_.end()) {
        return;
    }
    Dir& dir = it->second;
    if (interest.kind == Interest::Kind::Entries) {
        std::erase(dir.entries, &interest);
    } else if (const auto named = dir.named.find(interest.name); named != dir.named.end()) {
        std::erase(named->second, &interest);
        if (named->second.empty()) {
            dir.named.erase(named);
        }
    }
    // The mask is not narrowed when interests leave: the handlers filter, and re-adding by path
    // could reach another directory that has taken this one's place.
    if (dir.entries.empty() && dir.named.empty()) {
        calls_.removeWatch(wd);
        drop(wd);
    }
}

void WatchTable::forget(int wd) {
    const auto it = dirs_.find(wd);
    if (it == dirs_.end()) {
        return;
    }
    for (Interest* interest : all(wd)) {
        interest->wd = -1;
    }
    drop(wd);
}

void WatchTable::drop(int wd) {
    const auto it = dirs_.find(wd);
    if (it == dirs_.end()) {
        return;
    }
    for (const auto& path : it->second.paths) {
        if (const auto mapped = wd_of_.find(path); mapped != wd_of_.end() && mapped->second == wd) {
            wd_of_.erase(mapped);
        }
    }
    dirs_.erase(it);
}

std::vector<Interest*> WatchTable::concerned(int wd, const std::string& name) const {
    std::vector<Interest*> out;
    const auto it = dirs_.find(wd);
    if (it == dirs_.end()) {
        return out;
    }
    if (const auto named = it->second.named.find(name); named != it->second.named.end()) {
        out = named->second;
    }
    out.insert(out.end(), it->second.entries.begin(), it->second.entries.end());
    return out;
}

std::vector<Interest*> WatchTable::all(int wd) const {
    std::vector<Interest*> out;
    const auto it = dirs_.find(wd);
    if (it == dirs_.end()) {
        return out;
    }
    for (const auto& [name, interests] : it->second.named) {
        out.insert(out.end(), interests.begin(), interests.end());
    }
    out.insert(out.end(), it->second.entries.begin(), it->second.entries.end());
    return out;
}

}  // namespace tend::file_bridge
