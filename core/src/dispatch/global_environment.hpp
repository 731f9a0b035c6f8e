// SPDX-License-Identifier: MIT
// The global job environment as generations: each change makes a new one (copy on write), so
// that an instance can keep, for the price of a pointer, the generation its processes were
// started from, and `tendctl status` can tell which variables have changed under it. Every
// variable carries where its value came from, for `tendctl env explain`.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "model/environment.hpp"

namespace tend::dispatch {

// Where a value came from. `kind` is one of "session" (imported from tend's own environment),
// "environment.d", "set-env", "plugin", "env stanza", "event", "start"; `detail` says more
// (the file:line, the event's name, the plugin's name).
struct VariableOrigin {
    std::string kind;
    std::string detail;
    std::string job;  // set-env run inside a job's process: that instance
    std::string instance;
    int pid = 0;  // set-env: the process that asked
    std::chrono::system_clock::time_point time{};
    std::string value;  // the value it gave, so that a later change elsewhere is told apart
};

using OriginTable = std::map<std::string, VariableOrigin, std::less<>>;

struct GlobalEnvironment {
    model::Environment env;
    OriginTable origins;  // by name, for every variable of env
};

}  // namespace tend::dispatch
