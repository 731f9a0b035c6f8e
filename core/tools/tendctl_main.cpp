// SPDX-License-Identifier: MIT
// tendctl: controls tend the way initctl controlled Upstart. Commands that need a running tend
// are refused with a clear message until the control socket lands; `check-config` works offline
// over the job search path.
#include <cstdio>
#include <filesystem>
#include <string_view>
#include <vector>

#include "conf/check.hpp"
#include "conf/search_path.hpp"

namespace {

constexpr const char* kUsage =
    "usage: tendctl COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "  check-config [--json] [PATH...]  check job files; default: the job search path\n"
    "  version                          print tendctl's version\n";

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

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    const std::string_view command = argv[1];
    if (command == "check-config") {
        return checkConfig(argc - 2, argv + 2);
    }
    if (command == "version" || command == "--version") {
        std::printf("tendctl %s\n", TEND_VERSION);
        return 0;
    }
    if (command == "help" || command == "--help" || command == "-h") {
        std::fputs(kUsage, stdout);
        return 0;
    }
    std::fprintf(stderr,
                 "tendctl: '%s' needs a running tend, and this build of tend has no control "
                 "socket yet\n",
                 argv[1]);
    return 1;
}
