// SPDX-License-Identifier: MIT
#pragma once

#include <functional>
#include <optional>

#include <nlohmann/json.hpp>

namespace tend::ctl {

// Sends one request to the running tend and returns its reply; nothing when no tend answers.
using AskTend = std::function<std::optional<nlohmann::json>(const nlohmann::json& request)>;

// Runs `tendctl check-config ARGS...`; returns tendctl's exit status. A running tend checks the
// files itself, with the stanzas its plugins add; without one (or with --offline) tendctl checks
// them on its own.
int checkConfig(int argc, char** argv, const AskTend& ask);

}  // namespace tend::ctl
