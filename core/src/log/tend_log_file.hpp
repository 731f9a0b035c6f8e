// SPDX-License-Identifier: MIT
// tend's own log file (--log-file): an spdlog sink that can be rotated by the handshake in
// log_rotation.hpp. The rename runs under the sink's lock, so no log line is written half into
// the old file, and the next line opens the new one.
#pragma once

#include <spdlog/sinks/base_sink.h>
#include <mutex>
#include <string>

#include "log/log_rotation.hpp"

namespace tend::log {

class TendLogFile final : public spdlog::sinks::base_sink<std::mutex> {
  public:
    // Throws spdlog::spdlog_ex when the file cannot be opened.
    explicit TendLogFile(const std::string& path);
    ~TendLogFile() override;
    TendLogFile(const TendLogFile&) = delete;
    TendLogFile& operator=(const TendLogFile&) = delete;

    const std::string& path() const { return path_; }
    // Runs `rename` between two log lines and reopens the file at its path; `done` learns how
    // it went (on the calling thread, after the lock is released).
    void rotate(const RenameStep& rename, const RotationDone& done);

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override;

  private:
    std::string path_;
    int fd_ = -1;
};

}  // namespace tend::log
