// SPDX-License-Identifier: MIT
// tend's own log lines, tapped for plugins' log sinks: an spdlog sink beside the file or stderr
// one, passing each line (its level, text and time) to whoever taps it, from whichever thread
// logged it. Without a tap it does nothing.
#pragma once

#include <spdlog/sinks/base_sink.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>

namespace tend::log {

class TendLogTap : public spdlog::sinks::base_sink<std::mutex> {
  public:
    // level: spdlog's (0 trace ... 5 critical).
    using Tap = std::function<void(int level, std::string text,
                                   std::chrono::system_clock::time_point time)>;

    // Thread-safe; once it returns, the previous tap is not called any more.
    void setTap(Tap tap) {
        const std::lock_guard<std::mutex> lock(mutex_);
        tap_ = std::move(tap);
    }

  protected:
    void sink_it_(const spdlog::details::log_msg& message) override {
        if (tap_) {
            tap_(static_cast<int>(message.level),
                 std::string(message.payload.data(), message.payload.size()), message.time);
        }
    }
    void flush_() override {}

  private:
    Tap tap_;
};

}  // namespace tend::log
