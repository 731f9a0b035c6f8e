// SPDX-License-Identifier: MIT
#include "journal_sender.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>

namespace tend::journal {

namespace {

// What an item costs in memory, roughly: its bytes and a little per string.
std::size_t costOf(const std::vector<std::string>& strings) {
    std::size_t bytes = 0;
    for (const auto& s : strings) {
        bytes += s.size() + sizeof(std::string);
    }
    return bytes;
}

}  // namespace

JournalSender::JournalSender(JournalSocket::Notice notice, GiveBack give_back)
    : socket_(std::move(notice)), give_back_(std::move(give_back)), thread_([this] { run(); }) {}

JournalSender::~JournalSender() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

bool JournalSender::queueLines(std::string job, std::string instance, int main_pid,
                               std::vector<std::string> lines, int priority, bool carried) {
    Item item{std::move(job), std::move(instance), main_pid, priority,
              carried,        std::move(lines),    {},       0};
    item.bytes = costOf(item.lines) + 256;
    const std::size_t count = item.lines.size();
    if (!queue(std::move(item))) {
        lines_not_sent_ += count;
        return false;
    }
    return true;
}

bool JournalSender::queueEntry(std::vector<std::string> fields) {
    Item item;
    item.bytes = costOf(fields) + 256;
    item.fields = std::move(fields);
    if (!queue(std::move(item))) {
        ++changes_not_sent_;
        return false;
    }
    return true;
}

bool JournalSender::queue(Item item) {
    {
        const std::lock_guard lock(mutex_);
        if (queued_bytes_ + item.bytes > kMaxQueuedBytes) {
            return false;
        }
        queued_bytes_ += item.bytes;
        queue_.push_back(std::move(item));
    }
    wake_.notify_one();
    return true;
}

void JournalSender::run() {
    // Below tend's loop: with few cores, the loop moving lines off the host's bounded queue to
    // this one comes first (on Linux setpriority() with a thread id sets that thread's).
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
    using Clock = std::chrono::steady_clock;
    Clock::time_point give_up = Clock::time_point::max();
    for (;;) {
        Item item;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_ && give_up == Clock::time_point::max()) {
                give_up = Clock::now() + std::chrono::seconds(1);
            }
            if (queue_.empty() || Clock::now() > give_up) {
                for (Item& left : queue_) {
                    (left.fields.empty() ? lines_not_sent_ : changes_not_sent_) +=
                        left.fields.empty() ? left.lines.size() : 1;
                    giveBack(left, 0);
                }
                queue_.clear();
                return;
            }
            item = std::move(queue_.front());
            queue_.pop_front();
            queued_bytes_ -= item.bytes;
        }
        send(item);
    }
}

void JournalSender::send(Item& item) {
    if (!item.fields.empty()) {
        ++(socket_.send(item.fields, false) ? changes_sent_ : changes_not_sent_);
        return;
    }
    const JobIdentity who{item.job, item.instance, item.main_pid};
    for (std::size_t i = 0; i < item.lines.size(); ++i) {
        if (socket_.send(lineFields(item.lines[i], who, item.priority), true)) {
            ++lines_sent_;
            continue;
        }
        ++lines_not_sent_;
        if (item.carried) {
            // The journal is away: this line and the rest go to the file, in their order.
            lines_not_sent_ += item.lines.size() - i - 1;
            giveBack(item, i);
            return;
        }
    }
}

void JournalSender::giveBack(Item& item, std::size_t from) {
    if (!item.carried || !give_back_ || from >= item.lines.size()) {
        return;
    }
    std::vector<std::string> rest(
        std::make_move_iterator(item.lines.begin() + static_cast<std::ptrdiff_t>(from)),
        std::make_move_iterator(item.lines.end()));
    lines_given_back_ += rest.size();
    give_back_(item.job, item.instance, std::move(rest));
}

}  // namespace tend::journal
