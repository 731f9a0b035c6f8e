// SPDX-License-Identifier: MIT
// The events that can happen in a session and the jobs that exist in it: what
// `tendctl check-config` measures every `start on` and `stop on` against.
//
// An event can happen when tend emits it (`startup`, `session-end`, the lifecycle events of every
// job), when one of its bridges does (`file`, `dbus`), when some job declares it with `emits`
// (globs allowed, as in Upstart), or when the user says to take it as given
// (`--ignore-events`); `<event>/failed` can happen for each of those. `tendctl emit` can send
// any event at all, so this is about what the configuration provides, as with Upstart's
// check-config.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "model/job_class.hpp"

namespace tend::conf {

class EventSources {
  public:
    // Knows tend's own events and its bridges'.
    EventSources();

    // The job's name and the events it `emits`.
    void addJob(const model::JobClass& job);
    // A job file that does not load still names a job; what it emits is unknown.
    void addJobName(std::string name);
    // An fnmatch glob of events to take as given.
    void assumeEvents(std::string pattern);

    bool canHappen(std::string_view event) const;
    const std::set<std::string>& jobs() const { return jobs_; }

  private:
    bool matchesAnyPattern(std::string_view event) const;

    std::vector<std::string> patterns_;
    std::set<std::string> jobs_;
};

}  // namespace tend::conf
