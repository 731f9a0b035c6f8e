// SPDX-License-Identifier: MIT
// The events that can happen in a session and the jobs that exist in it: what
// `tendctl check-config` measures every `start on` and `stop on` against.
//
// An event is known by its source: tend itself (`startup`, `session-end`, the lifecycle events of
// every job), a job that declares it with `emits` (globs allowed, as in Upstart), a plugin that is
// loaded and declares it (TEND_PLUGIN_EMITS), or the user, who says to take it as given
// (`--ignore-events`); `<event>/failed` can happen for each of those. tend knows which standard
// plugin emits `file`, `dbus`, `dbus-name` and `:sys:*` even when that plugin is not loaded, so
// that a condition on one of them can say which plugin it waits for. `tendctl emit` can send any
// event at all, so this is about what the configuration provides, as with Upstart's check-config.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "model/job_class.hpp"

namespace tend::conf {

// A loaded plugin and the events it emits (fnmatch globs).
struct PluginEvents {
    std::string plugin;
    std::vector<std::string> emits;
};

class EventSources {
  public:
    // Knows tend's own events. Until setLoadedPlugins() says which plugins are loaded, the
    // standard plugins' events are taken as given.
    EventSources();

    // The job's name and the events it `emits`.
    void addJob(const model::JobClass& job);
    // A job file that does not load still names a job; what it emits is unknown.
    void addJobName(std::string name);
    // An fnmatch glob of events to take as given.
    void assumeEvents(std::string pattern);
    // Jobs provided elsewhere (`--provided-jobs`): fnmatch globs of job names taken as existing.
    void assumeJobs(std::string pattern);
    // The plugins that are loaded: their events can happen, and a standard plugin's events
    // can happen only when it is among them.
    void setLoadedPlugins(const std::vector<PluginEvents>& plugins);

    bool canHappen(std::string_view event) const;
    // When `event` cannot happen because the standard plugin that emits it is not loaded: that
    // plugin's name.
    std::optional<std::string> absentPlugin(std::string_view event) const;
    bool jobExists(std::string_view name) const;
    // Whether plugin `name` runs (true while setLoadedPlugins() has not said).
    bool pluginLoaded(std::string_view name) const {
        return !plugins_known_ || loaded_plugins_.contains(std::string(name));
    }
    const std::set<std::string>& jobs() const { return jobs_; }

    // The standard plugin that emits `event`, whether or not it is loaded.
    static std::optional<std::string> standardPluginFor(std::string_view event);

  private:
    bool matchesAnyPattern(std::string_view event) const;
    bool provided(std::string_view event) const;

    std::vector<std::string> patterns_;
    std::vector<std::string> job_patterns_;
    std::set<std::string> jobs_;
    std::set<std::string> loaded_plugins_;
    bool plugins_known_ = false;
};

}  // namespace tend::conf
