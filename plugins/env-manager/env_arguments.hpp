// SPDX-License-Identifier: MIT
// The arguments of the env commands, as initctl took them: `-g`/`--global` for every command,
// `-r`/`--retain` for set-env, then the names (or KEY=VALUE entries).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tend::env_manager {

struct EnvArguments {
    bool global = false;
    bool retain = false;
    std::vector<std::string> operands;
    std::string error;  // set when the arguments make no sense; nothing else is then
};

// `command` is the command's name ("set-env"): only set-env takes --retain.
EnvArguments parseEnvArguments(std::string_view command, const std::vector<std::string>& args);

// Orders KEY=VALUE lines as initctl's list-env did: strcoll(3) over the whole line.
void sortForListing(std::vector<std::string>& entries);

}  // namespace tend::env_manager
