// SPDX-License-Identifier: MIT
// `show-config`: each job's emits, start on and stop on, in initctl's layout, conditions in
// canonical form (`-e`: one line per event).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "model/job_class.hpp"

namespace tend::control {

std::string showConfigText(const model::JobClass& cls, bool enumerate);
nlohmann::json showConfigJson(const model::JobClass& cls);

// One MATCH node as job-file text: `started dbus`, `file FILE=~/x EVENT=create`.
std::string matchText(const grammar::EventMatch& match);

}  // namespace tend::control
