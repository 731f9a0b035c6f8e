// SPDX-License-Identifier: MIT
// Signal names as job files write them: `TERM`, `SIGTERM` or a number.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tend::model {

std::optional<int> parseSignal(std::string_view text);
// "TERM" for SIGTERM; the number as text when the signal has no name.
std::string signalName(int signal);

}  // namespace tend::model
