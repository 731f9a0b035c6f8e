// SPDX-License-Identifier: MIT
// `explain`: why a job is or is not running, from its start condition's match state, its
// instances' goals and states, its respawn counters and how its last run ended.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conf/event_sources.hpp"
#include "dispatch/supervisor.hpp"

namespace tend::control {

struct Explanation {
    std::string text;
    nlohmann::json json;
};
// `only`: one instance of the job, else all of them. `plugins`: the plugins that run and the
// events they declare, so that an awaited event no loaded plugin emits says which plugin it needs.
Explanation explainClass(const dispatch::Supervisor& supervisor, const dispatch::ClassEntry& entry,
                         const dispatch::Job* only,
                         const std::optional<std::vector<conf::PluginEvents>>& plugins);

}  // namespace tend::control
