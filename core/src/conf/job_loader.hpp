// SPDX-License-Identifier: MIT
// Reading job files from disk: one `.conf` plus its `.override`, or a whole job directory. The
// same code serves the daemon, `tend --check` and the tests.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "conf/stanza_registry.hpp"
#include "model/job_class.hpp"
#include "tend/grammar/diagnostic.hpp"

namespace tend::conf {

struct LoadResult {
    std::optional<model::JobClass> job;  // empty when the `.conf` itself has errors
    std::vector<grammar::Diagnostic> diagnostics;

    bool hasErrors() const;
};

// Builds a JobClass from text. A broken override is reported and ignored, leaving the `.conf`
// alone in force, as Upstart did.
LoadResult loadJob(std::string name, const grammar::SourceText& conf,
                   const grammar::SourceText* override_text, const StanzaRegistry& registry);

// Reads `path` (a `.conf`) and its sibling `.override` if there is one.
LoadResult loadJobFile(std::string name, const std::filesystem::path& path,
                       const StanzaRegistry& registry);

struct JobFile {
    std::string name;  // `sub/name` for `DIR/sub/name.conf`
    std::filesystem::path path;
    bool has_override = false;  // `DIR/sub/name.override` was there when the directory was read
};

// Every `*.conf` below `dir`, sorted by name. Unreadable entries become diagnostics.
std::vector<JobFile> findJobFiles(const std::filesystem::path& dir,
                                  std::vector<grammar::Diagnostic>& problems);

// The job file that `findJobFiles(dir)` would list under `name` (`sub/name`), if there is one,
// found without listing the directory: what a reload of one named file needs.
std::optional<JobFile> findJobFile(const std::filesystem::path& dir, const std::string& name);

// A diagnostic about a whole file (no line): "path: error: message".
grammar::Diagnostic fileDiagnostic(const std::filesystem::path& path, std::string message,
                                   grammar::Severity severity = grammar::Severity::Error);

std::optional<grammar::SourceText> readSource(const std::filesystem::path& path,
                                              std::vector<grammar::Diagnostic>& problems);

}  // namespace tend::conf
