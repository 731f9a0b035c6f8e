// SPDX-License-Identifier: MIT
#include "daemon/job_config.hpp"

#include <spdlog/spdlog.h>
#include <set>

#include "conf/job_loader.hpp"
#include "dispatch/supervisor.hpp"

namespace tend::daemon {

namespace fs = std::filesystem;

std::string ReloadReport::summary() const {
    std::string out = std::to_string(files) + (files == 1 ? " job file: " : " job files: ") +
                      std::to_string(added.size()) + " added, " + std::to_string(changed.size()) +
                      " changed, " + std::to_string(removed.size()) + " removed, " +
                      std::to_string(unchanged) + " unchanged";
    if (!kept.empty()) {
        out += "; " + std::to_string(kept.size()) +
               (kept.size() == 1 ? " has errors and keeps its" : " have errors and keep their") +
               " last good definition";
    }
    return out;
}

JobConfig::JobConfig(dispatch::Supervisor& supervisor, std::vector<fs::path> dirs,
                     std::shared_ptr<spdlog::logger> logger)
    : supervisor_(supervisor),
      dirs_(std::move(dirs)),
      logger_(std::move(logger)),
      registry_(conf::StanzaRegistry::withCoreStanzas()) {}

ReloadReport JobConfig::reload(const Progress& progress) {
    ReloadReport report;
    std::vector<conf::JobFile> found;
    std::set<std::string, std::less<>> owned;
    std::vector<grammar::Diagnostic> problems;
    for (const auto& dir : dirs_) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) {
            continue;
        }
        for (auto& file : conf::findJobFiles(dir, problems)) {
            if (!owned.insert(file.name).second) {
                logger_->debug("{}: ignored; job {} is defined earlier on the search path",
                               file.path.string(), file.name);
                continue;
            }
            found.push_back(std::move(file));
        }
    }
    for (const auto& problem : problems) {
        logger_->error("{}", problem.format());
        report.errors.push_back(problem.format());
    }
    report.files = found.size();

    std::map<std::string, fs::path, std::less<>> files;
    std::size_t done = 0;
    for (const auto& file : found) {
        auto result = conf::loadJobFile(file.name, file.path, registry_);
        for (const auto& diagnostic : result.diagnostics) {
            if (diagnostic.severity == grammar::Severity::Error) {
                logger_->error("{}", diagnostic.format());
            } else {
                logger_->warn("{}", diagnostic.format());
            }
            report.errors.push_back(diagnostic.format());
        }
        const dispatch::ClassEntry* current = supervisor_.findClass(file.name);
        const bool known = current && !current->deleted && files_.contains(file.name);
        if (!result.job) {
            if (known) {
                logger_->warn("{}: keeping the last good definition of {} until the file is fixed",
                              file.path.string(), file.name);
                report.kept.push_back(file.name);
                files.emplace(file.name, file.path);
            }
        } else if (known && *current->cls == *result.job) {
            ++report.unchanged;
            files.emplace(file.name, file.path);
        } else {
            (known ? report.changed : report.added).push_back(file.name);
            supervisor_.setClass(std::make_shared<const model::JobClass>(std::move(*result.job)));
            files.emplace(file.name, file.path);
        }
        if (progress) {
            progress(++done, found.size());
        }
    }
    for (const auto& [name, path] : files_) {
        if (!files.contains(name)) {
            report.removed.push_back(name);
            supervisor_.removeClass(name);
        }
    }
    files_ = std::move(files);
    return report;
}

}  // namespace tend::daemon
