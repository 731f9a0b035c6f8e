// SPDX-License-Identifier: MIT
// `graph`: jobs and events, joined by what starts, stops and emits what, as dot and as JSON.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "dispatch/supervisor.hpp"

namespace tend::control {

struct Graph {
    nlohmann::json json;
    std::string dot;
};
Graph jobGraph(const dispatch::Supervisor& supervisor);

}  // namespace tend::control
