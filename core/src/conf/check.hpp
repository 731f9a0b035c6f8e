// SPDX-License-Identifier: MIT
// The offline checker behind `tend --check` and `tendctl check-config`: loads job files or
// directories without a daemon and reports every diagnostic.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "conf/job_loader.hpp"

namespace tend::conf {

struct CheckedFile {
    std::string job;  // the job name, empty for a path that is not a job file
    std::string path;
    std::vector<grammar::Diagnostic> diagnostics;
    std::optional<model::JobClass> job_class;
};

struct CheckReport {
    std::vector<CheckedFile> files;
    std::size_t errorCount() const;
    std::size_t filesWithErrors() const;
    // Human form: every diagnostic, then one summary line.
    std::string text() const;
    std::string json() const;
};

CheckReport checkPaths(const std::vector<std::filesystem::path>& paths,
                       const StanzaRegistry& registry);

}  // namespace tend::conf
