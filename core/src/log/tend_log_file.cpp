// SPDX-License-Identifier: MIT
#include "log/tend_log_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/common.h>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace tend::log {

namespace {
int openLog(const std::string& path) {
    return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
}
}  // namespace

TendLogFile::TendLogFile(const std::string& path) : path_(path) {
    std::error_code ec;
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) {
        std::filesystem::create_directories(parent, ec);
    }
    fd_ = openLog(path);
    if (fd_ < 0) {
        throw spdlog::spdlog_ex("cannot open " + path, errno);
    }
}

TendLogFile::~TendLogFile() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void TendLogFile::sink_it_(const spdlog::details::log_msg& msg) {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    const char* data = formatted.data();
    std::size_t left = formatted.size();
    // A line that cannot be written (disk full) is lost from the file, not from the journal or
    // other sinks; tend itself must not stop over its own log.
    while (left > 0) {
        const ssize_t n = ::write(fd_, data, left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        data += n;
        left -= static_cast<std::size_t>(n);
    }
}

void TendLogFile::flush_() {}  // every line goes straight to the file

void TendLogFile::rotate(const RenameStep& rename, const RotationDone& done) {
    std::string error;
    {
        std::lock_guard lock(mutex_);
        try {
            error = rename ? rename(path_) : std::string();
        } catch (const std::exception& e) {
            error = e.what();
        }
        const int fresh = openLog(path_);
        if (fresh >= 0) {
            ::close(fd_);
            fd_ = fresh;
        } else {
            // The old file stays open: lines keep going somewhere rather than nowhere.
            error += (error.empty() ? "" : "; ") + std::string("cannot reopen ") + path_ + ": " +
                     std::strerror(errno);
        }
    }
    if (done) {
        done(std::move(error));
    }
}

}  // namespace tend::log
