// SPDX-License-Identifier: MIT
#include "conf/search_path.hpp"

#include <cstdlib>
#include <string_view>

namespace tend::conf {

namespace {

std::string_view env(const char* name) {
    const char* value = std::getenv(name);
    return value == nullptr ? std::string_view{} : std::string_view(value);
}

void appendEach(std::string_view list, std::string_view fallback,
                std::vector<std::filesystem::path>& out) {
    if (list.empty()) {
        list = fallback;
    }
    while (!list.empty()) {
        const auto colon = list.find(':');
        const std::string_view entry = list.substr(0, colon);
        // Relative entries are invalid per the XDG spec and are ignored.
        if (!entry.empty() && entry.front() == '/') {
            out.push_back(std::filesystem::path(entry) / "tend" / "jobs.d");
        }
        if (colon == std::string_view::npos) {
            break;
        }
        list.remove_prefix(colon + 1);
    }
}

}  // namespace

std::vector<std::filesystem::path> defaultJobDirectories() {
    std::vector<std::filesystem::path> dirs;
    std::filesystem::path config_home(env("XDG_CONFIG_HOME"));
    if (config_home.empty() || config_home.is_relative()) {
        config_home = std::filesystem::path(env("HOME")) / ".config";
    }
    dirs.push_back(config_home / "tend" / "jobs.d");
    dirs.push_back(config_home / "upstart");
    appendEach(env("XDG_CONFIG_DIRS"), "/etc/xdg", dirs);
    appendEach(env("XDG_DATA_DIRS"), "/usr/local/share:/usr/share", dirs);
    return dirs;
}

std::vector<std::filesystem::path> existingDirectories(
    const std::vector<std::filesystem::path>& dirs) {
    std::vector<std::filesystem::path> out;
    for (const auto& dir : dirs) {
        std::error_code ec;
        if (std::filesystem::is_directory(dir, ec)) {
            out.push_back(dir);
        }
    }
    return out;
}

}  // namespace tend::conf
