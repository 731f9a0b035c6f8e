// SPDX-License-Identifier: MIT
#include "daemon/upstart_shortcuts.hpp"

#include <filesystem>
#include <string_view>

namespace fs = std::filesystem;

namespace tend::daemon {

bool upstartShortcutsInstalled(const std::string& path_variable) {
    std::error_code ec;
    const fs::path binary = fs::read_symlink("/proc/self/exe", ec);
    if (ec) {
        return false;
    }
    const fs::path tendctl = binary.parent_path() / "tendctl";
    std::string_view rest = path_variable;
    while (!rest.empty()) {
        const std::size_t colon = rest.find(':');
        const std::string_view dir = rest.substr(0, colon);
        rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
        if (dir.empty() || dir.front() != '/') {
            continue;  // a relative PATH entry depends on a job's working directory
        }
        const fs::path initctl = fs::path(dir) / "initctl";
        if (fs::exists(initctl, ec)) {
            // The first initctl on the PATH is the one a job runs.
            return fs::equivalent(initctl, tendctl, ec);
        }
    }
    return false;
}

}  // namespace tend::daemon
