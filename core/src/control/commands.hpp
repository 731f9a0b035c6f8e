// SPDX-License-Identifier: MIT
// What each control command answers, as text for people and as JSON for scripts. The field
// names here are the ones docs/control.md promises; add fields, never rename them.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "dispatch/supervisor.hpp"

namespace tend::control {

// {"job","instance","goal","state","processes":[{"process","pid"}],"respawns"}
nlohmann::json jobJson(const dispatch::Job& job);
// {"job","instances":[jobJson...]}; a job with no instance has none.
nlohmann::json classJson(const dispatch::ClassEntry& entry);

// Stream lines for `monitor`.
nlohmann::json monitorEventMessage(const model::Event& event);
nlohmann::json monitorTransitionMessage(const dispatch::Supervisor::Transition& change);

// `show-config`: Upstart's layout, conditions in canonical form (`-e`: one line per event).
std::string showConfigText(const model::JobClass& cls, bool enumerate);
nlohmann::json showConfigJson(const model::JobClass& cls);

// `graph`: jobs and events, joined by what starts, stops and emits what.
struct Graph {
    nlohmann::json json;
    std::string dot;
};
Graph jobGraph(const dispatch::Supervisor& supervisor);

// `explain`: why a job is or is not running.
struct Explanation {
    std::string text;
    nlohmann::json json;
};
Explanation explainClass(const dispatch::Supervisor& supervisor, const dispatch::ClassEntry& entry,
                         const dispatch::Job* only);

// One MATCH node as job-file text: `started dbus`, `file FILE=~/x EVENT=create`.
std::string matchText(const grammar::EventMatch& match);

}  // namespace tend::control
