// SPDX-License-Identifier: MIT
// Where plugins come from by default, and what an offline check takes as loaded.
//
// The system directory is found from the running binary, not fixed when tend was configured:
// `<prefix>/<bindir>/tend` reads `<prefix>/<libdir>/tend/plugins.d`, so an install into any
// prefix (`cmake --install --prefix ~/.local`, a package's /usr, a tree moved elsewhere) loads the
// plugins installed beside it. tendctl sits in the same bindir, and finds the same directory.
#pragma once

#include <filesystem>
#include <vector>

#include "conf/event_sources.hpp"

namespace tend::plugin {

// `<the running binary's directory>/<the install's bindir-to-plugins.d path>`, made absolute;
// empty when the binary's own path cannot be read.
std::filesystem::path systemPluginDirectory();

// The user's ($XDG_CONFIG_HOME/tend/plugins.d, else ~/.config/tend/plugins.d) and the system's,
// in that order of precedence.
std::vector<std::filesystem::path> defaultPluginDirectories();

// The events the plugins in `dirs` declare, read from their files without loading them; a name
// found twice counts once, from the first directory. What `tendctl check-config --offline` takes
// as the plugins a tend would load.
std::vector<conf::PluginEvents> installedPluginEvents(
    const std::vector<std::filesystem::path>& dirs);

}  // namespace tend::plugin
