// SPDX-License-Identifier: MIT
#include "store/job_watcher.hpp"

#include <sys/inotify.h>

#include <spdlog/spdlog.h>
#include <cerrno>
#include <cstring>
#include <utility>

#include "dispatch/supervisor.hpp"
#include "model/shortage.hpp"
#include "store/job_store.hpp"

namespace tend::store {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint32_t kDirectoryEvents = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                                           IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF |
                                           IN_MOVE_SELF | IN_ONLYDIR;
constexpr std::uint32_t kFileEvents =
    IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

bool isJobFileName(std::string_view name) {
    return name.ends_with(".conf") || name.ends_with(".override");
}

}  // namespace

JobWatcher::JobWatcher(boost::asio::io_context& io, JobStore& config,
                       dispatch::Supervisor& supervisor, std::shared_ptr<spdlog::logger> logger,
                       WatchOptions options)
    : io_(io),
      store_(config),
      supervisor_(supervisor),
      logger_(std::move(logger)),
      options_(options),
      inotify_(io),
      timer_(io),
      rescan_(io),
      retry_(io) {
    store_.onRetryOwed([this] { retrySoon(); });
    if (store_.owesARead()) {
        retrySoon();  // from the first load, before there was a watcher to hear of it
    }
}

JobWatcher::~JobWatcher() {
    *alive_ = false;
    store_.onRetryOwed({});
}

void JobWatcher::retrySoon() {
    if (retry_pending_) {
        return;
    }
    retry_pending_ = true;
    std::weak_ptr<bool> alive = alive_;
    retry_.expires_after(JobStore::kShortageRetry);
    retry_.async_wait([this, alive](const boost::system::error_code& ec) {
        if (ec || alive.expired()) {
            return;
        }
        retry_pending_ = false;
        if (rewatch_ && inotify_.isOpen()) {
            rewatch_ = false;
            watchTree();
        }
        RescanOptions rescan;
        rescan.removal_grace = options_.removal_grace;
        // No names: the store adds the files it owes a read, or lists the whole tree again.
        logRescan(*logger_, "job files tried again", store_.rescanNamed({}, rescan));
        supervisor_.poll();
    });
}

bool JobWatcher::start() {
    scheduleRescan();
    if (!options_.inotify) {
        logger_->info(
            "not watching job files (--watch=off): changes apply on "
            "`tendctl reload-configuration` or SIGHUP{}",
            options_.rescan_interval.count() ? " and the periodic rescan" : "");
        return false;
    }
    if (const std::string error = inotify_.open(); !error.empty()) {
        degrade("inotify is unavailable: " + error);
        return false;
    }
    watchTree();
    inotify_.start([this](const sys::InotifyBatch& batch) { onEvents(batch); });
    return !degraded_;
}

void JobWatcher::degrade(const std::string& why) {
    if (degraded_) {
        return;
    }
    degraded_ = true;
    logger_->warn("{}; job file changes{} apply on `tendctl reload-configuration` or SIGHUP{}", why,
                  inotify_.isOpen() ? " there" : "",
                  options_.rescan_interval.count()
                      ? " and every " + std::to_string(options_.rescan_interval.count()) + " ms"
                      : " (or start tend with --rescan-interval)");
}

void JobWatcher::addWatch(const fs::path& path, bool directory) {
    const int wd = inotify_.addWatch(path, directory ? kDirectoryEvents : kFileEvents);
    if (wd < 0) {
        if (errno == ENOSPC) {
            degrade("the inotify watch limit is reached (fs.inotify.max_user_watches) at " +
                    path.string());
        } else if (errno != ENOENT) {
            logger_->warn("cannot watch {}: {}", path.string(), std::strerror(errno));
        }
        return;
    }
    if (const auto known = watches_.find(wd); known != watches_.end() && known->second != path) {
        aliased_.insert(wd);  // the same directory by another path (a symlinked search dir)
    }
    watches_[wd] = path;
}

void JobWatcher::watchTree() {
    for (const auto& dir : store_.directories()) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) {
            // Not there yet: watch the nearest ancestor that is, to notice it being created.
            if (const fs::path ancestor = sys::nearestExistingDirectory(dir); !ancestor.empty()) {
                addWatch(ancestor, true);
            }
            continue;
        }
        addWatch(dir, true);
        for (fs::recursive_directory_iterator
                 it(dir, fs::directory_options::skip_permission_denied, ec),
             end;
             !ec && it != end; it.increment(ec)) {
            if (it->is_directory(ec) && !it->is_symlink(ec)) {
                addWatch(it->path(), true);
            }
        }
        if (ec && model::isShortage(ec)) {
            // Out of descriptors, the subdirectories not reached are not watched yet.
            logger_->warn("cannot watch every directory below {}: {}; trying again in {}s",
                          dir.string(), ec.message(), JobStore::kShortageRetry.count());
            rewatch_ = true;
            retrySoon();
        }
    }
    for (const auto& target : store_.symlinkTargets()) {
        addWatch(target, false);
    }
}

void JobWatcher::noteJobFile(const fs::path& directory, std::string_view file_name) {
    const fs::path stem = fs::path(file_name).replace_extension();
    for (const auto& dir : store_.directories()) {
        const fs::path relative = directory.lexically_relative(dir);
        if (relative.empty() || *relative.begin() == "..") {
            continue;
        }
        touched_.insert(relative == "." ? stem.generic_string()
                                        : (relative / stem).generic_string());
    }
}

void JobWatcher::onEvents(const sys::InotifyBatch& batch) {
    bool relevant = false;
    // Whether every event says a file is complete (renamed into place, closed after writing):
    // then the edit applies at once, as nothing more is coming for it. A file that went away
    // waits out the debounce, as editors delete or rename away before they write anew.
    bool settled = true;
    if (batch.overflowed) {
        // Events were lost: a rescan looks at every job file (and reads those whose stamps
        // changed). A file still being written keeps the rescan back as before: if its close
        // was among the lost events, the write-settle bound lets it go.
        logger_->warn("the job files' inotify queue overflowed; rescanning every job file");
        rewatch_ = true;
        everything_ = true;
        relevant = true;
    }
    for (const sys::InotifyEvent& event : batch.events) {
        if (event.mask & IN_IGNORED) {
            watches_.erase(event.wd);
            aliased_.erase(event.wd);
            rewatch_ = true;
            relevant = true;
            continue;
        }
        if (event.mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
            rewatch_ = true;
            relevant = true;
            continue;
        }
        if (event.mask & IN_ISDIR) {
            if (event.mask & (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)) {
                rewatch_ = true;
                relevant = true;
            }
            continue;
        }
        if (!event.name.empty() && !isJobFileName(event.name)) {
            continue;  // editors' swap and backup files, and anything else
        }
        const auto watched = watches_.find(event.wd);
        if (event.name.empty() || watched == watches_.end() || aliased_.contains(event.wd)) {
            // A symlink's target, or a directory reached by two paths: the tree says which
            // jobs use it.
            everything_ = true;
        } else {
            noteJobFile(watched->second, event.name);
        }
        settled = settled && !(event.mask & ~(IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB));
        const std::string key =
            (watched == watches_.end() ? std::string() : watched->second.string()) + "/" +
            event.name;
        if (event.mask & IN_MODIFY) {
            if (being_written_.empty()) {
                writing_since_ = Clock::now();
            }
            being_written_.insert(key);
        }
        if (event.mask & (IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM)) {
            being_written_.erase(key);
        }
        if (event.mask & (IN_MOVED_TO | IN_CREATE | IN_ATTRIB)) {
            rewatch_ = rewatch_ || event.name.empty();  // a symlink target was replaced
        }
        relevant = true;
    }
    if (relevant) {
        const bool at_once = settled && !everything_ && !rewatch_ && being_written_.empty();
        schedule(at_once ? std::chrono::milliseconds(0) : options_.debounce);
    }
}

void JobWatcher::schedule(std::chrono::milliseconds delay) {
    std::weak_ptr<bool> alive = alive_;
    timer_.expires_after(delay);
    timer_.async_wait([this, alive](const boost::system::error_code& ec) {
        if (!ec && !alive.expired()) {
            apply();
        }
    });
}

void JobWatcher::apply() {
    const auto now = Clock::now();
    if (!being_written_.empty()) {
        // A file is still open for writing: its content is not final yet.
        if (now - writing_since_ < options_.write_settle) {
            schedule(std::chrono::milliseconds(20));
            return;
        }
        logger_->warn("{} still being written after {} ms; reading it as it is",
                      *being_written_.begin(), options_.write_settle.count());
        being_written_.clear();
    }
    // Directories came or went, events were lost, or part of the tree is not watched: only the
    // whole tree says what changed. Otherwise inotify named every file that did, and the rest
    // need no look.
    const bool whole_tree = everything_ || rewatch_ || degraded_;
    if (rewatch_ && inotify_.isOpen()) {
        rewatch_ = false;
        watchTree();
    }
    RescanOptions rescan;
    rescan.removal_grace = options_.removal_grace;
    const std::set<std::string, std::less<>> touched = std::exchange(touched_, {});
    everything_ = false;
    const RescanReport report =
        whole_tree ? store_.rescan(rescan) : store_.rescanNamed(touched, rescan);
    logRescan(*logger_, "job files changed", report);
    supervisor_.poll();
    if (inotify_.isOpen()) {
        // A new symlink, or one pointed elsewhere.
        for (const auto& target : store_.symlinkTargets(whole_tree ? nullptr : &touched)) {
            addWatch(target, false);
        }
    }
    if (const auto missing = store_.oldestMissing()) {
        const auto due = *missing + options_.removal_grace;
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(due - now) +
                          std::chrono::milliseconds(1);
        schedule(std::max(wait, std::chrono::milliseconds(1)));
    }
}

void JobWatcher::scheduleRescan() {
    if (options_.rescan_interval.count() == 0) {
        return;
    }
    std::weak_ptr<bool> alive = alive_;
    rescan_.expires_after(options_.rescan_interval);
    rescan_.async_wait([this, alive](const boost::system::error_code& ec) {
        if (ec || alive.expired()) {
            return;
        }
        RescanOptions rescan;
        rescan.removal_grace = options_.removal_grace;
        logRescan(*logger_, "periodic rescan", store_.rescan(rescan));
        supervisor_.poll();
        scheduleRescan();
    });
}

}  // namespace tend::store
