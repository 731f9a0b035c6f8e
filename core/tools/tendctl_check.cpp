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
#include "control/protocol.hpp"
#include "plugin/plugin_dirs.hpp"

namespace tend::ctl {

namespace {

constexpr const char* kUsage =
    "usage: tendctl check-config [-i|--ignore-events LIST] [-j|--provided-jobs LIST] [-w|--warn]\n"
    "                            [--offline] [--json] [PATH]...\n"
    "Checks job files (by default the whole job search path): syntax, then events and jobs that\n"
    "nothing provides, conditions that can never be true, and stanzas a user session ignores.\n"
    "A running tend does the check, so the stanzas its plugins add are known; without one,\n"
    "tendctl checks the files itself, and takes the plugins installed in the plugin directories\n"
    "as the ones a tend would load.\n"
    "  -i, --ignore-events LIST  events (comma-separated, globs allowed) to take as given\n"
    "  -j, --provided-jobs LIST  jobs (comma-separated, globs allowed) provided elsewhere, whose\n"
    "                            starting/started/stopping/stopped events are taken as given\n"
    "  -w, --warn                fail (exit 1) on warnings too, not only on errors\n"
    "      --offline             check without asking the running tend\n"
    "      --json                print the findings as JSON on stdout\n";

void addNames(std::string_view list, std::vector<std::string>& out) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string_view event = list.substr(0, comma);
        if (!event.empty()) {
            out.emplace_back(event);
        }
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
}

bool mentionsUnknownStanza(const tend::conf::CheckReport& report) {
    for (const auto& file : report.files) {
        for (const auto& finding : file.findings) {
            if (finding.diagnostic.message.starts_with("unknown stanza")) {
                return true;
            }
        }
    }
    return false;
}

// The running tend's verdict, or nothing when there is no tend to ask (or it is one that does not
// know the command yet): then tendctl checks on its own.
std::optional<int> checkWithTend(const std::vector<std::filesystem::path>& paths,
                                 const tend::conf::CheckOptions& options, bool warnings_fail,
                                 bool json, const AskTend& ask) {
    nlohmann::json args = nlohmann::json::array();
    for (const auto& path : paths) {
        args.push_back(path.string());
    }
    nlohmann::json request_options{{"ignore-events", options.assumed_events},
                                   {"provided-jobs", options.provided_jobs},
                                   {"warn", warnings_fail}};
    std::error_code ec;
    if (const auto cwd = std::filesystem::current_path(ec); !ec) {
        request_options["cwd"] = cwd.string();
    }
    const auto reply = ask({{"protocol", tend::control::kProtocolVersion},
                            {"command", "check-config"},
                            {"args", std::move(args)},
                            {"wait", true},
                            {"options", std::move(request_options)}});
    if (!reply || !reply->value("ok", false)) {
        return std::nullopt;
    }
    const auto data = reply->value("data", nlohmann::json::object());
    if (!data.contains("report") || !data.contains("failed")) {
        return std::nullopt;
    }
    if (json) {
        std::fputs(tend::conf::CheckReport::jsonText(data["report"]).c_str(), stdout);
    } else {
        std::fputs(reply->value("output", "").c_str(), stderr);
    }
    return data.value("failed", true) ? 1 : 0;
}

}  // namespace

int checkConfig(int argc, char** argv, const AskTend& ask) {
    bool json = false;
    bool warnings_fail = false;
    bool offline = false;
    bool options_done = false;
    tend::conf::CheckOptions options;
    options.lint = true;
    std::vector<std::filesystem::path> paths;
    // The options that take a comma-separated list: -i/--ignore-events and -j/--provided-jobs,
    // as `-i LIST`, `-iLIST` or `--ignore-events=LIST`.
    struct ListOption {
        std::string_view short_name;
        std::string_view long_name;
        const char* what;
        std::vector<std::string>* into;
    };
    const ListOption list_options[] = {
        {"-i", "--ignore-events", "events", &options.assumed_events},
        {"-j", "--provided-jobs", "jobs", &options.provided_jobs},
    };
    for (int i = 0; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (options_done || !arg.starts_with("-") || arg == "-") {
            paths.emplace_back(arg);
            continue;
        }
        const ListOption* list = nullptr;
        std::optional<std::string_view> value;
        for (const auto& option : list_options) {
            if (arg == option.short_name || arg == option.long_name) {
                if (i + 1 == argc) {
                    std::fprintf(stderr, "tendctl: check-config: option '%s' needs a list of %s\n",
                                 argv[i], option.what);
                    return 2;
                }
                list = &option;
                value = argv[++i];
            } else if (arg.starts_with(std::string(option.long_name) + "=")) {
                list = &option;
                value = arg.substr(arg.find('=') + 1);
            } else if (arg.starts_with(option.short_name) && !arg.starts_with("--")) {
                list = &option;
                value = arg.substr(2);
            }
        }
        if (list) {
            addNames(*value, *list->into);
        } else if (arg == "--") {
            options_done = true;
        } else if (arg == "--json") {
            json = true;
        } else if (arg == "--offline") {
            offline = true;
        } else if (arg == "-w" || arg == "--warn") {
            warnings_fail = true;
        } else if (arg == "-h" || arg == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else {
            std::fprintf(stderr, "tendctl: check-config: unknown option '%s'\n%s", argv[i], kUsage);
            return 2;
        }
    }
    if (!offline && ask) {
        if (const auto status = checkWithTend(paths, options, warnings_fail, json, ask)) {
            return *status;
        }
    }
    if (paths.empty()) {
        paths = tend::conf::existingDirectories(tend::conf::defaultJobDirectories());
    } else {
        // The files named are checked against the session they would join.
        options.context = tend::conf::existingDirectories(tend::conf::defaultJobDirectories());
    }
    options.loaded_plugins =
        tend::plugin::installedPluginEvents(tend::plugin::defaultPluginDirectories());
    const auto registry = tend::conf::StanzaRegistry::withCoreStanzas();
    const auto report = tend::conf::checkPaths(paths, registry, options);
    if (json) {
        std::fputs(report.json(warnings_fail).c_str(), stdout);
    } else {
        std::fputs(report.text().c_str(), stderr);
        if (mentionsUnknownStanza(report)) {
            std::fputs(
                "note: checked without a running tend, so stanzas that plugins add are "
                "unknown here\n",
                stderr);
        }
    }
    return report.failed(warnings_fail) ? 1 : 0;
}

}  // namespace tend::ctl
