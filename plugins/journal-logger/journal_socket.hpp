// SPDX-License-Identifier: MIT
// The journal as a destination that may be missing, may go away and may come back: sends an
// entry with sd_journal_sendv() and keeps track of whether that works.
//
// sd_journal_sendv() returns 0 when journald's socket file does not exist at all (it drops the
// entry silently), so the file is looked for first; a socket file that nobody listens on gives
// -ECONNREFUSED. Either way the journal is unavailable: that is said once, entries are counted
// instead of sent, and a send is tried again at most once a second (on the next entry, never in
// a loop). The first entry that goes through ends it, and that is said once too.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tend::journal {

inline constexpr const char* kJournalSocket = "/run/systemd/journal/socket";

class JournalSocket {
  public:
    using Clock = std::chrono::steady_clock;
    // Called when the journal becomes unavailable (with the reason) and when it is reachable
    // again (reason empty; `missed` lines were not sent meanwhile).
    using Notice = std::function<void(const std::string& reason, std::uint64_t missed)>;

    explicit JournalSocket(Notice notice, std::chrono::milliseconds retry = std::chrono::seconds(1))
        : notice_(std::move(notice)), retry_(retry) {}

    // Sends one entry (`KEY=VALUE` fields, values raw bytes). `line` says it carries a line of
    // job output (what the notice counts). False when it was not sent.
    bool send(const std::vector<std::string>& fields, bool line);

    bool available() const { return !down_; }

  private:
    void failed(const std::string& reason, bool line);

    Notice notice_;
    std::chrono::milliseconds retry_;
    bool down_ = false;
    Clock::time_point next_try_{};
    std::uint64_t missed_ = 0;  // lines not sent since the journal went away
};

}  // namespace tend::journal
