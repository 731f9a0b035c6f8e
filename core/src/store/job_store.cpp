// SPDX-License-Identifier: MIT
#include "store/job_store.hpp"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <ctime>
#include <set>

#include "conf/job_loader.hpp"
#include "dispatch/supervisor.hpp"
#include "model/comma_list.hpp"

namespace tend::store {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Whether a file could still change without its stamp changing, because the time its stamp was
// taken (`coarse_now`, CLOCK_REALTIME_COARSE, the clock file times come from) is still within
// the timestamp granule of its last change: the same kernel tick, or the same second or two on
// filesystems that keep whole seconds (ext4 with 128-byte inodes, FAT, some network
// filesystems). Such a file is read again at the next reload whatever its stamp says, as git
// does with "racy" index entries. The granule is guessed from the timestamps themselves.
bool racyStamp(const sys::FileStamp& stamp, std::int64_t coarse_now) {
    if (!stamp.exists) {
        return false;
    }
    constexpr std::int64_t kSecond = 1'000'000'000;
    std::int64_t granule = 1;
    while (granule < kSecond && stamp.ctime_ns % (granule * 10) == 0 &&
           stamp.mtime_ns % (granule * 10) == 0) {
        granule *= 10;
    }
    if (granule == kSecond) {
        granule = 2 * kSecond;  // FAT keeps even seconds
    }
    return stamp.ctime_ns + granule > coarse_now;
}

fs::path overridePath(const fs::path& conf) {
    fs::path path = conf;
    path.replace_extension(".override");
    return path;
}

// The parts of a definition that differ, in the words of the job file.
std::vector<std::string> differences(const model::JobClass& before, const model::JobClass& after) {
    std::vector<std::string> out;
    if (before.start_on != after.start_on) {
        out.emplace_back("start on");
    }
    if (before.stop_on != after.stop_on) {
        out.emplace_back("stop on");
    }
    for (model::ProcessType type : model::kProcessTypes) {
        const model::Process* was = before.process(type);
        const model::Process* is = after.process(type);
        if ((was == nullptr) != (is == nullptr) || (was && *was != *is)) {
            out.emplace_back(type == model::ProcessType::Main ? "exec/script"
                                                              : model::processTypeName(type));
        }
    }
    if (before.env != after.env || before.exports != after.exports) {
        out.emplace_back("env");
    }
    model::JobClass rest_before = before;
    model::JobClass rest_after = after;
    rest_before.start_on = rest_after.start_on;
    rest_before.stop_on = rest_after.stop_on;
    rest_before.processes = rest_after.processes;
    rest_before.env = rest_after.env;
    rest_before.exports = rest_after.exports;
    if (rest_before != rest_after) {
        out.emplace_back("other stanzas");
    }
    return out;
}

bool conditionsOnly(const std::vector<std::string>& changed) {
    return std::all_of(changed.begin(), changed.end(), [](const std::string& part) {
        return part == "start on" || part == "stop on";
    });
}

// The definition a running instance of `entry` started with, when it equals `definition`: an
// edit undone, or a removed file back as it was. Handing that very object back to the
// supervisor keeps the instance from showing "definition changed" (it compares by identity).
std::shared_ptr<const model::JobClass> runningDefinition(const dispatch::ClassEntry* entry,
                                                         const model::JobClass& definition) {
    if (!entry) {
        return nullptr;
    }
    for (const auto& [name, job] : entry->instances) {
        if (job->cls && *job->cls == definition) {
            return job->cls;
        }
    }
    return nullptr;
}

// What a reload means for the instances that run now.
std::string runningEffect(const dispatch::ClassEntry* entry, bool removed, bool conditions_only,
                          const model::JobClass* definition = nullptr) {
    if (!entry || entry->instances.empty()) {
        return removed ? "" : "; applies at its next start";
    }
    if (definition &&
        std::all_of(entry->instances.begin(), entry->instances.end(), [&](const auto& item) {
            return item.second->cls && *item.second->cls == *definition;
        })) {
        return entry->instances.size() == 1 ? "; its running instance already runs it"
                                            : "; its running instances already run it";
    }
    std::string pids;
    for (const auto& [name, job] : entry->instances) {
        if (job->mainPid()) {
            pids += (pids.empty() ? "" : ", ") + std::to_string(job->mainPid());
        }
    }
    const std::string which =
        entry->instances.size() == 1
            ? "its running instance" + (pids.empty() ? "" : " (process " + pids + ")")
            : std::to_string(entry->instances.size()) + " running instances" +
                  (pids.empty() ? "" : " (processes " + pids + ")");
    if (removed) {
        return "; " + which + " keeps running until it stops";
    }
    if (conditions_only) {
        return "; start on/stop on take effect now";
    }
    return "; " + which + " keeps its old definition until it stops (tendctl restart --reload " +
           entry->cls->name + " applies it now)";
}

}  // namespace

JobStore::JobStore(dispatch::Supervisor& supervisor, std::vector<fs::path> dirs,
                   std::shared_ptr<spdlog::logger> logger)
    : supervisor_(supervisor),
      dirs_(std::move(dirs)),
      logger_(std::move(logger)),
      registry_(conf::StanzaRegistry::withCoreStanzas()) {}

JobStore::Known& JobStore::remember(const std::string& name, const fs::path& path,
                                    const sys::FileStamp& conf, const sys::FileStamp& override_file,
                                    bool racy, std::string error) {
    Known& known = known_[name];
    known.path = path.native();
    known.conf = conf;
    known.override_file = override_file;
    known.racy = racy;
    known.error = std::move(error);
    known.missing_since.reset();
    return known;
}

RescanReport JobStore::rescan(const RescanOptions& options) {
    return scan(nullptr, options);
}

RescanReport JobStore::rescanNamed(const std::set<std::string, std::less<>>& names,
                                   const RescanOptions& options) {
    // What a dry run would count is the whole tree's to say.
    return scan(options.dry_run ? nullptr : &names, options);
}

std::size_t JobStore::directoryIndexOf(const fs::path& path) const {
    for (std::size_t i = 0; i < dirs_.size(); ++i) {
        const fs::path relative = path.lexically_relative(dirs_[i]);
        if (!relative.empty() && *relative.begin() != "..") {
            return i;
        }
    }
    return dirs_.size();
}

RescanReport JobStore::scan(const std::set<std::string, std::less<>>* named,
                            const RescanOptions& options) {
    if (relist_) {
        named = nullptr;  // only a whole listing says what the one cut short missed
    }
    // Read again whatever could not be read before; consider() notes it again if it still cannot.
    const std::set<std::string, std::less<>> owed =
        options.dry_run ? unread_ : std::exchange(unread_, {});
    RescanReport report;
    report.dry_run = options.dry_run;
    const auto now = Clock::now();
    timespec coarse{};
    ::clock_gettime(CLOCK_REALTIME_COARSE, &coarse);  // before any file is read
    const std::int64_t coarse_now =
        static_cast<std::int64_t>(coarse.tv_sec) * 1'000'000'000 + coarse.tv_nsec;

    // Which file owns each name: the first directory on the search path that has it.
    std::vector<conf::JobFile> found;
    std::set<std::string, std::less<>> owned;
    // A named rescan looks at the names it was given and at the files missing since an earlier
    // one (their removal may have fallen due); every other known file is as it was.
    std::set<std::string, std::less<>> looked_at;
    if (named) {
        looked_at = *named;
        looked_at.insert(owed.begin(), owed.end());
        for (const auto& [name, known] : known_) {
            if (known.missing_since) {
                looked_at.insert(name);
            }
        }
        std::vector<std::pair<std::size_t, conf::JobFile>> in_order;
        for (const auto& name : looked_at) {
            for (std::size_t i = 0; i < dirs_.size(); ++i) {
                if (auto file = conf::findJobFile(dirs_[i], name)) {
                    owned.insert(name);
                    in_order.emplace_back(i, std::move(*file));
                    break;
                }
            }
        }
        // In the whole tree's order, directory by directory, so that the reports read alike.
        std::sort(in_order.begin(), in_order.end(), [](const auto& a, const auto& b) {
            return a.first != b.first ? a.first < b.first : a.second.name < b.second.name;
        });
        for (auto& [index, file] : in_order) {
            found.push_back(std::move(file));
        }
    } else {
        std::vector<grammar::Diagnostic> problems;
        for (std::size_t i = 0; i < dirs_.size(); ++i) {
            std::error_code ec;
            if (!fs::is_directory(dirs_[i], ec)) {
                continue;
            }
            const std::size_t problems_before = problems.size();
            for (auto& file : conf::findJobFiles(dirs_[i], problems)) {
                if (owned.insert(file.name).second) {
                    found.push_back(std::move(file));
                }
            }
            if (std::any_of(problems.begin() + static_cast<std::ptrdiff_t>(problems_before),
                            problems.end(),
                            [](const grammar::Diagnostic& d) { return d.transient; })) {
                // What the listing did not reach is not gone: the jobs of this directory stay
                // as they are, and keep their names from the directories after it.
                report.listing_cut_short = true;
                for (const auto& [name, known] : known_) {
                    if (directoryIndexOf(known.path) == i && owned.insert(name).second) {
                        ++report.files;  // counted as it stands
                        if (!known.good) {
                            continue;
                        }
                        if (known.error.empty()) {
                            ++report.unchanged;
                        } else {
                            report.kept.push_back(name);
                        }
                    }
                }
            }
        }
        if (!options.dry_run) {
            relist_ = report.listing_cut_short;
        }
        for (const auto& problem : problems) {
            report.errors.push_back(problem.format());
            report.diagnostics.push_back(problem);
        }
        report.files += found.size();
    }

    std::size_t done = 0;
    for (const auto& file : found) {
        if (options.progress) {
            options.progress(++done, found.size());
        }
        consider(file, coarse_now, owed.contains(file.name), options, report);
    }
    retireMissing(named ? &looked_at : nullptr, owned, now, options, report);
    if (!options.dry_run && owesARead() && retry_owed_) {
        retry_owed_();
    }
    if (named) {
        // The files not looked at count as the whole-tree rescan would have found them.
        for (const auto& [name, known] : known_) {
            if (known.missing_since) {
                continue;
            }
            ++report.files;
            if (looked_at.contains(name) || !known.good) {
                continue;
            }
            if (known.error.empty()) {
                ++report.unchanged;
            } else {
                report.kept.push_back(name);
            }
        }
        for (const auto& name : report.unread) {
            report.files += known_.contains(name) ? 0 : 1;  // new, and not read yet
        }
        std::sort(report.kept.begin(), report.kept.end(),
                  [this](const std::string& a, const std::string& b) {
                      const std::size_t in_a = directoryIndexOf(known_.find(a)->second.path);
                      const std::size_t in_b = directoryIndexOf(known_.find(b)->second.path);
                      return in_a != in_b ? in_a < in_b : a < b;
                  });
    }
    return report;
}

void JobStore::consider(const conf::JobFile& file, std::int64_t coarse_now, bool read_owed,
                        const RescanOptions& options, RescanReport& report) {
    const sys::FileStamp conf_stamp = sys::stampOf(file.path);
    const sys::FileStamp override_stamp =
        file.has_override ? sys::stampOf(overridePath(file.path)) : sys::FileStamp{};
    const bool racy = racyStamp(conf_stamp, coarse_now) || racyStamp(override_stamp, coarse_now);
    const auto known_it = known_.find(file.name);
    Known* known = known_it == known_.end() ? nullptr : &known_it->second;
    // Read again although the stamps match: they were taken too soon after a write.
    const bool racy_reread = known && known->path == file.path.native() &&
                             known->conf == conf_stamp && known->override_file == override_stamp &&
                             known->racy;
    if (known && known->path == file.path.native() && known->conf == conf_stamp &&
        known->override_file == override_stamp && !known->racy && !options.reread_all &&
        !read_owed) {
        if (!options.dry_run) {
            known->missing_since.reset();
        }
        if (!known->error.empty() && known->good) {
            report.kept.push_back(file.name);
        } else if (known->good) {
            ++report.unchanged;
        }
        return;  // not re-read: the file is the one already read
    }
    ++report.parsed;
    auto result = conf::loadJobFile(file.name, file.path, registry_);
    if (!result.job && std::any_of(result.diagnostics.begin(), result.diagnostics.end(),
                                   [](const grammar::Diagnostic& d) { return d.transient; })) {
        deferRead(file.name, known, result, options, report);
        return;
    }
    // The first error as `file:line:col: message`, for status and the plan.
    std::string headline;
    for (const auto& d : result.diagnostics) {
        if (headline.empty() && d.severity == grammar::Severity::Error) {
            headline = d.path +
                       (d.line ? ':' + std::to_string(d.line) + ':' + std::to_string(d.column)
                               : std::string()) +
                       ": " + d.message;
        }
    }
    // A racy re-read that finds the same errors has nothing new to say.
    if (!(racy_reread && !result.job && known->error == headline)) {
        for (const auto& diagnostic : result.diagnostics) {
            report.errors.push_back(diagnostic.format());
            report.diagnostics.push_back(diagnostic);
        }
    }
    const bool moved = known && known->path != file.path.native();
    const dispatch::ClassEntry* entry = supervisor_.findClass(file.name);
    if (!result.job) {
        if (known && known->good) {
            report.kept.push_back(file.name);
            if (!(racy_reread && known->error == headline)) {
                report.plan.push_back({PlanStep::Kind::KeptLastGood, file.name,
                                       headline + "; the last good definition stays in force"});
            }
        }
        if (!options.dry_run) {
            const Known& known_file =
                remember(file.name, file.path, conf_stamp, override_stamp, racy, headline);
            if (known_file.good) {
                supervisor_.setFileError(file.name, headline);
            }
        }
        return;
    }
    auto definition = std::make_shared<const model::JobClass>(std::move(*result.job));
    if (known && known->good && *known->good == *definition) {
        ++report.unchanged;
        if (!known->error.empty()) {
            report.plan.push_back({PlanStep::Kind::Changed, file.name,
                                   "the job file parses again; its definition is the one "
                                   "in force"});
        } else if (moved) {
            report.plan.push_back({PlanStep::Kind::Changed, file.name,
                                   "now defined by " + file.path.string() + " (same definition)"});
        }
    } else if (known && known->good) {
        const auto changed = differences(*known->good, *definition);
        report.changed.push_back(file.name);
        report.plan.push_back(
            {PlanStep::Kind::Changed, file.name,
             model::commaList(changed) + (moved ? " (now from " + file.path.string() + ")" : "") +
                 runningEffect(entry, false, conditionsOnly(changed), definition.get())});
    } else {
        report.added.push_back(file.name);
        std::string detail = file.path.string();
        if (entry && !entry->instances.empty()) {
            // Back while the instance of its removed predecessor still runs.
            detail +=
                runningEffect(entry, false, conditionsOnly(differences(*entry->cls, *definition)),
                              definition.get());
        }
        report.plan.push_back({PlanStep::Kind::Added, file.name, std::move(detail)});
    }
    if (options.dry_run) {
        return;
    }
    Known& known_file =
        remember(file.name, file.path, conf_stamp, override_stamp, racy, std::string());
    if (!known_file.good || *known_file.good != *definition || (entry && entry->deleted)) {
        if (auto running = runningDefinition(entry, *definition)) {
            definition = std::move(running);
        }
        known_file.good = definition;
        supervisor_.setClass(definition);
    }
    supervisor_.setFileError(file.name, {});
}

void JobStore::deferRead(const std::string& name, Known* known, const conf::LoadResult& result,
                         const RescanOptions& options, RescanReport& report) {
    for (const auto& diagnostic : result.diagnostics) {
        report.errors.push_back(diagnostic.format());
        report.diagnostics.push_back(diagnostic);
    }
    report.unread.push_back(name);
    if (known && known->good) {
        report.plan.push_back(
            {PlanStep::Kind::KeptLastGood, name,
             "not read for want of descriptors or memory; the definition in force stays until it "
             "can be"});
    }
    if (options.dry_run) {
        return;
    }
    // Its stamps are not taken: the next read must not find the file "unchanged".
    unread_.insert(name);
    if (known) {
        known->missing_since.reset();
    }
}

void JobStore::retireMissing(const std::set<std::string, std::less<>>* looked_at,
                             const std::set<std::string, std::less<>>& owned, Clock::time_point now,
                             const RescanOptions& options, RescanReport& report) {
    for (auto it = known_.begin(); it != known_.end();) {
        Known& known = it->second;
        if (owned.contains(it->first) || (looked_at && !looked_at->contains(it->first))) {
            ++it;
            continue;
        }
        if (!known.good) {
            // A broken file that never loaded: nothing to remove but our note of it.
            if (!options.dry_run) {
                it = known_.erase(it);
            } else {
                ++it;
            }
            continue;
        }
        if (!options.dry_run && !known.missing_since) {
            known.missing_since = now;
        }
        const bool due = options.dry_run || options.removal_grace.count() == 0 ||
                         now - *known.missing_since >= options.removal_grace;
        const dispatch::ClassEntry* entry = supervisor_.findClass(it->first);
        if (!due) {
            report.plan.push_back({PlanStep::Kind::PendingRemoval, it->first,
                                   known.path + " is gone; removing unless it returns"});
            ++it;
            continue;
        }
        report.removed.push_back(it->first);
        report.plan.push_back({PlanStep::Kind::Removed, it->first,
                               known.path + " is gone" + runningEffect(entry, true, false)});
        if (options.dry_run) {
            ++it;
            continue;
        }
        supervisor_.removeClass(it->first);
        it = known_.erase(it);
    }
}

std::optional<Clock::time_point> JobStore::oldestMissing() const {
    std::optional<Clock::time_point> earliest;
    for (const auto& [name, known] : known_) {
        if (known.missing_since && (!earliest || *known.missing_since < *earliest)) {
            earliest = known.missing_since;
        }
    }
    return earliest;
}

std::vector<fs::path> JobStore::symlinkTargets(
    const std::set<std::string, std::less<>>* names) const {
    std::vector<fs::path> out;
    for (const auto& [name, known] : known_) {
        if (names && !names->contains(name)) {
            continue;
        }
        std::error_code ec;
        for (const fs::path& path : {fs::path(known.path), overridePath(known.path)}) {
            if (fs::is_symlink(path, ec)) {
                const fs::path target = fs::canonical(path, ec);
                if (!ec) {
                    out.push_back(target);
                }
            }
        }
    }
    return out;
}

}  // namespace tend::store
