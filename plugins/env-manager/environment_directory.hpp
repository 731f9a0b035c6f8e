// SPDX-License-Identifier: MIT
// The environment.d directory ($XDG_CONFIG_HOME/tend/environment.d): its `*.conf` files, read
// in lexical order at start and again whenever the directory changes (inotify through the
// host's loop), applied to the global table as a FileLayer. Bad lines go to tend's log.
#pragma once

#include <tend/plugin/plugin.hpp>

#include <filesystem>

#include "file_layer.hpp"

namespace tend::env_manager {

class EnvironmentDirectory {
  public:
    EnvironmentDirectory(plugin::PluginHost& host, std::filesystem::path dir);
    ~EnvironmentDirectory();
    EnvironmentDirectory(const EnvironmentDirectory&) = delete;
    EnvironmentDirectory& operator=(const EnvironmentDirectory&) = delete;

    // Reads the files, applies them, and watches the directory (or, while it does not exist,
    // its parent, for it to appear).
    void start();
    // Reads the files again and applies what changed.
    void reload();
    // The global table was reset: the files apply afresh.
    void afterReset() {
        layer_.forget();
        reload();
    }

  private:
    void watch();
    void onReadable();

    plugin::PluginHost& host_;
    std::filesystem::path dir_;
    int fd_ = -1;
    int dir_watch_ = -1;
    int parent_watch_ = -1;
    plugin::Registration registration_;
    FileLayer layer_;
};

// $XDG_CONFIG_HOME/tend/environment.d, or ~/.config/tend/environment.d, in tend's environment.
std::filesystem::path defaultEnvironmentDirectory();

}  // namespace tend::env_manager
