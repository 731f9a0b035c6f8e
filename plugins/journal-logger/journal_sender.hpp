// SPDX-License-Identifier: MIT
// Entries on their way to the journal: a bounded queue, and a thread of the plugin's own that
// sends them with JournalSocket, so that tend's loop never waits for journald.
//
// Sending on the loop was measured first: a job that wrote 10 MB at once filled the host's
// 8 MiB queue to the output sinks while the loop waited on journald, and the host dropped most
// of the lines before they reached the plugin. Here the loop only moves a batch into this
// queue. The queue holds at most kMaxQueuedBytes: a journal that falls further behind misses
// lines (counted as not sent; the log files have them), never costs tend memory.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "journal_entry.hpp"
#include "journal_socket.hpp"

namespace tend::journal {

class JournalSender {
  public:
    static constexpr std::size_t kMaxQueuedBytes = 16u << 20;

    // Carried lines (the log file does not have them) that could not be sent: for the file.
    // Called on the sender's thread.
    using GiveBack = std::function<void(const std::string& job, const std::string& instance,
                                        std::vector<std::string> lines)>;

    // `notice` as JournalSocket's, but called on the sender's thread: hand it to the loop.
    explicit JournalSender(JournalSocket::Notice notice, GiveBack give_back = {});
    ~JournalSender();  // sends what is queued for up to a second, then ends the thread
    JournalSender(const JournalSender&) = delete;
    JournalSender& operator=(const JournalSender&) = delete;

    // Queue lines of one job stream (`priority` is the stream's), or a state change's fields.
    // False when the queue had no room (the lines count as not sent; carried ones are the
    // caller's to give back). Carried lines that cannot be sent are given back.
    bool queueLines(std::string job, std::string instance, int main_pid,
                    std::vector<std::string> lines, int priority = kStdoutPriority,
                    bool carried = false);
    bool queueEntry(std::vector<std::string> fields);

    std::uint64_t linesSent() const { return lines_sent_; }
    std::uint64_t linesNotSent() const { return lines_not_sent_; }
    std::uint64_t changesSent() const { return changes_sent_; }
    std::uint64_t changesNotSent() const { return changes_not_sent_; }
    std::uint64_t linesGivenBack() const { return lines_given_back_; }

  private:
    struct Item {
        std::string job;
        std::string instance;
        int main_pid = 0;
        int priority = kStdoutPriority;
        bool carried = false;
        std::vector<std::string> lines;   // job output, or
        std::vector<std::string> fields;  // a state change's entry
        std::size_t bytes = 0;
    };

    bool queue(Item item);
    void run();
    void send(Item& item);
    void giveBack(Item& item, std::size_t from);

    JournalSocket socket_;
    GiveBack give_back_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Item> queue_;
    std::size_t queued_bytes_ = 0;
    bool stopping_ = false;
    std::atomic<std::uint64_t> lines_sent_{0};
    std::atomic<std::uint64_t> lines_not_sent_{0};
    std::atomic<std::uint64_t> changes_sent_{0};
    std::atomic<std::uint64_t> changes_not_sent_{0};
    std::atomic<std::uint64_t> lines_given_back_{0};
    std::thread thread_;
};

}  // namespace tend::journal
