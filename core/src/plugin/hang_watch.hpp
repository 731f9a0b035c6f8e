// SPDX-License-Identifier: MIT
// A call into a plugin that never returns. The fault guard times a call once it has returned;
// one that never does holds tend's loop forever, and nothing on the loop can notice. So a
// thread of its own watches the calls the loop makes into plugins: when one has run for the
// limit, it hands the plugin's name to `on_hang`, on that thread, while the loop is still held.
//
// It costs a call two stores and an exchange, and idle costs nothing: the thread starts with the
// first call, looks once a second while calls come, and sleeps for good once a second has
// passed without any (the next call wakes it), so an idle tend still never wakes.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace tend::plugin {

class HangWatch {
  public:
    // On the watch's thread, once, with the plugin's name and what of it was called.
    using OnHang = std::function<void(const std::string& plugin, const std::string& what)>;
    struct Call {
        const std::string* plugin = nullptr;
        const char* what = nullptr;
    };

    // `limit` zero: no watch.
    HangWatch(std::chrono::milliseconds limit, OnHang on_hang);
    ~HangWatch();
    HangWatch(const HangWatch&) = delete;
    HangWatch& operator=(const HangWatch&) = delete;

    // On the loop's thread (calls from other threads are not watched): a call begins. Returns
    // the call it interrupts, for leave(); `plugin` must outlive the call.
    Call enter(const std::string& plugin, const char* what);
    void leave(Call resumed);
    // The call the loop is in, if any: read on the loop's own thread, from a signal handler too
    // (two lock-free loads).
    Call current() const {
        return {plugin_.load(std::memory_order_relaxed), what_.load(std::memory_order_relaxed)};
    }
    // Whether the thread sleeps until the next call (for tests).
    bool sleeping() const { return started_.load() && !armed_.load(); }

  private:
    void watch();
    void wake();

    const std::chrono::milliseconds limit_;
    const OnHang on_hang_;
    const std::thread::id loop_ = std::this_thread::get_id();
    std::atomic<std::uint64_t> calls_{0};  // entered or left, ever
    std::atomic<const std::string*> plugin_{nullptr};
    std::atomic<const char*> what_{nullptr};
    std::atomic<std::int64_t> since_ns_{0};  // when the current call began (steady clock)
    std::atomic<bool> armed_{false};         // the thread looks every second
    std::atomic<bool> started_{false};
    std::mutex mutex_;
    std::condition_variable changed_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace tend::plugin
