// SPDX-License-Identifier: MIT
// `tendctl env explain VAR [JOB [INSTANCE]]` (where a value comes from) and `tendctl env diff
// JOB [INSTANCE]` (how a running job's environment differs from what it would get now).
#pragma once

#include <tend/plugin/plugin.hpp>

#include <string>
#include <vector>

namespace tend::env_manager {

// "imported from tend's own environment", "from environment.d file F:L, at TIME", ...
std::string describeOrigin(const plugin::EnvironmentOrigin& origin);

// The `env` command: its subcommands, over the host's tables.
plugin::CommandReply envCommand(plugin::PluginHost& host, const std::vector<std::string>& args);

}  // namespace tend::env_manager
