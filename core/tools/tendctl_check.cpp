// SPDX-License-Identifier: MIT
// `tendctl check-config`: works offline, over the job search path or the paths given.
#include "tendctl_check.hpp"

#include <cstdio>
#include <filesystem>
#include <string_view>
#include <vector>

#include "conf/check.hpp"
#include "conf/search_path.hpp"

namespace tend::ctl {

int checkConfig(int argc, char** argv) {
    bool json = false;
    std::vector<std::filesystem::path> paths;
    for (int i = 0; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--json") {
            json = true;
        } else if (arg.starts_with("-")) {
            std::fprintf(stderr, "tendctl: check-config: unknown option '%s'\n", argv[i]);
            return 2;
        } else {
            paths.emplace_back(arg);
        }
    }
    if (paths.empty()) {
        for (const auto& dir : tend::conf::defaultJobDirectories()) {
            std::error_code ec;
            if (std::filesystem::is_directory(dir, ec)) {
                paths.push_back(dir);
            }
        }
    }
    const auto registry = tend::conf::StanzaRegistry::withCoreStanzas();
    const auto report = tend::conf::checkPaths(paths, registry);
    std::fputs(json ? report.json().c_str() : report.text().c_str(), json ? stdout : stderr);
    return report.errorCount() == 0 ? 0 : 1;
}

}  // namespace tend::ctl
