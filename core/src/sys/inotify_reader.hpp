// SPDX-License-Identifier: MIT
// An inotify instance on the event loop: the job-file watcher and the plugin directories' watch
// each read theirs through one. It reads every event the kernel has queued at each wake-up and
// hands them over as one batch. When the kernel's queue overflowed (IN_Q_OVERFLOW), events were
// lost and the batch says so: its owner must look at everything again, since a file may have come
// or gone without a word.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sys/asio.hpp"

namespace tend::sys {

struct InotifyEvent {
    int wd = -1;
    std::uint32_t mask = 0;
    std::string name;  // empty for an event on the watched path itself
};

struct InotifyBatch {
    std::vector<InotifyEvent> events;
    bool overflowed = false;  // the kernel dropped events: rescan everything
};

class InotifyReader {
  public:
    explicit InotifyReader(boost::asio::io_context& io);
    ~InotifyReader();
    InotifyReader(const InotifyReader&) = delete;
    InotifyReader& operator=(const InotifyReader&) = delete;

    // Creates the inotify instance; on failure returns errno's text.
    std::string open();
    // Reads events from `fd` (taking it over) instead: tests feed crafted events through a pipe.
    void adopt(int fd);
    bool isOpen() const { return fd_ >= 0; }

    // The watch descriptor, or -1 with errno set.
    int addWatch(const std::filesystem::path& path, std::uint32_t mask);
    void removeWatch(int wd);

    // Calls `on_batch` for every wake-up with events, until the reader is destroyed.
    void start(std::function<void(const InotifyBatch&)> on_batch);

  private:
    void wait();
    void readAll();

    boost::asio::io_context& io_;
    int fd_ = -1;
    std::unique_ptr<boost::asio::posix::stream_descriptor> stream_;
    std::function<void(const InotifyBatch&)> on_batch_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// `path` when it is a directory, else its nearest ancestor that is one (empty when none is): where
// to watch for a directory that does not exist yet to appear.
std::filesystem::path nearestExistingDirectory(const std::filesystem::path& path);

}  // namespace tend::sys
