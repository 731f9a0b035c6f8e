// SPDX-License-Identifier: MIT
// Reading directories for the watcher: what is there when a watch begins.
#pragma once

#include <sys/stat.h>

#include <string>
#include <vector>

namespace tend::file_bridge {

// Whether `path` is a directory (following symbolic links), with its stat in `st`.
bool isDirectory(const std::string& path, struct stat& st);
// The subdirectories of `dir`, sorted, without following symbolic links (a tree may not loop).
std::vector<std::string> subdirectories(const std::string& dir);
// Every entry of `dir` but `.` and `..`, sorted.
std::vector<std::string> entriesOf(const std::string& dir);

}  // namespace tend::file_bridge
