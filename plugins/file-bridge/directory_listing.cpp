// SPDX-License-Identifier: MIT
// Reading directories for the watcher.
#include "directory_listing.hpp"

#include <dirent.h>

#include <algorithm>

#include "watch_spec.hpp"

namespace tend::file_bridge {

bool isDirectory(const std::string& path, struct stat& st) {
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> subdirectories(const std::string& dir) {
    std::vector<std::string> out;
    DIR* stream = ::opendir(dir.c_str());
    if (!stream) {
        return out;
    }
    while (const dirent* entry = ::readdir(stream)) {
        const std::string name = entry->d_name;
        if (name == "." || name == "..") {
            continue;
        }
        bool is_dir = entry->d_type == DT_DIR;
        if (entry->d_type == DT_UNKNOWN) {
            struct stat st {};
            is_dir = ::lstat(joinPath(dir, name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
        }
        if (is_dir) {
            out.push_back(name);
        }
    }
    ::closedir(stream);
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> entriesOf(const std::string& dir) {
    std::vector<std::string> out;
    DIR* stream = ::opendir(dir.c_str());
    if (!stream) {
        return out;
    }
    while (const dirent* entry = ::readdir(stream)) {
        const std::string name = entry->d_name;
        if (name != "." && name != "..") {
            out.push_back(name);
        }
    }
    ::closedir(stream);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace tend::file_bridge
