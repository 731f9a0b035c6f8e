// SPDX-License-Identifier: MIT
#include "plugin/plugin_dirs.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <string>
#include <variant>

#include "plugin/descriptor.hpp"

namespace fs = std::filesystem;

namespace tend::plugin {

fs::path systemPluginDirectory() {
    std::error_code ec;
    const fs::path binary = fs::read_symlink("/proc/self/exe", ec);
    if (ec || binary.empty()) {
        return {};
    }
    return (binary.parent_path() / TEND_PLUGIN_RELDIR).lexically_normal();
}

std::vector<fs::path> defaultPluginDirectories() {
    fs::path config_home;
    if (const char* value = std::getenv("XDG_CONFIG_HOME"); value && *value == '/') {
        config_home = value;
    } else {
        const char* home = std::getenv("HOME");
        config_home = fs::path(home && *home ? home : "/") / ".config";
    }
    std::vector<fs::path> dirs{config_home / "tend" / "plugins.d"};
    if (fs::path system = systemPluginDirectory(); !system.empty()) {
        dirs.push_back(std::move(system));
    }
    return dirs;
}

std::vector<conf::PluginEvents> installedPluginEvents(const std::vector<fs::path>& dirs) {
    std::vector<conf::PluginEvents> out;
    std::set<std::string> seen;
    for (const auto& dir : dirs) {
        std::error_code ec;
        std::vector<fs::path> files;
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
            if (it->path().extension() == ".so") {
                files.push_back(it->path());
            }
        }
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            auto read = readDescriptor(file);
            if (auto* descriptor = std::get_if<Descriptor>(&read);
                descriptor && seen.insert(descriptor->name).second) {
                out.push_back({descriptor->name, descriptor->emits});
            }
        }
    }
    return out;
}

}  // namespace tend::plugin
