// SPDX-License-Identifier: MIT
// What the plugin manager keeps for each plugin file it found: where it is, its descriptor and
// configuration, its state and why, and, while it runs, the loaded library, the host it was
// given and the plugin itself.
#pragma once

#include <boost/dll/shared_library.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "plugin/descriptor.hpp"
#include "plugin/plugin_conf.hpp"
#include "plugin/plugin_manager.hpp"
#include "sys/file_stamp.hpp"
#include "tend/plugin/plugin.hpp"

namespace tend::plugin {

struct PluginRecord {
    std::filesystem::path path;
    sys::FileStamp stamp{};
    Descriptor descriptor;
    PluginConf conf;
    std::filesystem::path conf_path;  // where `conf` was read from (or would be)
    sys::FileStamp conf_stamp{};      // zero while there is no such file
    PluginState state = PluginState::Refused;
    std::string reason;
    double load_ms = 0;
    int overruns = 0;
    bool failing = false;  // a guarded call failed; the teardown is on its way
    std::function<std::string()> save_for_reexec;  // the plugin's onReexec, the plugin's code
    // Destroyed bottom-up: the plugin first, then its host (its registrations), then the code.
    boost::dll::shared_library library;
    std::unique_ptr<PluginManager::Host> host;
    std::unique_ptr<Plugin> plugin;
};

}  // namespace tend::plugin
