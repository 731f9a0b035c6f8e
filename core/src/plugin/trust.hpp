// SPDX-License-Identifier: MIT
// Only files nobody else can change may run inside tend: a plugin's directory and file must be
// owned by the user or root and writable by no group or other user.
#pragma once

#include <filesystem>
#include <string>

namespace tend::plugin {

// Why `path` may not be trusted; empty when it may.
std::string untrusted(const std::filesystem::path& path);

}  // namespace tend::plugin
