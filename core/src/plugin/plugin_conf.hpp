// SPDX-License-Identifier: MIT
// plugins.d/<name>.conf, in the job files' stanza style: `disable`, `enable`,
// `setting KEY VALUE...`. A missing file means enabled with no settings.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace tend::plugin {

struct PluginConf {
    bool enabled = true;
    std::map<std::string, std::string, std::less<>> settings;
    std::vector<std::string> problems;
};

PluginConf readPluginConf(const std::filesystem::path& path, const std::string& name);

}  // namespace tend::plugin
