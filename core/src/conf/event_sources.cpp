// SPDX-License-Identifier: MIT
#include "conf/event_sources.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <utility>

namespace tend::conf {

namespace {

constexpr std::string_view kFailedSuffix = "/failed";

// The events of the standard plugins: known here so that a condition waiting on one names the
// plugin it needs even when that plugin is not loaded (its descriptor is then unread).
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kStandardPluginEvents{{
    {"file", "file-bridge"},
    {"dbus", "dbus-bridge"},
    {"dbus-name", "dbus-bridge"},
    {":sys:*", "dbus-bridge"},
}};

bool globMatches(std::string_view pattern, std::string_view text) {
    return ::fnmatch(std::string(pattern).c_str(), std::string(text).c_str(), 0) == 0;
}

// `<event>/failed` (but never `<event>/failed/failed`) without its suffix; empty otherwise.
std::string_view failedBase(std::string_view event) {
    if (!event.ends_with(kFailedSuffix)) {
        return {};
    }
    const std::string_view base = event.substr(0, event.size() - kFailedSuffix.size());
    return base.ends_with(kFailedSuffix) ? std::string_view{} : base;
}

}  // namespace

EventSources::EventSources()
    : patterns_{// tend itself: the lifecycle events of every job, the session's start and end,
                // and a desktop session's
                "starting",    "started",  "stopping",      "stopped",    "startup",
                "session-end", "xsession", "desktop-start", "desktop-end"} {}

void EventSources::addJob(const model::JobClass& job) {
    jobs_.insert(job.name);
    patterns_.insert(patterns_.end(), job.emits.begin(), job.emits.end());
}

void EventSources::addJobName(std::string name) {
    jobs_.insert(std::move(name));
}

void EventSources::assumeEvents(std::string pattern) {
    patterns_.push_back(std::move(pattern));
}

void EventSources::assumeJobs(std::string pattern) {
    job_patterns_.push_back(std::move(pattern));
}

void EventSources::setLoadedPlugins(const std::vector<PluginEvents>& plugins) {
    plugins_known_ = true;
    for (const auto& plugin : plugins) {
        loaded_plugins_.insert(plugin.plugin);
        patterns_.insert(patterns_.end(), plugin.emits.begin(), plugin.emits.end());
    }
}

std::optional<std::string> EventSources::standardPluginFor(std::string_view event) {
    for (const auto& [pattern, plugin] : kStandardPluginEvents) {
        if (globMatches(pattern, event)) {
            return std::string(plugin);
        }
    }
    return std::nullopt;
}

bool EventSources::matchesAnyPattern(std::string_view event) const {
    return std::any_of(patterns_.begin(), patterns_.end(),
                       [&](const std::string& pattern) { return globMatches(pattern, event); });
}

bool EventSources::provided(std::string_view event) const {
    return matchesAnyPattern(event) || (!plugins_known_ && standardPluginFor(event));
}

bool EventSources::canHappen(std::string_view event) const {
    // The supervisor emits `<event>/failed` when a job that an event started fails.
    const std::string_view base = failedBase(event);
    return provided(event) || (!base.empty() && provided(base));
}

std::optional<std::string> EventSources::absentPlugin(std::string_view event) const {
    if (canHappen(event)) {
        return std::nullopt;
    }
    const std::string_view base = failedBase(event);
    auto plugin = standardPluginFor(base.empty() ? event : base);
    if (plugin && loaded_plugins_.contains(*plugin)) {
        return std::nullopt;  // loaded, and it does not emit this one: an unknown event
    }
    return plugin;
}

bool EventSources::jobExists(std::string_view name) const {
    return jobs_.contains(std::string(name)) ||
           std::any_of(job_patterns_.begin(), job_patterns_.end(),
                       [&](const std::string& pattern) { return globMatches(pattern, name); });
}

}  // namespace tend::conf
