// SPDX-License-Identifier: MIT
#include "env_arguments.hpp"

#include <algorithm>
#include <cstring>

namespace tend::env_manager {

EnvArguments parseEnvArguments(std::string_view command, const std::vector<std::string>& args) {
    EnvArguments parsed;
    bool options_done = false;
    for (const std::string& arg : args) {
        if (options_done || arg.empty() || arg.front() != '-' || arg == "-") {
            parsed.operands.push_back(arg);
        } else if (arg == "--") {
            options_done = true;
        } else if (arg == "-g" || arg == "--global") {
            parsed.global = true;
        } else if (command == "set-env" && (arg == "-r" || arg == "--retain")) {
            parsed.retain = true;
        } else {
            parsed.error = std::string(command) + ": unknown option '" + arg + "'";
            return parsed;
        }
    }
    return parsed;
}

void sortForListing(std::vector<std::string>& entries) {
    std::sort(entries.begin(), entries.end(), [](const std::string& a, const std::string& b) {
        return std::strcoll(a.c_str(), b.c_str()) < 0;
    });
}

}  // namespace tend::env_manager
