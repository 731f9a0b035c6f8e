// SPDX-License-Identifier: MIT
#include "conf/event_sources.hpp"

#include <fnmatch.h>

#include <algorithm>

namespace tend::conf {

namespace {

constexpr std::string_view kFailedSuffix = "/failed";

}  // namespace

EventSources::EventSources()
    : patterns_{// tend itself: the lifecycle events of every job, the session's start and end
                "starting", "started", "stopping", "stopped", "startup", "session-end",
                // the file and D-Bus bridges
                "file", "dbus"} {}

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

bool EventSources::matchesAnyPattern(std::string_view event) const {
    const std::string name(event);
    return std::any_of(patterns_.begin(), patterns_.end(), [&](const std::string& pattern) {
        return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
    });
}

bool EventSources::canHappen(std::string_view event) const {
    if (matchesAnyPattern(event)) {
        return true;
    }
    // The supervisor emits `<event>/failed` when a job that an event started fails, but never
    // `<event>/failed/failed`.
    if (!event.ends_with(kFailedSuffix)) {
        return false;
    }
    const std::string_view base = event.substr(0, event.size() - kFailedSuffix.size());
    return !base.empty() && !base.ends_with(kFailedSuffix) && matchesAnyPattern(base);
}

}  // namespace tend::conf
