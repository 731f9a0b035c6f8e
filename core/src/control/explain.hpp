// SPDX-License-Identifier: MIT
// `explain`: why a job is or is not running, from its start condition's match state, its
// instances' goals and states, its respawn counters and how its last run ended.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "dispatch/supervisor.hpp"

namespace tend::control {

struct Explanation {
    std::string text;
    nlohmann::json json;
};
// `only`: one instance of the job, else all of them.
Explanation explainClass(const dispatch::Supervisor& supervisor, const dispatch::ClassEntry& entry,
                         const dispatch::Job* only);

}  // namespace tend::control
