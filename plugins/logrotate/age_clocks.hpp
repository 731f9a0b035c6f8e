// SPDX-License-Identifier: MIT
// Where each log's age counts from, carried across `tendctl reexec` (the SDK's onReexec): a
// rotation by age is not put off by a re-exec, however often tend is upgraded. One line per
// log, "SECONDS PATH", seconds since the epoch.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

namespace tend::logrotate {

using AgeClocks = std::map<std::string, std::chrono::system_clock::time_point>;

std::string encodeAgeClocks(const AgeClocks& clocks);
// What it can read: a line that is not "SECONDS PATH" is skipped.
AgeClocks decodeAgeClocks(std::string_view text);

}  // namespace tend::logrotate
