// SPDX-License-Identifier: MIT
// The plugin directories: listing them, and watching each plugins.d itself, or, while it does
// not exist, its nearest existing ancestor, so that copying a .so in (even into a directory made
// after tend started) loads it. A listing or a load that a shortage of descriptors or memory
// stopped is tried again a second later.
#include <sys/inotify.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "model/shortage.hpp"
#include "plugin/plugin_host.hpp"
#include "plugin/plugin_manager.hpp"
#include "plugin/plugin_record.hpp"

namespace fs = std::filesystem;

namespace tend::plugin {

namespace {

// A plugin file written, moved, removed or re-permissioned; a directory made on the way to a
// plugins.d that does not exist yet; the watched directory itself going.
constexpr std::uint32_t kDirectoryWatchMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
                                              IN_DELETE | IN_ATTRIB | IN_CREATE | IN_DELETE_SELF |
                                              IN_MOVE_SELF | IN_ONLYDIR;

}  // namespace

void PluginManager::watchDirectories() {
    if (const std::string error = inotify_.open(); !error.empty()) {
        logger_->warn("cannot watch plugin directories ({}); new plugins load at the next start",
                      error);
        return;
    }
    rewatch();
    inotify_.start([this](const sys::InotifyBatch& batch) { onDirectoryEvents(batch); });
}

// Each plugins.d is watched itself when it exists, else from its nearest existing ancestor, so
// that a directory made after tend started (`mkdir -p ~/.config/tend/plugins.d`) is noticed and
// read. Called again whenever a directory comes or goes.
void PluginManager::rewatch() {
    if (!inotify_.isOpen()) {
        return;
    }
    // The whole set is built anew: inotify gives the same descriptor for the same directory, and
    // an ancestor no longer needed stops being watched.
    std::map<int, DirectoryWatch> wanted;
    for (const auto& dir : options_.dirs) {
        const fs::path watched = sys::nearestExistingDirectory(dir);
        if (watched.empty()) {
            continue;
        }
        const int wd = inotify_.addWatch(watched, kDirectoryWatchMask);
        if (wd < 0) {
            logger_->warn("cannot watch plugin directory {}: {}", watched.string(),
                          std::strerror(errno));
            continue;
        }
        const auto previous = watch_targets_.find(dir);
        if (previous == watch_targets_.end() || previous->second != watched) {
            if (watched == dir) {
                logger_->info("watching plugin directory {}", dir.string());
            } else {
                logger_->info("plugin directory {} does not exist yet; watching {} for it",
                              dir.string(), watched.string());
            }
        }
        watch_targets_[dir] = watched;
        auto& watch = wanted[wd];
        watch.path = watched;
        if (watched != dir) {
            // Only the next directory on the way to the plugins.d matters there.
            watch.awaited.insert(dir.lexically_relative(watched).begin()->string());
        } else {
            watch.is_plugin_dir = true;
        }
    }
    for (const auto& [wd, watch] : watches_) {
        if (!wanted.contains(wd)) {
            inotify_.removeWatch(wd);
        }
    }
    watches_ = std::move(wanted);
}

void PluginManager::onDirectoryEvents(const sys::InotifyBatch& batch) {
    bool relevant = batch.overflowed;  // events were lost: a rescan finds what they said
    bool directories_changed = batch.overflowed;
    if (batch.overflowed) {
        logger_->warn("the plugin directories' inotify queue overflowed; looking at them again");
    }
    for (const sys::InotifyEvent& event : batch.events) {
        const auto watch = watches_.find(event.wd);
        if (event.mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
            directories_changed = true;  // a watched directory went
            continue;
        }
        if (watch == watches_.end()) {
            continue;
        }
        // A directory made on the way to a plugins.d that does not exist yet.
        if ((event.mask & IN_ISDIR) && (event.mask & (IN_CREATE | IN_MOVED_TO)) &&
            watch->second.awaited.contains(event.name)) {
            directories_changed = true;
        }
        relevant = relevant || (watch->second.is_plugin_dir &&
                                (event.name.ends_with(".so") || event.name.ends_with(".conf")));
    }
    if (directories_changed) {
        rewatch();
        relevant = true;  // a plugins.d that appeared may already hold plugins
    }
    if (!relevant) {
        return;
    }
    // A copy arrives as several writes; act once it has been quiet for a moment (and only on
    // whole files: load() refuses a truncated one).
    rescan_timer_.expires_after(std::chrono::milliseconds(50));
    rescan_timer_.async_wait(
        [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& wait) {
            if (!wait && !alive.expired()) {
                rescan();
            }
        });
}

std::vector<fs::path> PluginManager::scan(std::set<fs::path>* cut_short) const {
    std::vector<fs::path> out;
    for (const auto& dir : options_.dirs) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) {
            continue;
        }
        std::vector<fs::path> here;
        fs::directory_iterator it(dir, ec);
        if (ec && model::isShortage(ec)) {
            logger_->warn("cannot list plugin directory {}: {}; its plugins stay as they are",
                          dir.string(), ec.message());
            if (cut_short) {
                cut_short->insert(dir);
            }
            continue;
        }
        for (const fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
            if (it->path().extension() == ".so") {
                here.push_back(it->path());
            }
        }
        std::sort(here.begin(), here.end());
        out.insert(out.end(), here.begin(), here.end());
    }
    return out;
}

void PluginManager::retrySoon() {
    if (retry_pending_) {
        return;
    }
    retry_pending_ = true;
    retry_timer_.expires_after(kShortageRetry);
    retry_timer_.async_wait(
        [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& wait) {
            if (!wait && !alive.expired()) {
                retry_pending_ = false;
                rescan();
            }
        });
}

void PluginManager::rescan() {
    rewatch();
    std::set<fs::path> cut_short;
    const auto files = scan(&cut_short);
    std::set<fs::path> present(files.begin(), files.end());
    std::vector<fs::path> to_load;
    // Gone or replaced: stop and unload (their dependents stop with them). A plugin whose
    // directory could not be listed is not gone.
    for (auto& record : records_) {
        const bool unlisted =
            std::any_of(cut_short.begin(), cut_short.end(), [&](const fs::path& dir) {
                return dir / record->path.filename() == record->path;  // as scan() made it
            });
        const bool gone = !present.contains(record->path) && !unlisted;
        const bool replaced = !gone && sys::stampOf(record->path) != record->stamp;
        // A running plugin reads its settings as it starts: new ones take a restart.
        const bool reconfigured =
            !gone && !replaced && record->plugin &&
            (confPath(record->path, record->descriptor.name) != record->conf_path ||
             sys::stampOf(record->conf_path) != record->conf_stamp);
        if (!gone && !replaced && !reconfigured) {
            continue;
        }
        if (record->plugin) {
            logger_->info("plugin {}: {}", record->descriptor.name,
                          gone       ? "its file is gone; unloading"
                          : replaced ? "its file changed; restarting"
                                     : "its configuration changed; restarting");
            stopRecord(*record, PluginState::Stopped,
                       gone ? "unloaded" : (replaced ? "replaced" : "reconfigured"));
        }
        record->path.clear();  // forgotten below
    }
    // Whatever is not running now gets another chance: new files, replaced ones, dependents.
    std::set<fs::path> running;
    for (const auto& record : records_) {
        if (record->plugin) {
            running.insert(record->path);
        }
    }
    std::erase_if(records_, [](const std::unique_ptr<PluginRecord>& s) { return !s->plugin; });
    for (const auto& path : files) {
        if (!running.contains(path)) {
            to_load.push_back(path);
        }
    }
    load(to_load);
    if (!cut_short.empty()) {
        retrySoon();
    }
}

void PluginManager::deferForShortage(PluginRecord& record) {
    record.state = PluginState::Failed;
    record.reason += "; out of descriptors or memory, trying again in " +
                     std::to_string(kShortageRetry.count()) + "s";
    retrySoon();
}

}  // namespace tend::plugin
