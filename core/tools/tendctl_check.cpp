// SPDX-License-Identifier: MIT
// `tendctl check-config`: works offline, over the job search path or the paths given.
#include "tendctl_check.hpp"

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conf/check.hpp"
#include "conf/search_path.hpp"

namespace tend::ctl {

namespace {

constexpr const char* kUsage =
    "usage: tendctl check-config [-i|--ignore-events LIST] [-w|--warn] [--json] [PATH]...\n"
    "Checks job files (by default the whole job search path) without a running tend: syntax,\n"
    "then events and jobs that nothing provides, conditions that can never be true, and\n"
    "stanzas a user session ignores.\n"
    "  -i, --ignore-events LIST  events (comma-separated, globs allowed) to take as given\n"
    "  -w, --warn                fail (exit 1) on warnings too, not only on errors\n"
    "      --json                print the findings as JSON on stdout\n";

void addEvents(std::string_view list, std::vector<std::string>& out) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string_view event = list.substr(0, comma);
        if (!event.empty()) {
            out.emplace_back(event);
        }
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
}

std::vector<std::filesystem::path> existingJobDirectories() {
    std::vector<std::filesystem::path> dirs;
    for (const auto& dir : tend::conf::defaultJobDirectories()) {
        std::error_code ec;
        if (std::filesystem::is_directory(dir, ec)) {
            dirs.push_back(dir);
        }
    }
    return dirs;
}

}  // namespace

int checkConfig(int argc, char** argv) {
    bool json = false;
    bool warnings_fail = false;
    bool options_done = false;
    tend::conf::CheckOptions options;
    options.lint = true;
    std::vector<std::filesystem::path> paths;
    for (int i = 0; i < argc; ++i) {
        const std::string_view arg = argv[i];
        std::optional<std::string_view> events;
        if (options_done || !arg.starts_with("-") || arg == "-") {
            paths.emplace_back(arg);
        } else if (arg == "--") {
            options_done = true;
        } else if (arg == "--json") {
            json = true;
        } else if (arg == "-w" || arg == "--warn") {
            warnings_fail = true;
        } else if (arg == "-h" || arg == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (arg == "-i" || arg == "--ignore-events") {
            if (i + 1 == argc) {
                std::fprintf(stderr, "tendctl: check-config: option '%s' needs a list of events\n",
                             argv[i]);
                return 2;
            }
            events = argv[++i];
        } else if (arg.starts_with("--ignore-events=")) {
            events = arg.substr(arg.find('=') + 1);
        } else if (arg.starts_with("-i") && !arg.starts_with("--")) {
            events = arg.substr(2);
        } else {
            std::fprintf(stderr, "tendctl: check-config: unknown option '%s'\n%s", argv[i], kUsage);
            return 2;
        }
        if (events) {
            addEvents(*events, options.assumed_events);
        }
    }
    if (paths.empty()) {
        paths = existingJobDirectories();
    } else {
        // The files named are checked against the session they would join.
        options.context = existingJobDirectories();
    }
    const auto registry = tend::conf::StanzaRegistry::withCoreStanzas();
    const auto report = tend::conf::checkPaths(paths, registry, options);
    if (json) {
        std::fputs(report.json(warnings_fail).c_str(), stdout);
    } else {
        std::fputs(report.text().c_str(), stderr);
    }
    return report.failed(warnings_fail) ? 1 : 0;
}

}  // namespace tend::ctl
