// SPDX-License-Identifier: MIT
// Debouncer: collapses a burst of the same `file` event into one.
//
// The first event of a kind for a path is held for the window; repeats of it that arrive
// meanwhile are dropped, and when the window closes the one event goes out. A file written
// continuously thus yields an event per window, never none, and never one per write.
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "file_watcher.hpp"

namespace tend::file_bridge {

class Debouncer {
  public:
    using Clock = std::chrono::steady_clock;

    explicit Debouncer(std::chrono::milliseconds window) : window_(window) {}

    void offer(FileEvent event, Clock::time_point now);
    // The events whose window has closed by `now`, in the order they first came.
    std::vector<FileEvent> due(Clock::time_point now);
    // When the next window closes.
    std::optional<Clock::time_point> nextDue() const;
    std::size_t held() const { return queue_.size(); }

  private:
    struct Held {
        Clock::time_point until;
        std::string key;
        FileEvent event;
    };
    std::chrono::milliseconds window_;
    std::deque<Held> queue_;  // windows all last as long: the queue is in deadline order
    std::unordered_set<std::string> keys_;
};

}  // namespace tend::file_bridge
