// SPDX-License-Identifier: MIT
// The `import` setting: more of tend's own environment for the global table than the names
// tend imports itself (`setting import "GTK_* QT_QPA_PLATFORMTHEME"` in env-manager.conf).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tend::env_manager {

// The KEY=VALUE entries of `environment` (environ's shape) whose names match one of the blank-
// separated shell patterns in `patterns`.
std::vector<std::string> importedEntries(std::string_view patterns, char* const* environment);

}  // namespace tend::env_manager
