// SPDX-License-Identifier: MIT
#include "plugin/hang_watch.hpp"

#include <system_error>

namespace tend::plugin {

namespace {

constexpr std::chrono::seconds kLook{1};

std::int64_t nowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

HangWatch::HangWatch(std::chrono::milliseconds limit, OnHang on_hang)
    : limit_(limit), on_hang_(std::move(on_hang)) {}

HangWatch::~HangWatch() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_one();
    if (thread_.joinable()) {
        thread_.join();
    }
}

HangWatch::Call HangWatch::enter(const std::string& plugin, const char* what) {
    if (limit_.count() <= 0 || std::this_thread::get_id() != loop_) {
        return {};
    }
    const Call interrupted{plugin_.load(std::memory_order_relaxed),
                           what_.load(std::memory_order_relaxed)};
    since_ns_.store(nowNs(), std::memory_order_relaxed);
    what_.store(what, std::memory_order_relaxed);
    plugin_.store(&plugin, std::memory_order_relaxed);
    calls_.fetch_add(1);
    if (!armed_.exchange(true)) {
        wake();
    }
    return interrupted;
}

void HangWatch::leave(Call resumed) {
    if (limit_.count() <= 0 || std::this_thread::get_id() != loop_) {
        return;
    }
    // A nested call's end resumes the outer call, whose time runs on from now: the watch asks
    // whether the loop is held, and it was not, in between.
    since_ns_.store(nowNs(), std::memory_order_relaxed);
    what_.store(resumed.what, std::memory_order_relaxed);
    plugin_.store(resumed.plugin, std::memory_order_relaxed);
    calls_.fetch_add(1);
}

void HangWatch::wake() {
    {
        const std::lock_guard lock(mutex_);
        if (!thread_.joinable() && !stopping_) {
            try {
                thread_ = std::thread([this] { watch(); });
                started_.store(true);
            } catch (const std::system_error&) {
                return;  // no thread to spare: calls go unwatched, as before the watch
            }
        }
    }
    changed_.notify_one();
}

void HangWatch::watch() {
    std::unique_lock lock(mutex_);
    std::uint64_t seen = calls_.load();
    while (!stopping_) {
        changed_.wait_for(lock, kLook, [&] { return stopping_; });
        if (stopping_) {
            return;
        }
        const std::uint64_t now_calls = calls_.load();
        const std::string* plugin = plugin_.load();
        if (plugin && now_calls == seen &&
            nowNs() - since_ns_.load() >= std::chrono::nanoseconds(limit_).count()) {
            // The loop has not entered or left a call since the last look: it is still in this
            // one. Copied while the loop is held there, so the name is still alive.
            const std::string name = *plugin;
            const char* what = what_.load();
            lock.unlock();
            on_hang_(name, what ? what : "a call");
            return;
        }
        if (!plugin && now_calls == seen) {
            // A second without a call: sleep until the next one. Disarmed first, then looked
            // at again, so that a call entered meanwhile either saw the watch disarmed (and
            // wakes it) or is seen here.
            armed_.store(false);
            if (calls_.load() == seen && !plugin_.load()) {
                changed_.wait(lock, [&] { return stopping_ || armed_.load(); });
            } else {
                armed_.store(true);
            }
        }
        seen = calls_.load();
    }
}

}  // namespace tend::plugin
