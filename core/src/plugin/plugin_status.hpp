// SPDX-License-Identifier: MIT
// Each plugin's state and why, as the plugin manager reports it and `tendctl plugins` shows it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tend::plugin {

enum class PluginState : std::uint8_t {
    Refused,   // not trusted, no descriptor, or built for another API version: never loaded
    Disabled,  // `disable` in its <name>.conf
    Skipped,   // a plugin of its name runs already, or what it requires does not run
    Pending,   // waiting for the plugins it requires to start
    Starting,  // its factory and start() are running
    Running,
    Failed,   // its code failed to load, threw, or blocked the loop too often
    Stopped,  // unloaded: its file went or changed, or tend is ending
};
// "running", "refused", ...: what `tendctl plugins` prints.
std::string_view pluginStateName(PluginState state);

struct PluginStatus {
    std::string name;  // from the descriptor; the file name when it could not be read
    std::string path;
    std::string version;
    PluginState state = PluginState::Refused;
    std::string reason;  // why it is not running
    std::vector<std::string> requires_plugins;
    std::vector<std::string> provides;
    std::vector<std::string> emits;  // the events it declares (TEND_PLUGIN_EMITS)
    double load_ms = 0;
};

// `tendctl plugins`: one line per plugin, and the same as JSON.
std::string pluginsText(const std::vector<PluginStatus>& plugins);
nlohmann::json pluginsJson(const std::vector<PluginStatus>& plugins);

}  // namespace tend::plugin
