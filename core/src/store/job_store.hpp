// SPDX-License-Identifier: MIT
// The job configuration a running tend holds: every job file on the search path, read at
// start-up and again whenever the files change (job_watcher.hpp), on `reload-configuration`
// and on SIGHUP.
//
// A rescan re-parses only files whose identity (device, inode, size, modification time, of the
// `.conf` and of its `.override`) changed, and applies only the differences: a file that no
// longer parses keeps its last good definition in force, a file that is gone takes its job with
// it once the job has stopped, and running instances finish on the definition they started
// with (except `start on`/`stop on`, which take effect at once). Every rescan produces a plan:
// what was added, changed or removed, and what that means for running instances.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "conf/job_loader.hpp"
#include "conf/stanza_registry.hpp"
#include "model/job_class.hpp"
#include "sys/file_stamp.hpp"
#include "tend/grammar/diagnostic.hpp"

namespace spdlog {
class logger;
}

namespace tend::dispatch {
class Supervisor;
}

namespace tend::store {

struct PlanStep {
    enum class Kind { Added, Changed, Removed, KeptLastGood, PendingRemoval };
    Kind kind = Kind::Added;
    std::string job;
    std::string detail;  // what changed, and what happens to running instances
};

struct RescanReport {
    bool dry_run = false;
    std::vector<std::string> added;
    std::vector<std::string> changed;
    std::vector<std::string> removed;
    std::vector<std::string> kept;  // broken now; the last good definition stays in force
    // Could not be read for want of descriptors or memory: as they were, and read again soon.
    std::vector<std::string> unread;
    // A job directory could not be listed whole for the same want: its jobs stay as they are.
    bool listing_cut_short = false;
    std::size_t unchanged = 0;
    std::size_t files = 0;
    std::size_t parsed = 0;  // files read and parsed by this rescan; the rest were unchanged
    std::vector<std::string> errors;  // every diagnostic, formatted `file:line:col: ...`
    std::vector<grammar::Diagnostic> diagnostics;  // the same, for tend's log
    std::vector<PlanStep> plan;

    bool empty() const { return plan.empty() && unread.empty() && !listing_cut_short; }
    // "3 job files: 1 added, 1 changed, 0 removed, 1 unchanged; 1 kept its last good ..."
    std::string summary() const;
    // The plan, one line per step ("nothing to do" when empty).
    std::string planText() const;
};

// Writes a rescan's plan to the log, one line per step, and its summary.
void logRescan(spdlog::logger& logger, const std::string& why, const RescanReport& report);
// Each diagnostic as one line of tend's log, at its severity's level: `file:line:col: message`
// (the level already says error or warning).
void logDiagnostics(spdlog::logger& logger, const RescanReport& report);

struct RescanOptions {
    bool dry_run = false;
    // Parse every file even if unchanged: the stanzas tend understands changed (a plugin came
    // or went).
    bool reread_all = false;
    // A file missing for less than this is not yet a removal: editors and tools delete and
    // re-create. Zero applies removals at once (explicit rescans).
    std::chrono::milliseconds removal_grace{0};
    std::function<void(std::size_t done, std::size_t total)> progress;
};

class JobStore {
  public:
    JobStore(dispatch::Supervisor& supervisor, std::vector<std::filesystem::path> dirs,
             std::shared_ptr<spdlog::logger> logger);

    RescanReport rescan(const RescanOptions& options = {});
    // The same for the job files of the given names alone (`sub/name`, as inotify named them),
    // and for files missing since earlier: a one-file edit costs one file, not the tree. The
    // report counts the whole tree, as rescan's does. A dry run looks at the whole tree.
    RescanReport rescanNamed(const std::set<std::string, std::less<>>& names,
                             const RescanOptions& options = {});

    const std::vector<std::filesystem::path>& directories() const { return dirs_; }
    // The stanzas job files may use; plugins add theirs (then rescan with reread_all).
    conf::StanzaRegistry& registry() { return registry_; }
    // Since when the longest-missing job file has been missing, if one is: its removal falls
    // due a grace period later, and the watcher rescans again then.
    std::optional<std::chrono::steady_clock::time_point> oldestMissing() const;

    // Out of descriptors or memory, a job file cannot be opened, or a directory listed, though
    // nothing is wrong with it. Such a file is not taken as broken, nor a job whose directory was
    // not listed as removed: the store owes them another read, which every later rescan gives
    // (a named one takes them in, or looks at the whole tree after a listing cut short).
    // `retry` is called after each rescan that leaves one owed; the watcher rescans after
    // kShortageRetry.
    static constexpr std::chrono::seconds kShortageRetry{1};
    void onRetryOwed(std::function<void()> retry) { retry_owed_ = std::move(retry); }
    bool owesARead() const { return relist_ || !unread_.empty(); }
    // Resolved targets of job files that are symlinks (of the named jobs' files, when given), to
    // watch them too.
    std::vector<std::filesystem::path> symlinkTargets(
        const std::set<std::string, std::less<>>* names = nullptr) const;

  private:
    struct Known {
        // A string, not a path: a path also keeps its components, 300 bytes more per file.
        std::string path;
        sys::FileStamp conf;
        sys::FileStamp override_file;
        std::shared_ptr<const model::JobClass> good;  // null: never parsed cleanly
        bool racy = false;  // stamped too soon after a write to trust the stamp: read again
        std::string error;  // set while the file does not parse
        std::optional<std::chrono::steady_clock::time_point> missing_since;
    };

    // The search directory `path` lies in, as an index into dirs_ (their count if none).
    std::size_t directoryIndexOf(const std::filesystem::path& path) const;
    // Both rescans: `named` null looks at the whole tree.
    RescanReport scan(const std::set<std::string, std::less<>>* named,
                      const RescanOptions& options);
    // Reads `file` if its stamps changed (or a read of it is owed) and applies what changed.
    void consider(const conf::JobFile& file, std::int64_t coarse_now, bool read_owed,
                  const RescanOptions& options, RescanReport& report);
    // A job file that could not be read for want of descriptors or memory: reported, left as it
    // was, and owed another read.
    void deferRead(const std::string& name, Known* known, const conf::LoadResult& result,
                   const RescanOptions& options, RescanReport& report);
    // Known files that no file on the search path owns any more (among `looked_at`, when
    // given): missing now, removed once their grace is over.
    void retireMissing(const std::set<std::string, std::less<>>* looked_at,
                       const std::set<std::string, std::less<>>& owned,
                       std::chrono::steady_clock::time_point now, const RescanOptions& options,
                       RescanReport& report);
    // Records what a rescan read of one job file: its stamps, and its error (empty: it parsed).
    Known& remember(const std::string& name, const std::filesystem::path& path,
                    const sys::FileStamp& conf, const sys::FileStamp& override_file, bool racy,
                    std::string error);

    dispatch::Supervisor& supervisor_;
    std::vector<std::filesystem::path> dirs_;
    std::shared_ptr<spdlog::logger> logger_;
    conf::StanzaRegistry registry_;
    std::map<std::string, Known, std::less<>> known_;
    std::set<std::string, std::less<>> unread_;  // job files to read again (see owesARead)
    bool relist_ = false;                        // a directory's listing was cut short
    std::function<void()> retry_owed_;
};

}  // namespace tend::store
