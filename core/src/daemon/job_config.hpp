// SPDX-License-Identifier: MIT
// The job configuration a running tend holds: every job file on the search path, read at
// start-up and again on `reload-configuration`. A reload changes only what changed. A file that
// no longer parses keeps its last good definition in force, a file that is gone takes its job
// with it once the job has stopped, and running instances finish on the definition they
// started with.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "conf/stanza_registry.hpp"
#include "model/job_class.hpp"

namespace spdlog {
class logger;
}

namespace tend::dispatch {
class Supervisor;
}

namespace tend::daemon {

struct ReloadReport {
    std::vector<std::string> added;
    std::vector<std::string> changed;
    std::vector<std::string> removed;
    std::vector<std::string> kept;  // broken now; the last good definition stays in force
    std::size_t unchanged = 0;
    std::size_t files = 0;
    std::vector<std::string> errors;  // every diagnostic, formatted `file:line:col: ...`

    // "3 job files: 1 added, 1 changed, 0 removed, 1 unchanged; 1 kept its last good ..."
    std::string summary() const;
};

class JobConfig {
  public:
    JobConfig(dispatch::Supervisor& supervisor, std::vector<std::filesystem::path> dirs,
              std::shared_ptr<spdlog::logger> logger);

    // Reads every directory and applies the differences. `progress(done, total)` runs as files
    // are read, for a client watching a large tree.
    using Progress = std::function<void(std::size_t done, std::size_t total)>;
    ReloadReport reload(const Progress& progress = {});

    const std::vector<std::filesystem::path>& directories() const { return dirs_; }
    // The file each loaded job came from.
    const std::map<std::string, std::filesystem::path, std::less<>>& files() const {
        return files_;
    }

  private:
    dispatch::Supervisor& supervisor_;
    std::vector<std::filesystem::path> dirs_;
    std::shared_ptr<spdlog::logger> logger_;
    conf::StanzaRegistry registry_;
    std::map<std::string, std::filesystem::path, std::less<>> files_;
};

}  // namespace tend::daemon
