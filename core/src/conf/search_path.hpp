// SPDX-License-Identifier: MIT
// Where job files live in a user session, first directory first (the first one holding a name
// owns it): $XDG_CONFIG_HOME/tend/jobs.d, $XDG_CONFIG_HOME/upstart, each
// $XDG_CONFIG_DIRS/tend/jobs.d, each $XDG_DATA_DIRS/tend/jobs.d.
#pragma once

#include <filesystem>
#include <vector>

namespace tend::conf {

std::vector<std::filesystem::path> defaultJobDirectories();
// The directories of `dirs` that exist now, in order.
std::vector<std::filesystem::path> existingDirectories(
    const std::vector<std::filesystem::path>& dirs);

}  // namespace tend::conf
