// SPDX-License-Identifier: MIT
// What `tendctl plugins` shows: each plugin's name, version, state and why, and its file.
#include "plugin/plugin_status.hpp"

namespace tend::plugin {

using json = nlohmann::json;

std::string_view pluginStateName(PluginState state) {
    switch (state) {
    case PluginState::Refused:
        return "refused";
    case PluginState::Disabled:
        return "disabled";
    case PluginState::Skipped:
        return "skipped";
    case PluginState::Pending:
        return "pending";
    case PluginState::Starting:
        return "starting";
    case PluginState::Running:
        return "running";
    case PluginState::Failed:
        return "failed";
    case PluginState::Stopped:
        return "stopped";
    }
    return "unknown";
}

std::string pluginsText(const std::vector<PluginStatus>& plugins) {
    std::string out;
    for (const auto& plugin : plugins) {
        out += plugin.name + (plugin.version.empty() ? "" : " " + plugin.version) + " " +
               std::string(pluginStateName(plugin.state));
        if (!plugin.reason.empty()) {
            out += ": " + plugin.reason;
        }
        out += " (" + plugin.path + ")\n";
    }
    if (!out.empty()) {
        out.pop_back();
    }
    return out;
}

json pluginsJson(const std::vector<PluginStatus>& plugins) {
    json list = json::array();
    for (const auto& plugin : plugins) {
        list.push_back({{"name", plugin.name},
                        {"version", plugin.version},
                        {"state", pluginStateName(plugin.state)},
                        {"reason", plugin.reason},
                        {"path", plugin.path},
                        {"requires", plugin.requires_plugins},
                        {"provides", plugin.provides},
                        {"emits", plugin.emits},
                        {"load_ms", plugin.load_ms}});
    }
    return list;
}

}  // namespace tend::plugin
