// SPDX-License-Identifier: MIT
// Debouncer: one event per (path, kind) per window.
#include "debouncer.hpp"

#include <utility>

namespace tend::file_bridge {

void Debouncer::offer(FileEvent event, Clock::time_point now) {
    // The path is MATCH when there is one (an entry of a directory or glob), else FILE.
    std::string key = event.file + '\0' + std::string(kindName(event.kind)) + '\0' + event.match +
                      '\0' + event.recursive;
    if (!keys_.insert(key).second) {
        return;
    }
    queue_.push_back(Held{now + window_, std::move(key), std::move(event)});
}

std::vector<FileEvent> Debouncer::due(Clock::time_point now) {
    std::vector<FileEvent> out;
    while (!queue_.empty() && queue_.front().until <= now) {
        keys_.erase(queue_.front().key);
        out.push_back(std::move(queue_.front().event));
        queue_.pop_front();
    }
    return out;
}

std::optional<Debouncer::Clock::time_point> Debouncer::nextDue() const {
    if (queue_.empty()) {
        return std::nullopt;
    }
    return queue_.front().until;
}

}  // namespace tend::file_bridge
