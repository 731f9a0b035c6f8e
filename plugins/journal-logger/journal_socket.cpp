// SPDX-License-Identifier: MIT
#include "journal_socket.hpp"

#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include <cerrno>
#include <cstring>

namespace tend::journal {

bool JournalSocket::send(const std::vector<std::string>& fields, bool line) {
    const Clock::time_point now = Clock::now();
    if (down_ && now < next_try_) {
        failed({}, line);
        return false;
    }
    struct stat st {};
    if (::stat(kJournalSocket, &st) != 0) {
        failed(std::string(kJournalSocket) + ": " + std::strerror(errno), line);
        return false;
    }
    std::vector<iovec> iov(fields.size());
    for (std::size_t i = 0; i < fields.size(); ++i) {
        // Each field whole, with its length: a value with a newline, a NUL or bytes that are not
        // UTF-8 goes in libsystemd's binary-safe form.
        iov[i].iov_base = const_cast<char*>(fields[i].data());
        iov[i].iov_len = fields[i].size();
    }
    const int rc = sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
    if (rc < 0) {
        failed(std::strerror(-rc), line);
        return false;
    }
    if (down_) {
        down_ = false;
        notice_({}, missed_);
        missed_ = 0;
    }
    return true;
}

void JournalSocket::failed(const std::string& reason, bool line) {
    if (line) {
        ++missed_;
    }
    if (reason.empty()) {
        return;  // not tried: the last try was less than `retry_` ago
    }
    next_try_ = Clock::now() + retry_;
    if (!down_) {
        down_ = true;
        notice_(reason, 0);
    }
}

}  // namespace tend::journal
