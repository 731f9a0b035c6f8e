// SPDX-License-Identifier: MIT
// A plugin's control request, answered as tendctl's would be (plugin_options.run_control).
#pragma once

#include <functional>

#include <nlohmann/json.hpp>

namespace tend::control {
class ControlServer;
}

namespace tend::daemon {

void runInProcess(control::ControlServer& server, nlohmann::json request,
                  std::function<void(nlohmann::json)> reply);

}  // namespace tend::daemon
