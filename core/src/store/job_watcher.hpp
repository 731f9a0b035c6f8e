// SPDX-License-Identifier: MIT
// Hot reload: watches every job directory (and its subdirectories, and directories created
// later, and the targets of symlinked job files) with inotify, and rescans the job files
// once the files have settled.
//
// Settling is what makes editors safe: a file that is open for writing (IN_MODIFY seen, no
// IN_CLOSE_WRITE yet) holds the rescan back, so a file written in chunks is read once, whole; a
// rename over the original (vim, emacs, sed -i) is one IN_MOVED_TO; and a file that disappears
// counts as removed only after a grace period, so delete-and-recreate is a change, not a removal
// followed by an addition. Without inotify (or past its watch limit) tend says so once and
// relies on `reload-configuration`, SIGHUP and, if configured, a periodic rescan. When the
// kernel's event queue overflows, it rescans every job file.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "sys/asio.hpp"
#include "sys/inotify_reader.hpp"

namespace spdlog {
class logger;
}

namespace tend::dispatch {
class Supervisor;
}

namespace tend::store {

class JobStore;
struct RescanReport;

struct WatchOptions {
    bool inotify = true;                           // false: no watching (--watch=off)
    std::chrono::milliseconds debounce{5};         // quiet time before a rescan
    std::chrono::milliseconds removal_grace{150};  // a vanished file counts as removed after this
    std::chrono::milliseconds write_settle{2000};  // longest wait for a file open for writing
    std::chrono::milliseconds rescan_interval{0};  // periodic rescan; 0: none
};

class JobWatcher {
  public:
    JobWatcher(boost::asio::io_context& io, JobStore& config, dispatch::Supervisor& supervisor,
               std::shared_ptr<spdlog::logger> logger, WatchOptions options);
    ~JobWatcher();

    // Starts watching; returns false (after saying why in the log) when changes will only be
    // noticed by explicit rescans (reload-configuration, SIGHUP) and the periodic one.
    bool start();

  private:
    void watchTree();
    void addWatch(const std::filesystem::path& path, bool directory);
    // Notes the job a `.conf` or `.override` named by an event in `directory` belongs to.
    void noteJobFile(const std::filesystem::path& directory, std::string_view file_name);
    void onEvents(const sys::InotifyBatch& batch);
    void schedule(std::chrono::milliseconds delay);
    void apply();
    void scheduleRescan();
    // A rescan after JobStore::kShortageRetry, for what a shortage of descriptors or memory
    // kept from being read or watched.
    void retrySoon();
    void degrade(const std::string& why);

    boost::asio::io_context& io_;
    JobStore& store_;
    dispatch::Supervisor& supervisor_;
    std::shared_ptr<spdlog::logger> logger_;
    WatchOptions options_;
    sys::InotifyReader inotify_;
    std::map<int, std::filesystem::path> watches_;  // watch descriptor -> watched path
    std::set<std::string> being_written_;           // files with IN_MODIFY and no close yet
    std::chrono::steady_clock::time_point writing_since_{};
    bool rewatch_ = false;  // directories came or went: walk the tree again
    // The next rescan looks at the whole tree: the first one does, as files may have come
    // between tend's first load and the watches.
    bool everything_ = true;
    std::set<int> aliased_;                       // watches of a directory that two paths lead to
    std::set<std::string, std::less<>> touched_;  // else at these jobs' files alone
    bool degraded_ = false;                       // said once that something is not watched
    boost::asio::steady_timer timer_;
    boost::asio::steady_timer rescan_;
    boost::asio::steady_timer retry_;
    bool retry_pending_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace tend::store
