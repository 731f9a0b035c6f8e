// SPDX-License-Identifier: MIT
// FileWatcher: specs resolved into interests, and inotify events into `file` events.
#include "file_watcher.hpp"

#include "directory_listing.hpp"

#include <sys/inotify.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace tend::file_bridge {
namespace {

using plugin::LogLevel;

constexpr std::uint32_t kEntryEvents = IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM;
constexpr std::uint32_t kBaseMask =
    kEntryEvents | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK;
// An attempt to resolve a spec whose directories change meanwhile is repeated at most this often.
constexpr int kResolveAttempts = 8;

std::string joined(const std::set<std::string>& names) {
    std::string out;
    for (const auto& name : names) {
        out += (out.empty() ? "" : ", ") + name;
    }
    return out;
}

// The directory a spec lives in: its entries are the spec's business.
const std::string& rootOf(const WatchSpec& spec) {
    return spec.path;
}

bool exists(const std::string& dir, const std::string& name) {
    struct stat st {};
    return ::lstat(joinPath(dir, name).c_str(), &st) == 0;
}

}  // namespace

std::vector<std::string> FileEvent::env() const {
    std::vector<std::string> out{"FILE=" + file, "EVENT=" + std::string(kindName(kind))};
    if (!match.empty()) {
        out.push_back("MATCH=" + match);
    }
    if (!recursive.empty()) {
        out.push_back("RECURSIVE=" + recursive);
    }
    return out;
}

FileWatcher::FileWatcher(InotifyCalls& calls, Emit emit, Log log)
    : table_(calls), emit_(std::move(emit)), log_(std::move(log)) {}

FileWatcher::~FileWatcher() {
    for (auto& [id, spec] : specs_) {
        for (auto& interest : spec.interests) {
            table_.remove(*interest);
        }
    }
}

FileWatcher::Spec* FileWatcher::find(std::size_t id) {
    const auto it = specs_.find(id);
    return it == specs_.end() ? nullptr : &it->second;
}

std::size_t FileWatcher::specFor(const WatchSpec& spec, bool& created) {
    if (const auto it = ids_.find(spec); it != ids_.end()) {
        created = false;
        return it->second;
    }
    created = true;
    const std::size_t id = next_id_++;
    specs_[id].spec = spec;
    ids_[spec] = id;
    return id;
}

void FileWatcher::setJob(const std::string& job, const std::vector<WatchSpec>& specs) {
    const std::set<WatchSpec> wanted_specs(specs.begin(), specs.end());
    std::set<std::size_t>& had = jobs_[job];
    for (auto it = had.begin(); it != had.end();) {
        const Spec* spec = find(*it);
        if (spec && wanted_specs.count(spec->spec) == 0) {
            detach(job, *it);
            it = had.erase(it);
        } else {
            ++it;
        }
    }
    for (const WatchSpec& wanted_spec : wanted_specs) {
        bool created = false;
        const std::size_t id = specFor(wanted_spec, created);
        Spec& spec = *find(id);
        const bool joins = spec.jobs.insert(job).second;
        had.insert(id);
        if (created || spec.incomplete) {
            // A spec that hit the watch limit tries again whenever a job that uses it changes.
            resolve(id, true);
        }
        if (joins) {
            announce(spec);
        }
    }
    if (had.empty()) {
        jobs_.erase(job);
        told_limit_.erase(job);
    }
    flush();
}

void FileWatcher::detach(const std::string& job, std::size_t id) {
    Spec* spec = find(id);
    if (!spec) {
        return;
    }
    spec->jobs.erase(job);
    if (!spec->jobs.empty()) {
        return;
    }
    for (auto& interest : spec->interests) {
        table_.remove(*interest);
    }
    ids_.erase(spec->spec);
    specs_.erase(id);
}

std::vector<FileWatcher::Wanted> FileWatcher::wanted(const WatchSpec& spec) const {
    using Kind = Interest::Kind;
    std::vector<Wanted> out;
    struct stat st {};
    const bool is_dir_spec = spec.target == WatchSpec::Target::Directory;
    if (is_dir_spec && spec.path == "/") {
        if (isDirectory("/", st)) {
            out.push_back({Kind::Entries, "/", "", spec.recursive, st.st_dev, st.st_ino});
            if (spec.recursive) {
                subtree(spec, "/", out);
            }
        }
        return out;
    }
    // The directory whose entries are the spec's: the file's or the directory's parent, or the
    // glob's directory.
    const std::string anchor =
        spec.target == WatchSpec::Target::Glob ? spec.path : parentOf(spec.path);
    if (!isDirectory(anchor, st)) {
        std::string child = anchor;
        std::string up = parentOf(child);
        while (up != "/" && !isDirectory(up, st)) {
            child = up;
            up = parentOf(up);
        }
        if (up == "/" && !isDirectory(up, st)) {
            return out;
        }
        out.push_back({Kind::Toward, up, baseName(child), false, st.st_dev, st.st_ino});
        return out;
    }
    switch (spec.target) {
    case WatchSpec::Target::File:
        out.push_back({Kind::Name, anchor, baseName(spec.path), false, st.st_dev, st.st_ino});
        break;
    case WatchSpec::Target::Glob:
        out.push_back({Kind::Entries, anchor, spec.glob, spec.recursive, st.st_dev, st.st_ino});
        if (spec.recursive) {
            subtree(spec, anchor, out);
        }
        break;
    case WatchSpec::Target::Directory:
        out.push_back({Kind::Name, anchor, baseName(spec.path), false, st.st_dev, st.st_ino});
        if (isDirectory(spec.path, st)) {
            out.push_back({Kind::Entries, spec.path, "", spec.recursive, st.st_dev, st.st_ino});
            if (spec.recursive) {
                subtree(spec, spec.path, out);
            }
        }
        break;
    }
    return out;
}

void FileWatcher::subtree(const WatchSpec& spec, const std::string& dir,
                          std::vector<Wanted>& out) const {
    for (const auto& name : subdirectories(dir)) {
        const std::string path = joinPath(dir, name);
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
            continue;
        }
        out.push_back({Interest::Kind::Entries, path, spec.glob, true, st.st_dev, st.st_ino});
        subtree(spec, path, out);
    }
}

void FileWatcher::resolve(std::size_t id, bool initial) {
    for (int attempt = 0; attempt < kResolveAttempts; ++attempt) {
        Spec* spec = find(id);
        if (!spec) {
            return;
        }
        std::vector<std::unique_ptr<Interest>> old = std::move(spec->interests);
        spec->interests.clear();
        spec->incomplete = false;
        bool raced = false;
        for (const Wanted& want : wanted(spec->spec)) {
            const auto same = std::find_if(old.begin(), old.end(), [&](const auto& interest) {
                return interest && interest->wd >= 0 && interest->kind == want.kind &&
                       interest->dir == want.dir && interest->name == want.name &&
                       interest->dev == want.dev && interest->ino == want.ino;
            });
            if (same != old.end()) {
                spec->interests.push_back(std::move(*same));
                continue;
            }
            auto interest = std::make_unique<Interest>();
            interest->kind = want.kind;
            interest->dir = want.dir;
            interest->name = want.name;
            interest->recursive = want.recursive;
            interest->spec = id;
            interest->mask = kBaseMask;
            if (want.kind != Interest::Kind::Toward && (spec->spec.kinds & Modify)) {
                interest->mask |= IN_CLOSE_WRITE;
            }
            const int error = table_.add(*interest, want.dev, want.ino);
            if (error == ENOENT || error == ENOTDIR) {
                raced = true;  // it went between stat and inotify_add_watch
                continue;
            }
            if (error != 0) {
                spec->incomplete = true;
                reportFailure(*spec, want.dir, error);
                continue;
            }
            if (interest->kind == Interest::Kind::Toward && exists(want.dir, want.name)) {
                // The next step appeared between the stat and the watch: no event will tell.
                raced = true;
            }
            scan(*spec, *interest, initial);
            spec->interests.push_back(std::move(interest));
        }
        for (auto& interest : old) {
            if (interest) {
                table_.remove(*interest);
            }
        }
        if (!raced) {
            return;
        }
    }
}

void FileWatcher::addSubtree(std::size_t id, const std::string& dir) {
    Spec* spec = find(id);
    if (!spec) {
        return;
    }
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return;
    }
    std::vector<Wanted> wants{
        {Interest::Kind::Entries, dir, spec->spec.glob, true, st.st_dev, st.st_ino}};
    subtree(spec->spec, dir, wants);
    for (const Wanted& want : wants) {
        const bool have =
            std::any_of(spec->interests.begin(), spec->interests.end(), [&](const auto& in) {
                return in->kind == want.kind && in->dir == want.dir && in->wd >= 0;
            });
        if (have) {
            continue;
        }
        auto interest = std::make_unique<Interest>();
        interest->kind = want.kind;
        interest->dir = want.dir;
        interest->name = want.name;
        interest->recursive = true;
        interest->spec = id;
        interest->mask = kBaseMask | ((spec->spec.kinds & Modify) ? IN_CLOSE_WRITE : 0);
        const int error = table_.add(*interest, want.dev, want.ino);
        if (error != 0) {
            if (error != ENOENT && error != ENOTDIR) {
                spec->incomplete = true;
                reportFailure(*spec, want.dir, error);
            }
            continue;
        }
        // Whatever is in a directory that has just appeared was created since: it is reported.
        scan(*spec, *interest, false);
        spec->interests.push_back(std::move(interest));
    }
}

void FileWatcher::dropSubtree(std::size_t id, const std::string& dir) {
    Spec* spec = find(id);
    if (!spec) {
        return;
    }
    std::erase_if(spec->interests, [&](const std::unique_ptr<Interest>& interest) {
        if (interest->kind == Interest::Kind::Entries && interest->dir != rootOf(spec->spec) &&
            isSelfOrBelow(interest->dir, dir)) {
            table_.remove(*interest);
            return true;
        }
        return false;
    });
}

void FileWatcher::scan(const Spec& spec, Interest& interest, bool initial) {
    const bool report = !initial && (spec.spec.kinds & Create);
    switch (interest.kind) {
    case Interest::Kind::Name: {
        struct stat st {};
        if (::lstat(joinPath(interest.dir, interest.name).c_str(), &st) == 0 &&
            interest.known.insert(interest.name).second && report) {
            pend(eventFor(spec, interest, Create, interest.name));
        }
        break;
    }
    case Interest::Kind::Entries:
        for (const auto& name : entriesOf(interest.dir)) {
            if ((interest.name.empty() || globMatches(interest.name, name)) &&
                interest.known.insert(name).second && report) {
                pend(eventFor(spec, interest, Create, name));
            }
        }
        break;
    case Interest::Kind::Toward:
        break;
    }
}

void FileWatcher::announce(const Spec& spec) {
    if (!(spec.spec.kinds & Create)) {
        return;
    }
    for (const auto& interest : spec.interests) {
        if (interest->kind == Interest::Kind::Name && !interest->known.empty()) {
            pend(eventFor(spec, *interest, Create, interest->name));
        } else if (interest->kind == Interest::Kind::Entries &&
                   spec.spec.target == WatchSpec::Target::Glob) {
            std::vector<std::string> names(interest->known.begin(), interest->known.end());
            std::sort(names.begin(), names.end());
            for (const auto& name : names) {
                pend(eventFor(spec, *interest, Create, name));
            }
        }
    }
}

void FileWatcher::resync() {
    std::vector<std::size_t> ids;
    for (const auto& [id, spec] : specs_) {
        ids.push_back(id);
    }
    for (const std::size_t id : ids) {
        resolve(id, true);
        if (Spec* spec = find(id)) {
            for (auto& interest : spec->interests) {
                interest->known.clear();
                scan(*spec, *interest, true);
            }
        }
    }
}

void FileWatcher::reportFailure(const Spec& spec, const std::string& dir, int error) {
    if (error == ENOSPC) {
        std::set<std::string> untold;
        for (const auto& job : spec.jobs) {
            if (told_limit_.insert(job).second) {
                untold.insert(job);
            }
        }
        const std::string text =
            "cannot watch " + dir + " for " + (untold.size() == 1 ? "job " : "jobs ") +
            joined(untold) + " (FILE=" + spec.spec.file +
            "): the inotify watch limit is reached. Raise fs.inotify.max_user_watches (for "
            "example `sysctl fs.inotify.max_user_watches=524288`), then edit the job file or "
            "restart tend";
        if (untold.empty()) {
            log_(LogLevel::Debug, "cannot watch " + dir + " either: the inotify watch limit");
        } else {
            log_(LogLevel::Error, text);
        }
        return;
    }
    const std::string text = "cannot watch " + dir + " for " +
                             (spec.jobs.size() == 1 ? "job " : "jobs ") + joined(spec.jobs) +
                             " (FILE=" + spec.spec.file + "): " + std::strerror(error);
    log_(told_other_.insert(dir).second ? LogLevel::Warn : LogLevel::Debug, text);
}

void FileWatcher::handle(const RawEvent& event) {
    if (event.mask & IN_Q_OVERFLOW) {
        log_(LogLevel::Warn,
             "the inotify queue overflowed: file events were lost (fs.inotify.max_queued_events "
             "is the limit)");
        resync();
        flush();
        return;
    }
    std::set<std::size_t> resolve_ids;
    std::vector<std::pair<std::size_t, std::string>> grow;
    std::vector<std::pair<std::size_t, std::string>> prune;
    if (event.mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
        // The directory itself went: the specs that counted on it look again, but a directory
        // deep in a watched tree only leaves the tree.
        for (Interest* interest : table_.all(event.wd)) {
            const Spec* spec = find(interest->spec);
            if (!spec) {
                continue;
            }
            if (interest->kind == Interest::Kind::Entries && interest->recursive &&
                interest->dir != rootOf(spec->spec)) {
                prune.emplace_back(interest->spec, interest->dir);
            } else {
                resolve_ids.insert(interest->spec);
            }
        }
        if (event.mask & IN_IGNORED) {
            table_.forget(event.wd);
        }
    } else {
        const bool is_dir = event.mask & IN_ISDIR;
        for (Interest* interest : table_.concerned(event.wd, event.name)) {
            const Spec* spec = find(interest->spec);
            if (!spec) {
                continue;
            }
            const bool entry_event = event.mask & kEntryEvents;
            switch (interest->kind) {
            case Interest::Kind::Toward:
                if (entry_event) {
                    resolve_ids.insert(interest->spec);
                }
                break;
            case Interest::Kind::Name:
                entryChanged(*spec, *interest, event.mask, event.name);
                if (entry_event && spec->spec.target == WatchSpec::Target::Directory) {
                    resolve_ids.insert(interest->spec);
                }
                break;
            case Interest::Kind::Entries:
                if (interest->name.empty() || globMatches(interest->name, event.name)) {
                    entryChanged(*spec, *interest, event.mask, event.name);
                }
                if (interest->recursive && is_dir) {
                    const std::string path = joinPath(interest->dir, event.name);
                    if (event.mask & (IN_CREATE | IN_MOVED_TO)) {
                        grow.emplace_back(interest->spec, path);
                    } else if (event.mask & (IN_DELETE | IN_MOVED_FROM)) {
                        prune.emplace_back(interest->spec, path);
                    }
                }
                break;
            }
        }
    }
    for (const auto& [id, dir] : prune) {
        dropSubtree(id, dir);
    }
    for (const auto& [id, dir] : grow) {
        addSubtree(id, dir);
    }
    for (const std::size_t id : resolve_ids) {
        resolve(id, false);
    }
    flush();
}

void FileWatcher::entryChanged(const Spec& spec, Interest& interest, std::uint32_t mask,
                               const std::string& name) {
    const unsigned kinds = spec.spec.kinds;
    if (mask & IN_CREATE) {
        if (interest.known.insert(name).second && (kinds & Create)) {
            pend(eventFor(spec, interest, Create, name));
        }
    } else if (mask & IN_MOVED_TO) {
        // A rename onto an entry replaces it: the way editors save.
        const bool existed = !interest.known.insert(name).second;
        if (existed ? (kinds & Modify) : (kinds & Create)) {
            pend(eventFor(spec, interest, existed ? Modify : Create, name));
        }
    } else if (mask & IN_CLOSE_WRITE) {
        interest.known.insert(name);
        if (kinds & Modify) {
            pend(eventFor(spec, interest, Modify, name));
        }
    } else if (mask & (IN_DELETE | IN_MOVED_FROM)) {
        interest.known.erase(name);
        if (kinds & Delete) {
            pend(eventFor(spec, interest, Delete, name));
        }
    }
}

FileEvent FileWatcher::eventFor(const Spec& spec, const Interest& interest, Kind kind,
                                const std::string& name) const {
    FileEvent event;
    event.file = spec.spec.file;
    event.kind = kind;
    if (interest.kind == Interest::Kind::Entries) {
        event.match = joinPath(interest.dir, name);
    }
    event.recursive = spec.spec.recursive_text;
    return event;
}

void FileWatcher::pend(FileEvent event) {
    // Jobs that share a FILE share its events: one inotify event makes each `file` event once.
    std::string key = event.file + '\0' + std::string(kindName(event.kind)) + '\0' + event.match +
                      '\0' + event.recursive;
    if (pending_keys_.insert(std::move(key)).second) {
        pending_.push_back(std::move(event));
    }
}

void FileWatcher::flush() {
    std::vector<FileEvent> events = std::move(pending_);
    pending_.clear();
    pending_keys_.clear();
    for (const auto& event : events) {
        emit_(event);
    }
}

}  // namespace tend::file_bridge
