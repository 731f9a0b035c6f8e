// SPDX-License-Identifier: MIT
// plugins.d/<name>.conf, in the job files' stanza style: `disable`, `enable`,
// `setting KEY VALUE...`. A missing file means enabled with no settings.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tend/grammar/diagnostic.hpp"

namespace tend::plugin {

struct PluginConf {
    bool enabled = true;
    std::map<std::string, std::string, std::less<>> settings;
    std::vector<std::string> problems;
    bool unread =
        false;  // the file is there but could not be read for want of descriptors or memory
};

PluginConf readPluginConf(const std::filesystem::path& path, const std::string& name);
// The same, from text already read (`source` names the file in problems).
PluginConf parsePluginConf(const grammar::SourceText& source, const std::string& name);

}  // namespace tend::plugin
