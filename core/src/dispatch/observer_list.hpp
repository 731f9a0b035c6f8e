// SPDX-License-Identifier: MIT
// A list of callbacks that may add or remove observers (themselves included) while being
// notified: the supervisor's observers of events, job changes and job classes.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>

namespace tend::dispatch {

// A deque keeps the running callback in place, and removal only marks until the notification
// ends.
template <typename... Args>
class ObserverList {
  public:
    std::uint64_t add(std::function<void(Args...)> fn) {
        entries_.push_back({++next_id_, false, std::move(fn)});
        return next_id_;
    }
    void remove(std::uint64_t id) {
        for (auto& entry : entries_) {
            if (entry.id == id) {
                entry.removed = true;
            }
        }
        compact();
    }
    bool empty() const { return entries_.empty(); }
    void notify(Args... args) {
        ++depth_;
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            if (!entries_[i].removed) {
                entries_[i].fn(args...);
            }
        }
        --depth_;
        compact();
    }

  private:
    struct Entry {
        std::uint64_t id;
        bool removed;
        std::function<void(Args...)> fn;
    };
    void compact() {
        if (depth_ == 0) {
            std::erase_if(entries_, [](const Entry& e) { return e.removed; });
        }
    }
    std::deque<Entry> entries_;
    std::uint64_t next_id_ = 0;
    int depth_ = 0;
};

}  // namespace tend::dispatch
