// SPDX-License-Identifier: MIT
// Reading a plugin's descriptor straight from its ELF file, without loading it: no plugin code
// runs before tend has checked the API version, the dependencies and that the file is whole
// (a half-copied .so would crash dlopen with SIGBUS).
#pragma once

#include <filesystem>
#include <string>
#include <variant>
#include <vector>

namespace tend::plugin {

struct Descriptor {
    std::string name;
    std::string version;
    int api_version = 0;
    std::vector<std::string> requires_plugins;
    std::vector<std::string> optional_plugins;
    std::vector<std::string> provides;
    std::vector<std::string> emits;  // the events it emits (TEND_PLUGIN_EMITS), as globs
};

// The descriptor, or why the file is not a loadable plugin.
std::variant<Descriptor, std::string> readDescriptor(const std::filesystem::path& path);

// Parses the .tend_plugin section: the descriptor TEND_PLUGIN writes ("tend-plugin\nname=...")
// and the event list of TEND_PLUGIN_EMITS ("tend-plugin-emits\nemits=...").
std::variant<Descriptor, std::string> parseDescriptor(std::string_view text);

}  // namespace tend::plugin
