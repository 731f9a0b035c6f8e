// SPDX-License-Identifier: MIT
// FileWatcher: turns the jobs' WatchSpecs into inotify watches, and inotify events into `file`
// events.
//
// Each spec is *resolved* into Interests in directories that exist now:
//   - a file: its name in its directory;
//   - a glob: the directory's entries that match (and, RECURSIVE=yes, those of every directory
//     below it);
//   - a directory: its name in its parent (its own creation and deletion) and all its entries
//     (of the whole tree, RECURSIVE=yes);
//   - and where the directory is missing, the next step down from the nearest ancestor that
//     exists (`Toward`), so that a `mkdir -p` is followed down to the target.
// Whenever a directory on a spec's path comes, goes or is replaced, the spec is resolved again;
// interests it still needs are kept (with what they know), new ones scan their directory.
//
// What exists is tracked per interest, which makes three things exact: a file created while its
// directory's watch was being set up is reported once (by the scan or by inotify, not both); a
// rename onto a file (an editor's save) is a `modify` of it, or a `create` if it was not there;
// and a job that starts waiting for a file that exists gets its `create` at once, as Upstart's
// bridge did.
#pragma once

#include <tend/plugin/plugin.hpp>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "inotify_watches.hpp"
#include "watch_spec.hpp"

namespace tend::file_bridge {

// One `file` event: FILE=, EVENT=, and MATCH= (an entry of a watched directory or glob) and
// RECURSIVE= when they apply.
struct FileEvent {
    std::string file;
    Kind kind = Create;
    std::string match;
    std::string recursive;

    std::vector<std::string> env() const;
    friend bool operator==(const FileEvent&, const FileEvent&) = default;
};

class FileWatcher {
  public:
    using Emit = std::function<void(const FileEvent&)>;
    using Log = std::function<void(plugin::LogLevel, const std::string&)>;

    FileWatcher(InotifyCalls& calls, Emit emit, Log log);
    ~FileWatcher();
    FileWatcher(const FileWatcher&) = delete;
    FileWatcher& operator=(const FileWatcher&) = delete;

    // Everything `job` watches now (none: it watches nothing, or is gone). A spec new to the job
    // that wants `create` announces what exists already.
    void setJob(const std::string& job, const std::vector<WatchSpec>& specs);
    // One event read from inotify.
    void handle(const RawEvent& event);

    std::size_t watchCount() const { return table_.watchCount(); }
    std::size_t specCount() const { return specs_.size(); }

  private:
    struct Spec {
        WatchSpec spec;
        std::set<std::string> jobs;
        std::vector<std::unique_ptr<Interest>> interests;
        bool incomplete = false;  // a watch it needs could not be added
    };
    struct Wanted {
        Interest::Kind kind;
        std::string dir;
        std::string name;
        bool recursive = false;
        dev_t dev = 0;
        ino_t ino = 0;
    };

    Spec* find(std::size_t id);
    std::size_t specFor(const WatchSpec& spec, bool& created);
    void detach(const std::string& job, std::size_t id);

    std::vector<Wanted> wanted(const WatchSpec& spec) const;
    void subtree(const WatchSpec& spec, const std::string& dir, std::vector<Wanted>& out) const;
    void resolve(std::size_t id, bool initial);
    void addSubtree(std::size_t id, const std::string& dir);
    void dropSubtree(std::size_t id, const std::string& dir);
    // Adds the interest to the table; false if inotify refused (reported).
    bool attach(Spec& spec, Interest& interest, int& error);
    void scan(const Spec& spec, Interest& interest, bool initial);
    void announce(const Spec& spec);
    void resync();
    void reportFailure(const Spec& spec, const std::string& dir, int error);

    void entryChanged(const Spec& spec, Interest& interest, std::uint32_t mask,
                      const std::string& name);
    FileEvent eventFor(const Spec& spec, const Interest& interest, Kind kind,
                       const std::string& name) const;
    void pend(FileEvent event);
    void flush();

    WatchTable table_;
    Emit emit_;
    Log log_;
    std::map<std::size_t, Spec> specs_;
    std::map<WatchSpec, std::size_t> ids_;
    std::map<std::string, std::set<std::size_t>> jobs_;
    std::size_t next_id_ = 1;
    std::vector<FileEvent> pending_;
    std::unordered_set<std::string> pending_keys_;
    std::set<std::string> told_limit_;  // jobs already told about the watch limit
    std::set<std::string> told_other_;  // directories already reported for other errors
};

}  // namespace tend::file_bridge
