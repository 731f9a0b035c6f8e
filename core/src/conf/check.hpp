// SPDX-License-Identifier: MIT
// The offline checker behind `tend --check` and `tendctl check-config`: loads job files or
// directories without a daemon and reports every diagnostic. With `CheckOptions::lint` it also
// judges the loaded jobs as one session (conf/job_lint.hpp): unknown events and jobs, conditions
// that can never be true, stanzas a user session ignores.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conf/job_lint.hpp"
#include "conf/job_loader.hpp"

namespace tend::conf {

struct CheckFinding {
    FindingKind kind = FindingKind::Syntax;
    grammar::Diagnostic diagnostic;
};

struct CheckedFile {
    std::string job;  // the job name, empty for a path that is not a job file
    std::string path;
    // What loading the file said, in file order, then what the lint rules say about the job.
    std::vector<CheckFinding> findings;
    std::optional<model::JobClass> job_class;
};

struct CheckOptions {
    bool lint = false;
    // Events to take as given (`--ignore-events`), as fnmatch globs.
    std::vector<std::string> assumed_events;
    // Jobs provided elsewhere (`--provided-jobs`), as fnmatch globs: conditions on their
    // lifecycle events are not findings.
    std::vector<std::string> provided_jobs;
    // The plugins that are loaded and the events they emit; unset, the standard plugins' events
    // are taken as given.
    std::optional<std::vector<PluginEvents>> loaded_plugins;
    // Job directories that are part of the session but not reported on: their jobs exist and
    // their `emits` count. `tendctl check-config FILE` passes the search path here.
    std::vector<std::filesystem::path> context;
};

struct CheckReport {
    std::vector<CheckedFile> files;
    std::size_t errorCount() const;
    std::size_t warningCount() const;
    std::size_t filesWithErrors() const;
    // Whether the check fails: on any error, and with `warnings_fail` on any warning too.
    bool failed(bool warnings_fail = false) const;
    // Human form: every diagnostic, then one summary line.
    std::string text() const;
    std::string json(bool warnings_fail = false) const;
    // A report document as `--json` prints it: one line, as every other command prints its
    // JSON, with invalid UTF-8 replaced. The one form for `tend --check`, `tendctl
    // check-config` offline and the report a running tend sends it.
    static std::string jsonText(const nlohmann::json& document);
    nlohmann::json document(bool warnings_fail = false) const;

    // A check made on someone else's behalf (a running tend for tendctl) reads absolute paths;
    // this shows the files below each relative path the user gave as that user would have seen
    // them: `jobs/a.conf` for `jobs` given in `base`.
    void showPathsAsGiven(const std::filesystem::path& base,
                          const std::vector<std::filesystem::path>& given);
};

CheckReport checkPaths(const std::vector<std::filesystem::path>& paths,
                       const StanzaRegistry& registry, const CheckOptions& options = {});

}  // namespace tend::conf
